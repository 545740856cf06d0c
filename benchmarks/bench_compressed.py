"""The compressed index (IVF-PQ, re-ranked from float32 vectors on disk) against IVF-fp16, same run.

Writes a seeded catalog-shaped synthetic set (benchmarks/synthetic.py: genres, artists, albums) to
disk in chunks, builds both kinds from it (each in a child process, whose peak memory is reported),
and prints per kind: build time, bytes a track in memory (what a reader holds: the FAISS file; IVF-fp16
maps its codes, which a warm reader keeps resident) and on disk, p50/p99 of one query at a time
(excluding itself) and recall@10 against exact float32 search; then the compressed figures
extrapolated to 10M tracks.

    python benchmarks/bench_compressed.py [--count 2000000] [--queries 200] [--kinds pq,fp16]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import SyntheticCatalog  # noqa: E402

from storage.index.vectors import VectorIndex, choose_kind, pq_bytes, write_index  # noqa: E402

DIM = 1728
CHUNK = 65536
META = {"model": "mule", "revision": "bench", "vectors_version": 0}


def write_catalog(path: Path, count: int) -> np.ndarray:
    vectors = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(count, DIM))
    row = 0
    for chunk in SyntheticCatalog(count, DIM, seed=7).chunks(CHUNK):
        vectors[row : row + len(chunk)] = chunk
        row += len(chunk)
    vectors.flush()
    return np.load(path, mmap_mode="r")


def exact_truth(vectors: np.ndarray, rows: np.ndarray, k: int = 10) -> np.ndarray:
    """Ids of each query row's exact top k, itself excluded (chunks of the file: no second copy)."""
    queries = np.asarray(vectors[rows])
    best_scores = np.full((len(rows), k + 1), -np.inf, np.float32)
    best_ids = np.zeros((len(rows), k + 1), np.int64)
    for lo in range(0, len(vectors), CHUNK):
        scores = queries @ np.asarray(vectors[lo : lo + CHUNK]).T
        ids = np.broadcast_to(np.arange(lo, lo + scores.shape[1]) + 1, scores.shape)
        all_scores = np.concatenate([best_scores, scores], axis=1)
        all_ids = np.concatenate([best_ids, ids], axis=1)
        top = np.argsort(-all_scores, axis=1)[:, : k + 1]
        best_scores = np.take_along_axis(all_scores, top, 1)
        best_ids = np.take_along_axis(all_ids, top, 1)
    return np.stack([row_ids[row_ids != row + 1][:k] for row_ids, row in zip(best_ids, rows, strict=True)])


def anonymous_peak(stop: threading.Event, peak: list[int]) -> None:
    """Peak private memory (RssAnon, sampled): what the build holds, without the page cache behind its
    memory-mapped files, which the kernel drops under pressure."""
    while not stop.wait(0.2):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                peak[0] = max(peak[0], int(line.split()[1]) * 1024)


def build_child(source: str, directory: str, compressed_min: int, out: mp.Queue) -> None:
    stop, peak = threading.Event(), [0]
    threading.Thread(target=anonymous_peak, args=(stop, peak), daemon=True).start()
    vectors = np.load(source, mmap_mode="r")
    count = len(vectors)
    chunks = (
        (np.arange(lo + 1, min(count, lo + CHUNK) + 1), vectors[lo : lo + CHUNK]) for lo in range(0, count, CHUNK)
    )
    start = time.perf_counter()
    write_index(Path(directory), chunks, count, DIM, META, exact_max=0, compressed_min=compressed_min)
    stop.set()
    out.put((time.perf_counter() - start, peak[0]))


def measure(directory: Path, vectors: np.ndarray, rows: np.ndarray, truth: np.ndarray) -> dict:
    index = VectorIndex.open_current(directory)
    in_memory = sum(p.stat().st_size for p in index.directory.glob("*.faiss"))
    on_disk = sum(p.stat().st_size for p in index.directory.iterdir())
    for row in rows[:20]:  # warm: the lists and the re-ranked rows in the page cache, as in service
        index.search(vectors[row], 10, exclude=[int(row) + 1])
    times, hits = [], 0
    for row, true in zip(rows, truth, strict=True):
        start = time.perf_counter()
        found, _ = index.search(vectors[row], 10, exclude=[int(row) + 1])
        times.append(time.perf_counter() - start)
        hits += len(set(found.tolist()) & set(true.tolist()))
    return {
        "kind": index.meta.kind,
        "params": index.meta.params,
        "memory": in_memory / len(vectors),
        "disk": on_disk / len(vectors),
        "p50": 1e3 * float(np.percentile(times, 50)),
        "p99": 1e3 * float(np.percentile(times, 99)),
        "recall": hits / truth.size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="pq,fp16", help="pq (IVF-PQ + re-ranking), fp16 (IVF-fp16, baseline)")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(dir=Path.home()) as tmp:
        started = time.perf_counter()
        source = Path(tmp) / "catalog.npy"
        vectors = write_catalog(source, args.count)
        rows = np.random.default_rng(1).choice(args.count, args.queries, replace=False)
        truth = exact_truth(vectors, rows)
        print(f"{args.count} vectors x {DIM} written and exact top 10 found in {time.perf_counter() - started:.0f} s")
        results = {}
        for kind in args.kinds.split(","):
            out = ctx.Queue()
            compressed_min = 0 if kind == "pq" else args.count
            child = ctx.Process(target=build_child, args=(str(source), str(Path(tmp) / kind), compressed_min, out))
            child.start()
            seconds, peak = out.get()
            child.join()
            r = results[kind] = measure(Path(tmp) / kind, vectors, rows, truth) | {"build": seconds, "peak": peak}
            print(
                f"{r['kind']:8s} {r['params']}: build {r['build']:.0f} s (peak private {r['peak'] / 1e9:.2f} GB), "
                f"{r['memory']:.0f} B/track in memory, {r['disk']:.0f} B/track on disk, "
                f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, recall@10 {r['recall']:.3f}",
                flush=True,
            )
        if "pq" in results and "fp16" in results:
            pq, fp = results["pq"], results["fp16"]
            print(
                f"compressed / IVF-fp16: memory {pq['memory'] / fp['memory']:.3f}x, "
                f"build {pq['build'] / fp['build']:.2f}x, "
                f"p50 {pq['p50'] / fp['p50']:.2f}x, recall {pq['recall'] - fp['recall']:+.3f}"
            )
        if "pq" in results:
            big = 10_000_000
            _, params = choose_kind(big)
            memory = big * (pq_bytes(DIM) + 8) + (params["nlist"] + 256) * DIM * 4
            # Adding costs n x nlist (each vector against every centroid): time grows as n^1.5.
            build = results["pq"]["build"] * (big / args.count) ** 1.5
            print(
                f"at 10M tracks (extrapolated): {memory / big:.0f} B/track in memory ({memory / 1e9:.1f} GB), "
                f"{memory / big + DIM * 4 + 8:.0f} B/track on disk, build ~{build / 3600:.1f} h on this CPU"
            )


if __name__ == "__main__":
    main()
