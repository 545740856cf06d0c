"""Search speed and quality on seeded synthetic 1728-d vectors.

For each size: index build time, bytes per vector on disk, in-process query latency
p50/p99 for the exact index (fp16 scan + float32 re-scoring) and the approximate one
(IVF over fp16 codes + re-scoring), recall@10 of each against float32 brute force
(the named baseline, timed in the same run), the cold-start wall time of
`python -m storage.query ID --json` on a real data directory, and the page's two
lookups (search box, neighbours of a track) on that directory.

Where faiss has a GPU (faiss-gpu and a device), each index is also searched by the GPU reader
(every vector in float16 on the GPU, exact scan, float32 re-scoring) and the approximate index is
built a second time with $SOUNDALIKE_FAISS_GPU=0: both print their ratio to the CPU figure.

    python benchmarks/bench_search.py [--sizes 10000,100000] [--queries 200] [--kinds exact,approximate]
    python benchmarks/bench_search.py --sizes 1000000 --kinds approximate --no-cli   # ~12 GB of memory
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from storage.index.gpu import ENV as GPU_ENV
from storage.index.gpu import gpu_count
from storage.index.vectors import VectorIndex, normalise, write_index

DIM = 1728


def clustered(n: int, seed: int = 0) -> np.ndarray:
    return clustered_with_labels(n, seed)[0]


def clustered_with_labels(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n tracks around n / 200 centres, and each track's centre."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(10, n // 200), DIM)).astype(np.float32)
    out = np.empty((n, DIM), np.float32)
    labels = np.empty(n, np.int64)
    for first in range(0, n, 50_000):
        m = min(50_000, n - first)
        labels[first : first + m] = rng.integers(0, len(centres), m)
        out[first : first + m] = centres[labels[first : first + m]] + 0.7 * rng.standard_normal((m, DIM))
    return out, labels


def latencies(fn, queries: np.ndarray) -> tuple[float, float, list]:
    """p50, p99 (ms) and results of `fn` per query, after one untimed pass (page cache warm, as in service)."""
    for q in queries:
        fn(q)
    times, results = [], []
    for q in queries:
        start = time.perf_counter()
        results.append(fn(q))
        times.append(time.perf_counter() - start)
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3), results


def brute_force(query: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Track ids of the exact top 10 by float32 inner product (FAISS's exhaustive search, no copy)."""
    return faiss.knn(query[None], vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)[1][0] + 1


def recall(found: list[np.ndarray], truth: list[np.ndarray]) -> float:
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)]))


def fill_store(data_dir: Path, vectors: np.ndarray) -> None:
    from storage.write.store import Store
    from storage.write.sync import FileState, FolderChanges

    store = Store(data_dir)
    folder = store.add_folder(data_dir.parent)
    files = [FileState(f"a{i % 5000}/t{i}.flac", 1, 0.0, f"h{i}") for i in range(len(vectors))]
    store.apply_changes(folder, FolderChanges(new=files), "mule")
    for i, v in enumerate(vectors):
        tags = {"title": f"Song {i}", "artist": f"Artist {i % 5000}", "album": f"Album {i % 9000}"}
        store.save_embedding(i + 1, "mule", "bench", tags, v, v[None], np.zeros(1))
    store.rebuild_index("mule")


def page_latencies(data_dir: Path, n: int) -> tuple[float, float]:
    """p50 ms of what one page query does: search box lookup, and neighbours with their rows and files."""
    from storage.read.catalog import Catalog
    from storage.search.request import SearchRequest
    from storage.search.service import SearchService

    catalog = Catalog.open(data_dir)
    rng = np.random.default_rng(2)
    picks = rng.integers(1, n + 1, 50)
    search, _, _ = latencies(lambda i: catalog.search_tracks(f"artist {i % 5000} song"), picks)
    service, request = SearchService(catalog), SearchRequest(10, allow_stale=True)  # the page's question
    similar, _, _ = latencies(lambda i: service.by_track(int(i), request), picks)
    return search, similar


def cold_start(data_dir: Path) -> float:
    env = {**os.environ, "SOUNDALIKE_DATA": str(data_dir)}
    cmd = [sys.executable, "-m", "storage.query", "17", "--json"]
    subprocess.run(cmd, env=env, check=True, capture_output=True)  # page cache warm, as for a user's 2nd query
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert len(json.loads(out.stdout)["neighbours"]) == 10
    return elapsed


