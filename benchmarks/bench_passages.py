"""Matched passages for one query's results: reading the timelines and finding the best pairs.

A store with --tracks tracks of --slices MULE-sized slices (1728-d, stored compact as a build leaves
them: int8 on the model's basis); each query asks for the passages of its k results, as the page and
`storage.query` do.
The baseline in the same run: the same work on timelines already in memory (no database).

    python benchmarks/bench_passages.py [--tracks 200] [--slices 120] [--k 10] [--queries 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.core.passages import best_passage  # noqa: E402
from storage.core.tracks import Neighbour  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402
from storage.search.service import SearchService  # noqa: E402
from storage.write.store import Store  # noqa: E402
from storage.write.sync import FileState, FolderChanges  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--slices", type=int, default=120)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "data")
        folder = store.add_folder(Path(tmp))
        files = [FileState(f"t{i}.flac", 1, 0.0, f"h{i}") for i in range(args.tracks)]
        store.apply_changes(folder, FolderChanges(new=files), "mule")
        starts = np.arange(args.slices) * 2.0
        for i in range(args.tracks):
            timeline = rng.standard_normal((args.slices, 1728)).astype(np.float32)
            tags = {"duration": args.slices * 2.0}
            store.save_embedding(i + 1, "mule", "bench", tags, timeline.mean(0), timeline, starts)
        store.compact_timelines("mule")
        catalog = Catalog.open(Path(tmp) / "data")
        tracks = [catalog.track(i + 1) for i in range(args.tracks)]
        with_db, in_memory = [], []
        for q in range(args.queries):
            query = catalog.timelines([tracks[q % args.tracks].id])[tracks[q % args.tracks].id]
            picked = rng.choice(args.tracks, args.k, replace=False)
            neighbours = [Neighbour(tracks[int(i)], 0.9) for i in picked]
            started = time.perf_counter()
            SearchService(catalog).with_passages(query, neighbours)
            with_db.append((time.perf_counter() - started) * 1000)
            loaded = catalog.timelines([n.track.id for n in neighbours])
            started = time.perf_counter()
            for n in neighbours:
                best_passage(query, loaded[n.track.id])
            in_memory.append((time.perf_counter() - started) * 1000)
        print(f"{args.k} results x {args.slices} slices of 1728-d (compact), {args.queries} queries")
        print(f"matched passages incl. reading timelines: p50 {statistics.median(with_db):.1f} ms")
        print(f"same on timelines in memory (baseline):   p50 {statistics.median(in_memory):.1f} ms")


if __name__ == "__main__":
    main()
