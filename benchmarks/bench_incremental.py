"""New tracks in a big catalog: an index update (storage.index.increments) against a full rebuild, in one run.

For each size, a seeded catalog-shaped synthetic catalog (benchmarks/synthetic.py, 1728-d like MULE) is
indexed in full with its map, hub statistics (up to 200k) and pair sample: the named baseline, the work
every change cost before updates existed. Then ADDED new tracks (and REMOVED removed ones) are applied:

- `layer`: the update `indexer build` makes; the new build is swapped in when it returns, with its map,
  hubs and pairs current, so "searchable" and "every derived file current" are the same moment for the
  track index. Printed: seconds, the ratio to the full build, and recall@10 of its answers against exact
  float32 search of the changed catalog for QUERIES queries (20 of them the new tracks).
- `fold`: the same changes folded into the trained index (what happens once a layer passes its bound).

Both sides read vectors from arrays here, not from the database: the rebuild's own database read (minutes
at 1M: the figures in docs/benchmarks.md) comes on top of it in real life, an update reads only the
changed rows. The segment index is measured at the store level by tests (behaviour), not here.

    python benchmarks/bench_incremental.py --sizes 100000,1000000   # ~20 min and ~12 GB of disk at 1M
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import SyntheticCatalog  # noqa: E402

from storage.index.increments import Changes, update_index  # noqa: E402
from storage.index.vectors import EXACT_MAX, VectorIndex, write_index  # noqa: E402

DIM = 1728
ADDED = 100
REMOVED = 10
QUERIES = 200


def full_build(model_dir: Path, catalog: SyntheticCatalog) -> float:
    """Seconds to index the catalog (ids = row + 1) in full."""
    ids = np.arange(1, catalog.count + 1)

    def chunks():
        row = 0
        for part in catalog.chunks():
            yield ids[row : row + len(part)], part
            row += len(part)

    started = time.perf_counter()
    meta = {"model": "mule", "revision": "bench", "vectors_version": 0}
    write_index(model_dir, chunks(), len(ids), DIM, meta, exact_max=EXACT_MAX, with_map=True)
    return time.perf_counter() - started


def answers(index: VectorIndex, queries: np.ndarray) -> list[set[int]]:
    return [set(index.search(q, 10)[0].tolist()) for q in queries]


def run(count: int, workdir: Path) -> None:
    catalog = SyntheticCatalog(count, DIM, seed=1)
    added = SyntheticCatalog(count + ADDED, DIM, seed=1)  # the same genres and artists; its last rows are new
    new_vectors = np.concatenate(list(added.chunks()))[-ADDED:]
    rng = np.random.default_rng(2)
    removed = np.sort(rng.choice(count, REMOVED, replace=False))

    base_dir = workdir / f"base-{count}"
    baseline = full_build(base_dir, catalog)
    current = VectorIndex.open_current(base_dir)
    print(f"{count:>9,} tracks ({current.meta.kind}): full build {baseline:7.1f} s (the baseline)", flush=True)

    new_ids = np.arange(count + 1, count + 1 + ADDED)
    changes = Changes(new_ids, new_vectors, removed + 1, version=1)
    queries = np.concatenate([new_vectors[:20], current.vectors[rng.choice(count, QUERIES - 20, replace=False)]])

    started = time.perf_counter()
    update_index(base_dir, current, changes, "layer")
    layer_s = time.perf_counter() - started
    layered = VectorIndex.open_current(base_dir)
    layered_answers = answers(layered, queries)

    fold_dir = workdir / f"fold-{count}"
    fold_dir.mkdir()
    (fold_dir / current.name).symlink_to(current.directory)  # the same base, folded into a build of its own
    (fold_dir / "CURRENT").write_text(current.name + "\n\n")
    started = time.perf_counter()
    update_index(fold_dir, VectorIndex.open_current(fold_dir), changes, "fold")
    fold_s = time.perf_counter() - started

    truth = brute_force(catalog, removed, new_vectors, queries)
    recall = np.mean([len(a & b) / 10 for a, b in zip(layered_answers, truth, strict=True)])
    print(
        f"{'':>9}  +{ADDED} -{REMOVED} tracks: layer {layer_s:6.1f} s ({baseline / layer_s:6.0f}x faster than the "
        f"full build), fold {fold_s:6.1f} s ({baseline / fold_s:5.1f}x); layer recall@10 against exact float32 "
        f"search of the changed catalog {recall:.3f}",
        flush=True,
    )


def brute_force(catalog: SyntheticCatalog, removed: np.ndarray, new: np.ndarray, queries: np.ndarray) -> list[set[int]]:
    """The true 10 nearest ids of each query in the changed catalog (float32, every row)."""
    best_ids = np.empty((len(queries), 0), np.int64)
    best = np.empty((len(queries), 0), np.float32)
    row = 0
    parts = [*catalog.chunks(), new]
    for part in parts:
        ids = np.arange(row, row + len(part)) + 1
        scores = queries @ part.T
        scores[:, np.isin(ids - 1, removed) & (ids <= catalog.count)] = -np.inf
        best = np.concatenate([best, scores], axis=1)
        best_ids = np.concatenate([best_ids, np.broadcast_to(ids, scores.shape)], axis=1)
        top = np.argsort(-best, axis=1)[:, :10]
        best, best_ids = np.take_along_axis(best, top, 1), np.take_along_axis(best_ids, top, 1)
        row += len(part)
    return [set(r.tolist()) for r in best_ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one; ~12 GB at 1M)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for count in (int(s) for s in args.sizes.split(",")):
            run(count, Path(tmp))


if __name__ == "__main__":
    main()
