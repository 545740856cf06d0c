"""Hubness re-ranking and evaluation at catalog scale: what CSLS adds to a query, what the hub statistics add
to an index build (each against the same work without them, same run), and how long `indexer evaluate`
takes per model (folder labels, the default 2,000 queries).

--tracks synthetic clustered 1728-d vectors (as bench_search.py) in a real data directory.

    python benchmarks/bench_rerank.py [--tracks 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import clustered, fill_store  # noqa: E402

import storage.index.vectors  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402
from storage.search.evaluation import album_keys, catalog_labels, evaluate_model  # noqa: E402
from storage.search.request import SearchRequest
from storage.search.service import SearchService  # noqa: E402
from storage.write.store import Store  # noqa: E402


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        fill_store(data, clustered(args.tracks))
        store = Store(data)
        with_hubs = timed(lambda: store.rebuild_index("mule"))
        limit = storage.index.vectors.HUBS_MAX
        storage.index.vectors.HUBS_MAX = 0
        without = timed(lambda: store.rebuild_index("mule"))
        storage.index.vectors.HUBS_MAX = limit
        store.rebuild_index("mule")
        catalog = Catalog.open(data)
        index = catalog.index()
        assert index.hubs is not None
        service = SearchService(catalog)
        rng = np.random.default_rng(1)
        tracks = [catalog.track(int(i)) for i in rng.integers(1, args.tracks + 1, args.queries)]
        plain, csls = [], []
        for track in tracks * 2:  # the first pass warms the page cache, as in service
            plain.append(timed(lambda t=track: service.by_track(t, SearchRequest(10))) * 1000)
            csls.append(timed(lambda t=track: service.by_track(t, SearchRequest(10, rerank="csls"))) * 1000)
        plain, csls = plain[args.queries :], csls[args.queries :]
        print(f"{args.tracks} tracks x 1728-d, {args.queries} queries, k=10, 2 cores")
        print(f"index build with hub statistics {with_hubs:.1f} s vs without {without:.1f} s (baseline, same run)")
        print(
            f"similar: p50 {statistics.median(plain):.2f} ms plain (baseline) vs {statistics.median(csls):.2f} ms csls"
        )
        print(f"10-occurrence skewness {index.hubs.skewness:.2f}, with csls {index.hubs.csls_skewness:.2f}")
        labels, albums = catalog_labels(catalog, "folder"), album_keys(catalog)
        for rerank in (None, "csls"):
            started = time.perf_counter()
            score = evaluate_model(catalog, labels, albums, 10, rerank)
            print(
                f"indexer evaluate, rerank {rerank}: {score.queries} queries in {time.perf_counter() - started:.1f} s"
            )


if __name__ == "__main__":
    main()