def build(directory: Path, vectors: np.ndarray, ids: np.ndarray, exact_max: int) -> float:
    """Seconds to write an index of these vectors."""
    start = time.perf_counter()
    write_index(
        directory,
        ((ids[i : i + 65536], vectors[i : i + 65536]) for i in range(0, len(ids), 65536)),
        len(ids),
        DIM,
        {"model": "mule", "revision": "bench", "vectors_version": 0},
        exact_max=exact_max,
    )
    return time.perf_counter() - start


def gpu_figures(
    directory: Path,
    vectors: np.ndarray,
    ids: np.ndarray,
    queries: np.ndarray,
    truth: list,
    cpu_p50: float,
    built: float,
) -> None:
    """The GPU reader's latency against the CPU reader's, and an IVF build's time against a CPU-only one."""
    start = time.perf_counter()
    index = VectorIndex.open_current(directory, gpu=True)
    loaded = time.perf_counter() - start
    p50, p99, found = latencies(lambda q: index.search(q, 10)[0], queries)
    print(
        f"    GPU reader (float16 exact scan): load {loaded:.1f} s, p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"({cpu_p50 / p50:.1f}x the CPU reader), recall@10 {recall(found, truth):.3f}"
    )
    if index.meta.kind.startswith("ivf"):
        os.environ[GPU_ENV] = "0"
        try:
            cpu_built = build(directory.with_name(directory.name + "-cpu"), vectors, ids, exact_max=0)
        finally:
            del os.environ[GPU_ENV]
        print(f"    build with GPU FAISS {built:.1f} s vs CPU only {cpu_built:.1f} s ({cpu_built / built:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-cli", action="store_true", help="skip the cold-start CLI measurement")
    parser.add_argument("--kinds", default="exact,approximate", help="index kinds to build and time")
    parser.add_argument("--nprobes", default="", help="also time the approximate index at these nprobe values")
    args = parser.parse_args()
    for n in [int(s) for s in args.sizes.split(",")]:
        vectors = clustered(n)
        for first in range(0, n, 65536):  # normalised in place: no second copy at 1M vectors
            vectors[first : first + 65536] = normalise(vectors[first : first + 65536])
        rng = np.random.default_rng(1)
        queries = normalise(
            vectors[rng.choice(n, args.queries, replace=False)]
            + 0.2 * rng.standard_normal((args.queries, DIM)).astype(np.float32)
        )
        ids = np.arange(1, n + 1, dtype=np.int64)
        # Baseline: FAISS's exhaustive float32 inner-product search, straight over the array.
        p50_bf, p99_bf, truth = latencies(lambda q, xb=vectors: brute_force(q, xb), queries)
        print(f"n={n}: baseline float32 brute force (faiss.knn) p50 {p50_bf:.1f} ms, p99 {p99_bf:.1f} ms")
        with tempfile.TemporaryDirectory() as tmp:
            for label, exact_max in (("exact", n), ("approximate", 0)):
                if (label == "approximate" and n < 20_000) or label not in args.kinds.split(","):
                    continue
                built = build(Path(tmp) / label, vectors, ids, exact_max)
                index = VectorIndex.open_current(Path(tmp) / label)
                size = sum(p.stat().st_size for p in index.directory.iterdir())
                p50, p99, found = latencies(lambda q, ix=index: ix.search(q, 10)[0], queries)
                print(
                    f"  {label:11s} {index.meta.kind} {index.meta.params}: build {built:.1f} s, "
                    f"{size / n:.0f} B/vector on disk, p50 {p50:.2f} ms, p99 {p99:.2f} ms "
                    f"({p50_bf / p50:.1f}x faster than brute force), recall@10 {recall(found, truth):.3f}"
                )
                if gpu_count():
                    gpu_figures(Path(tmp) / label, vectors, ids, queries, truth, p50, built)
                if index.meta.kind.startswith("ivf"):
                    for nprobe in [int(p) for p in args.nprobes.split(",") if p]:
                        index.meta.params["nprobe"] = nprobe
                        faiss.extract_index_ivf(index.shards[0]).nprobe = nprobe
                        p50, p99, found = latencies(lambda q, ix=index: ix.search(q, 10)[0], queries)
                        quality = f"recall@10 {recall(found, truth):.3f}"
                        print(f"    nprobe {nprobe}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, {quality}")
            if not args.no_cli:
                data_dir = Path(tmp) / "data"
                fill_store(data_dir, vectors)
                print(f"  cold-start `python -m storage.query ID --json`: {cold_start(data_dir):.2f} s")
                search, similar = page_latencies(data_dir, n)
                print(f"  page: search box p50 {search:.1f} ms; neighbours of a catalog track p50 {similar:.1f} ms")


if __name__ == "__main__":
    main()
