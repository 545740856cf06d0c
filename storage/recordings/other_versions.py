"""Other versions by embedding (a live take, a radio edit: no fingerprint in common), with a threshold each
model's index fits on its own catalog.

Different tracks must almost never reach it: the threshold is the cosine that FALSE_PER_QUERY of a query's
different-track results would exceed by chance, read from the index's sample of random pairs (`pairs.npy`,
in the index's own space). And the model must keep copies together at least that well: the catalog's
fingerprint-confirmed copies (storage.recordings.groups) are measured against it, and when fewer than
MIN_COPIES_ABOVE of them lie at or above it (or there are fewer than MIN_COPIES to tell), the data allow no
embedding threshold and none is used: the model moves one recording's copies as far as different tracks
lie, so it cannot tell another version from another track either. Fingerprint-matched other masters (a
remaster) are labelled whatever the model (storage.recordings.duplicates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FALSE_PER_QUERY = 0.1  # expected different tracks labelled "other version" in one query's results
MIN_COPIES = 3
MIN_COPIES_ABOVE = 0.9


@dataclass(frozen=True)
class VersionRule:
    threshold: float | None  # cosine at or above which a result is another version (None: the data allow none)
    cosine: float  # the cosine the different-track tail asks for, whether used or not
    different_above: float  # share of the different-track pair sample at or above the threshold
    copies: int  # fingerprint-confirmed copy pairs measured
    copies_above: float  # share of them at or above the threshold

    def describe(self, model: str) -> str:
        if self.copies < MIN_COPIES:
            return f"{model}: no embedding threshold for other versions (only {self.copies} copy pair(s) to check one)"
        copies = f"{100 * self.copies_above:.0f}% of {self.copies} fingerprint-confirmed copy pairs"
        tail = f"cosine {self.cosine:.4f}, reached by {100 * self.different_above:.3f}% of different-track pairs"
        if self.threshold is None:
            return f"{model}: no embedding threshold for other versions: only {copies} reach the {tail}"
        return f"{model}: other versions at {tail}; {copies} reach it"


def fit(pairs: np.ndarray | None, copy_cosines: np.ndarray, tracks: int) -> VersionRule:
    """The rule from the sorted pair sample, the copies' cosines and the catalog's size."""
    copies = np.asarray(copy_cosines, np.float64)
    if pairs is None or len(pairs) == 0:
        return VersionRule(None, 1.0, 0.0, len(copies), 0.0)
    allowed = FALSE_PER_QUERY / max(tracks - 1, 1)
    rank = min(len(pairs) - 1, int(np.ceil(len(pairs) * (1.0 - allowed))))
    threshold = float(pairs[rank])  # the sample's resolution bounds how rare "rare" can be read
    different_above = float(np.mean(pairs >= threshold))
    copies_above = float(np.mean(copies >= threshold)) if len(copies) else 0.0
    usable = len(copies) >= MIN_COPIES and copies_above >= MIN_COPIES_ABOVE
    return VersionRule(threshold if usable else None, threshold, different_above, len(copies), copies_above)
