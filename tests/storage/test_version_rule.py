"""The per-model threshold for other versions: read from the catalog's own pairs and copies."""

from __future__ import annotations

import numpy as np

from storage.recordings.other_versions import MIN_COPIES, fit


def test_the_threshold_follows_the_catalogs_tail_and_needs_its_copies_above():
    pairs = np.sort(np.random.default_rng(0).normal(0.3, 0.1, 200_000)).astype(np.float32)
    rule = fit(pairs, np.array([0.95, 0.97, 0.99, 0.98]), tracks=1000)
    assert rule.threshold is not None and 0.6 < rule.threshold < 0.8  # 1 in 10,000 different pairs above
    assert rule.different_above <= 0.1 / 999 + 1 / len(pairs) and rule.copies_above == 1.0
    bigger = fit(pairs, np.array([0.95, 0.97, 0.99, 0.98]), tracks=100_000)
    assert bigger.threshold is not None and bigger.threshold > rule.threshold  # more tracks: rarer still
    scattered = fit(pairs, np.array([0.5, 0.6, 0.99, 0.4]), tracks=1000)  # copies as far as strangers
    assert scattered.threshold is None and "no embedding threshold" in scattered.describe("m")
    few = fit(pairs, np.array([0.99] * (MIN_COPIES - 1)), tracks=1000)
    assert few.threshold is None and "copy pair(s)" in few.describe("m")
    assert fit(None, np.array([0.99] * 5), tracks=10).threshold is None
    assert "other versions at cosine" in rule.describe("musicnn")
