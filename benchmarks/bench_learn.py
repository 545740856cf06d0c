"""Teach it your ears at catalog scale: fitting a listener's metric, making its index, searching with it.

A seeded synthetic catalog of 1728-d vectors (benchmarks/synthetic.py: genres, artists, albums) with a planted
attribute (half the tracks moved along one direction) that a simulated listener hears: triplets drawn as the
page draws them (a track and the two of its 10 nearest the cosine is least sure about), answered by the
attribute until ANSWERS are not "can't say". Then, in the same run:
- fitting (storage.listeners.metrics.fit: principal subspace from a sample, cross-validated choice, nested held-out
  agreement, the artefact written): seconds, against the target of 10 s at 100k tracks on 2 cores;
- the learned index (storage.listeners.metrics.derive_index) against the plain index built from the same vectors by the
  same writer (storage.index.vectors.write_index, no map for either), alternating, best of ROUNDS: the ratio;
- query latency, plain index against the learned one (VectorIndex.search, k = 10, the same query tracks
  interleaved): p50/p99 and the ratio. The search service around it does the same database work for both.

With `--real`: the same questions on real music and real weights instead: the four Debian game soundtracks of
bench_quality.py (93 tracks) built with MusiCNN (MTT, the musicnn wheel's weights) by the real indexer; a
simulated listener who hears only the soundtrack answers, through the functions the page calls, until
`--answers` odd-one-out answers; then the held-out agreement `indexer learn` reports, agreement on triplets
never asked, and precision@10 by soundtrack (`indexer evaluate`), plain cosine against "my ears".

    python benchmarks/bench_learn.py [--tracks 100000] [--answers 200] [--queries 300]
    python benchmarks/bench_learn.py --real --answers 50
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
from storage.index.vectors import VectorIndex, normalise, write_index  # noqa: E402
from storage.listeners.answers import Judgement  # noqa: E402
from storage.listeners.metrics import derive_index, fit  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402
from storage.search.asking import uncertainty_gap  # noqa: E402
from tests.learning_catalog import listener_by  # noqa: E402

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
    odd_one = listener_by(dict(zip(np.asarray(index.ids).tolist(), attribute.tolist(), strict=True)))
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
        if (odd := odd_one(triplet)) is not None:
            out.append(Judgement("bench", triplet, odd=odd))
    return out


def build_plain(model_dir: Path, vectors: np.ndarray) -> float:
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    meta = {"model": "mule", "revision": "bench", "vectors_version": 1}
    started = time.perf_counter()
    write_index(model_dir, iter([(ids, vectors)]), len(vectors), DIM, meta)
    return time.perf_counter() - started


def real_music(answers: int) -> None:
    from benchmarks.bench_quality import build, catalog_folder
    from storage.listeners.fitting import agreement
    from storage.read.catalog import Catalog
    from storage.search.asking import next_triplet
    from storage.search.evaluation import evaluate_model
    from storage.write.store import Store
    from tests import real_data

    with tempfile.TemporaryDirectory(prefix="soundalike-learn-") as tmp:
        files, _ = catalog_folder(Path(tmp) / "catalog", 0.0)
        data = Path(tmp) / "data"
        build(files, data, "musicnn", str(real_data.musicnn_wheel()), variant="mtt")
        catalog, store = Catalog.open(data, "musicnn"), Store(data)
        soundtrack = {t.id: Path(t.path).parent.name for t in catalog.all_tracks()}
        odd_one = listener_by(soundtrack)
        rng, asked, given = np.random.default_rng(0), 0, 0
        while given < answers:  # what app.teach's next_question and keep_answer do for the page
            triplet = next_triplet(catalog, "listener", rng)
            assert triplet is not None, "no questions left"
            odd = odd_one(triplet)  # all alike, or all different: can't say
            store.add_triplet("listener", triplet, odd)
            asked, given = asked + 1, given + (odd is not None)
        metric, _ = store.learn("musicnn", "listener")
        print(f"{len(files)} real tracks (4 soundtracks), MusiCNN MTT; {asked} questions, {given} odd-one-out answers")
        print(f"  {metric.info.describe()}")
        mine = catalog.with_metric("listener") if metric.info.learned else catalog
        unseen = never_asked(catalog, soundtrack, catalog.asked("listener"))
        for name, searched in (("plain cosine", catalog), ("my ears", mine)):
            index = searched.index()
            rows = index.rows(unseen.ravel()).reshape(unseen.shape)
            agree = float(agreement(np.asarray(index.vectors[np.arange(len(index.ids))]), rows).mean())
            score = evaluate_model(searched, soundtrack, {}, k=10)
            print(
                f"  {name:12}: agreement on {len(unseen)} triplets never asked {agree:.2f}, "
                f"precision@10 by soundtrack {score.precision_at_k:.3f}, MAP@10 {score.map:.3f}"
            )


def never_asked(catalog: Catalog, soundtrack: dict[int, str], asked: set[frozenset[int]]) -> np.ndarray:
    """(kept, kept, odd) of every answerable triplet of a track and two of its 10 nearest, never asked."""
    index, found, odd_one = catalog.index(), [], listener_by(soundtrack)
    for anchor in np.asarray(index.ids).tolist():
        near, _ = index.search(np.asarray(index.vectors[index.rows(np.array([anchor]))[0]]), 10, exclude=[anchor])
        for b, c in combinations(near.tolist(), 2):
            triplet = (anchor, b, c)
            odd = odd_one(triplet)
            if odd is not None and frozenset(triplet) not in asked:
                found.append((*(t for t in triplet if t != odd), odd))
    return np.array(found, np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--real", action="store_true", help="real music and weights instead (see above)")
    args = parser.parse_args()
    if args.real:
        real_music(args.answers)
        return
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
