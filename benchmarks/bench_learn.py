"""Teach it your ears at catalog scale: fitting a listener's metric, making its index, searching with it.

A seeded synthetic catalog of 1728-d vectors (benchmarks/synthetic.py: genres, artists, albums) with a planted
attribute (half the tracks moved along one direction) that a simulated listener hears: triplets drawn as the
page draws them (a track and the two of its 10 nearest the cosine is least sure about), answered by the
attribute until ANSWERS are not "can't say". Then, in the same run:
- fitting (storage.learned.fit: principal subspace from a sample, cross-validated choice, nested held-out
  agreement, the artefact written): seconds, against the target of 10 s at 100k tracks on 2 cores;
- the learned index (storage.learned.derive_index) against the plain index built from the same vectors by the
  same writer (storage.vectors.write_index, no map for either), alternating, best of ROUNDS: the ratio;
- query latency, plain index against the learned one (VectorIndex.search, k = 10, the same query tracks
  interleaved): p50/p99 and the ratio. The search service around it does the same database work for both.

    python benchmarks/bench_learn.py [--tracks 100000] [--answers 200] [--queries 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import SyntheticCatalog  # noqa: E402
from storage.answers import Judgement  # noqa: E402
from storage.asking import uncertainty_gap  # noqa: E402
from storage.learned import derive_index, fit  # noqa: E402
from storage.vectors import VectorIndex, normalise, write_index  # noqa: E402

DIM = 1728
ROUNDS = 2
STRENGTH = 0.04  # how far the attribute moves a unit vector: faint beside the genre/artist/album structure


def planted(tracks: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(unit vectors, attribute 0/1 per track)."""
    vectors = SyntheticCatalog(tracks, DIM, seed).vectors()
    rng = np.random.default_rng(seed + 1)
    direction = normalise(rng.standard_normal((1, DIM)))[0]
    attribute = rng.integers(0, 2, tracks)
    vectors += STRENGTH * np.where(attribute[:, None] == 1, 1.0, -1.0) * direction
    return normalise(vectors), attribute


def simulated_answers(index: VectorIndex, attribute: np.ndarray, wanted: int, seed: int = 0) -> list[Judgement]:
    """`wanted` odd-one-out answers by the attribute, on triplets chosen as the page chooses them."""
    rng = np.random.default_rng(seed)
    out: list[Judgement] = []
    asked: set[frozenset[int]] = set()
    while len(out) < wanted:
        anchor = int(rng.integers(len(index.ids)))
        near, _ = index.search(np.asarray(index.vectors[anchor]), 10, exclude=[int(index.ids[anchor])])
        found = np.asarray(index.vectors[index.rows(near)])
        pairs = list(combinations(range(len(near)), 2))
        gaps = [uncertainty_gap(np.stack([index.vectors[anchor], found[b], found[c]])) for b, c in pairs]
        b, c = pairs[int(np.argmin(gaps))]
        triplet = (int(index.ids[anchor]), int(near[b]), int(near[c]))
        if frozenset(triplet) in asked:
            continue
        asked.add(frozenset(triplet))
        values = [attribute[index.rows(np.array([t]))[0]] for t in triplet]
        lonely = [t for t, v in zip(triplet, values, strict=True) if values.count(v) == 1]
        if lonely:
            out.append(Judgement("bench", triplet, odd=lonely[0]))
    return out


def build_plain(model_dir: Path, vectors: np.ndarray) -> float:
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    meta = {"model": "mule", "revision": "bench", "vectors_version": 1}
    started = time.perf_counter()
    write_index(model_dir, iter([(ids, vectors)]), len(vectors), DIM, meta)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    vectors, attribute = planted(args.tracks)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        plain_dir = data / "index" / "mule"
        build_plain(plain_dir, vectors)
        index = VectorIndex.open_current(plain_dir)
        judgements = simulated_answers(index, attribute, args.answers)

        started = time.perf_counter()
        metric = fit(data, index, "bench", judgements)
        fitting = time.perf_counter() - started
        info = metric.info
        print(f"{args.tracks:,} tracks, {info.triplets} answers: fit {fitting:.2f} s (target ≤ 10 s on 2 cores)")
        print(f"  held-out agreement {info.agreement_before:.2f} (plain cosine) → {info.agreement_after:.2f} (learned)")
        print(f"  stretch k = {info.strength:g} along {info.rank} direction(s)")
        if not info.learned:
            print("  the answers did not beat the plain cosine: no learned index to time")
            return

        plain_times, learned_times = [], []
        for _ in range(ROUNDS):
            plain_times.append(build_plain(plain_dir, vectors))
            index = VectorIndex.open_current(plain_dir)
            started = time.perf_counter()
            derive_index(metric, index)
            learned_times.append(time.perf_counter() - started)
        ratio = min(learned_times) / min(plain_times)
        print(
            f"index build: plain {min(plain_times):.2f} s, learned {min(learned_times):.2f} s "
            f"(best of {ROUNDS}): ratio {ratio:.2f} (target ≈ 1)"
        )

        mine = VectorIndex.open_current(metric.index_dir)
        rng = np.random.default_rng(3)
        rows = rng.integers(0, args.tracks, args.queries)
        times: dict[str, list[float]] = {"plain": [], "learned": []}
        for row in rows:
            query = vectors[row]
            for name, searched in (("plain", index), ("learned", mine)):
                started = time.perf_counter()
                searched.search(query, 10, exclude=[int(row) + 1])
                times[name].append(time.perf_counter() - started)
        p50 = {name: float(np.percentile(t, 50)) * 1000 for name, t in times.items()}
        p99 = {name: float(np.percentile(t, 99)) * 1000 for name, t in times.items()}
        print(
            f"query (k=10, {args.queries} queries): plain p50 {p50['plain']:.2f} ms p99 {p99['plain']:.2f} ms, "
            f"learned p50 {p50['learned']:.2f} ms p99 {p99['learned']:.2f} ms: "
            f"ratio {p50['learned'] / p50['plain']:.3f} (target ≤ 1.10)"
        )


if __name__ == "__main__":
    main()
