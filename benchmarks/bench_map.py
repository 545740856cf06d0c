"""The catalog map within the build: what it adds to an index build's time and memory, and how well it
keeps neighbourhoods, against PCA's two axes (the cheapest map) measured in the same run.

--tracks synthetic clustered 1728-d tracks (as bench_search.py). Each build runs in a child process whose
peak private memory (RssAnon) is sampled. Neighbourhoods, for --probe tracks: the share of their 10
nearest on the map that come from their own cluster (what a person exploring sees: alike tracks together),
and the share of their 10 nearest neighbours (cosine, exact) that stay among their 10 nearest on the map.

    python benchmarks/bench_map.py [--tracks 100000] [--probe 2000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import threading
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_compressed import anonymous_peak  # noqa: E402
from bench_search import DIM, clustered_with_labels  # noqa: E402

import storage.index.catalog_map as catalog_map  # noqa: E402
from storage.index.vectors import VectorIndex, current_build, normalise, write_index  # noqa: E402

META = {"model": "mule", "revision": "bench", "vectors_version": 1}


def build_child(source: str, directory: str, with_map: bool, method: str, out: mp.Queue) -> None:
    if method == "pca":
        catalog_map.UMAP_MIN = 2**62  # PCA's two axes whatever the size
    stop, peak = threading.Event(), [0]
    threading.Thread(target=anonymous_peak, args=(stop, peak), daemon=True).start()
    vectors = np.load(source, mmap_mode="r")
    chunks = (
        (np.arange(lo + 1, min(len(vectors), lo + 65536) + 1), vectors[lo : lo + 65536])
        for lo in range(0, len(vectors), 65536)
    )
    started = time.perf_counter()
    write_index(Path(directory), chunks, len(vectors), DIM, META, with_map=with_map)
    stop.set()
    out.put((time.perf_counter() - started, peak[0]))


def run_build(source: Path, directory: Path, with_map: bool, method: str) -> tuple[float, int]:
    queue: mp.Queue = mp.get_context("spawn").Queue()
    child = mp.get_context("spawn").Process(
        target=build_child, args=(str(source), str(directory), with_map, method, queue)
    )
    child.start()
    result = queue.get()
    child.join()
    return result


def neighbourhoods(
    vectors: np.ndarray, labels: np.ndarray, coords: np.ndarray, probe: np.ndarray, k: int = 10
) -> tuple[float, float]:
    """(share of each probe's k nearest on the map from its own cluster, share of its k nearest by cosine
    among its k nearest on the map)."""
    high = faiss.IndexFlatIP(vectors.shape[1])
    high.add(vectors)
    _, truth = high.search(vectors[probe], k + 1)
    flat = faiss.IndexFlatL2(2)
    flat.add(np.ascontiguousarray(coords))
    _, mapped = flat.search(np.ascontiguousarray(coords[probe]), k + 1)
    same = float((labels[mapped[:, 1:]] == labels[probe][:, None]).mean())
    kept = [len(set(t[1:]) & set(m[1:])) / k for t, m in zip(truth, mapped, strict=True)]
    return same, float(np.mean(kept))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--probe", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "vectors.npy"
        raw, labels = clustered_with_labels(args.tracks)
        vectors = normalise(raw)
        np.save(source, vectors)
        run_build(source, Path(tmp) / "warm-up", False, "-")  # untimed: page cache and imports warm for all
        probe = np.random.default_rng(1).choice(args.tracks, min(args.probe, args.tracks), replace=False)
        print(f"{args.tracks:,} tracks, {DIM}-d, {mp.cpu_count()} CPUs")
        rows = {}
        for name, with_map, method in (
            ("index only", False, "-"),
            ("index + PCA map", True, "pca"),
            ("index + UMAP map", True, "umap"),
        ):
            directory = Path(tmp) / name.replace(" ", "-").replace("+", "")
            seconds, peak = run_build(source, directory, with_map, method)
            index = VectorIndex(directory / current_build(directory))
            quality = neighbourhoods(vectors, labels, index.map, probe) if index.map is not None else (0.0, 0.0)
            rows[name] = (seconds, peak, quality[0])
            said = (
                f", map's 10-NN in the same cluster {quality[0]:.3f}, 10-NN kept {quality[1]:.3f}" if with_map else ""
            )
            print(f"{name:17s}: {seconds:7.1f} s, peak private memory {peak / 2**20:7.0f} MiB{said}")
        base, pca, umap = rows["index only"], rows["index + PCA map"], rows["index + UMAP map"]
        print(
            f"UMAP map adds {umap[0] - base[0]:.1f} s to the index build ({umap[0] / base[0]:.2f}x its time), "
            f"PCA map {pca[0] - base[0]:.1f} s; same-cluster neighbours UMAP / PCA: {umap[2] / pca[2]:.2f}x"
        )


if __name__ == "__main__":
    main()
