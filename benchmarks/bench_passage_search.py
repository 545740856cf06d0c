"""Search by passage at catalog scale: latency and recall@10 against an exhaustive scan, same run.

A real data directory (SQLite, compact timelines, the store's own segment index build) holding
--tracks synthetic tracks of --slices slices each (default 100k x 120 = 12M segments): timelines
that wander through a 128-d space around one of 2,000 "styles", with each query's 30-s region
planted, under noise, into 5 other tracks. Each query asks for the 10 passages nearest to a 30-s
region of a catalog track (`Catalog.similar_passages`: segment index, votes, ranking on the timelines
read from SQLite). The baseline: the exhaustive answer (every track's best aligned run, the ranking's
own score), computed in the same run, which gives recall@10.

    python benchmarks/bench_passage_search.py [--tracks 100000] [--slices 120] [--queries 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.core.passages import region_slices  # noqa: E402
from storage.core.timelines import CODED, TimelineCodec  # noqa: E402
from storage.db.schema import Embedding  # noqa: E402
from storage.db.schema import TimelineCodec as CodecRow  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402
from storage.search.request import SearchRequest
from storage.search.service import SearchService  # noqa: E402
from storage.write.store import Store  # noqa: E402
from storage.write.sync import FileState, FolderChanges  # noqa: E402

DIM = 128
REGION = 15  # slices: 30 s


def synthetic_tracks(rng: np.random.Generator, count: int, slices: int, styles: np.ndarray) -> np.ndarray:
    """(count, slices, DIM) float32: a style centre, a track offset and a slow walk."""
    centre = styles[rng.integers(0, len(styles), count)][:, None, :]
    offset = 0.6 * rng.standard_normal((count, 1, DIM), dtype=np.float32)
    walk = np.cumsum(0.15 * rng.standard_normal((count, slices, DIM), dtype=np.float32), axis=1)
    return centre + offset + walk


def fill_store(
    store: Store, tracks: int, slices: int, rng: np.random.Generator, queries: int
) -> tuple[np.ndarray, np.ndarray]:
    """Write every track's compact timeline; return them as readers decode them, and the query track ids."""
    codec = TimelineCodec(np.zeros(DIM, np.float32), np.eye(DIM, dtype=np.float32), 0.0)
    folder = store.add_folder(Path(tempfile.gettempdir()))
    files = [FileState(f"t{i}.flac", 1, 0.0, f"h{i}") for i in range(tracks)]
    store.apply_changes(folder, FolderChanges(new=files), "mule")
    with store.sessions.begin() as s:
        s.add(
            CodecRow(
                model="mule",
                dim=DIM,
                dims=DIM,
                mean=codec.mean.tobytes(),
                components=codec.components.tobytes(),
                rest=0.0,
                fitted_slices=0,
            )
        )
    styles = 2.0 * rng.standard_normal((2000, DIM)).astype(np.float32)
    plant_from = rng.choice(tracks, queries, replace=False)
    decoded = np.empty((tracks, slices, DIM + 1), np.float16)  # the stored timelines, as readers see them
    starts = (np.arange(slices) * 2.0).astype("<f4").tobytes()
    chunk = 5000
    pending: dict[int, np.ndarray] = {}
    for first in range(0, tracks, chunk):
        block = synthetic_tracks(rng, min(chunk, tracks - first), slices, styles)
        for q, source in enumerate(plant_from):  # plant each query region into 5 tracks of later blocks
            if first <= source < first + chunk:
                pending[q] = block[source - first, 10 : 10 + REGION].copy()
        for q, region in pending.items():
            for target in (q * 5 + np.arange(5)) % len(block):
                if first + target not in plant_from:
                    at = rng.integers(0, slices - REGION)
                    block[target, at : at + REGION] = region + 0.5 * rng.standard_normal(region.shape)
        rows = []
        for i, timeline in enumerate(block):
            blob = codec.encode(timeline)
            decoded[first + i] = codec.decode(blob)
            rows.append(
                {
                    "track_id": first + i + 1,
                    "model": "mule",
                    "revision": "bench",
                    "dim": DIM,
                    "vector": timeline.mean(0).astype("<f4").tobytes(),
                    "timeline": blob,
                    "timeline_format": CODED,
                    "starts": starts,
                }
            )
        with store.sessions.begin() as s:
            s.execute(insert(Embedding), rows)
    return decoded, plant_from + 1


def exhaustive_top(decoded: np.ndarray, query: np.ndarray, exclude: int, k: int) -> list[int]:
    """Every track's best aligned run of the region (mean cosine), top k track ids."""
    region = query / np.linalg.norm(query, axis=1, keepdims=True)
    best = np.empty(len(decoded), np.float32)
    for first in range(0, len(decoded), 4000):
        block = decoded[first : first + 4000].astype(np.float32)
        block /= np.linalg.norm(block, axis=2, keepdims=True)
        t, n, d = block.shape
        sim = (block.reshape(-1, d) @ region.T).reshape(t, n, -1).transpose(0, 2, 1)  # (tracks, region, slices)
        length = region.shape[0]
        runs = sum(sim[:, i, i : sim.shape[2] - length + 1 + i] for i in range(length))
        best[first : first + 4000] = runs.max(1) / length
    best[exclude - 1] = -np.inf
    return (np.argsort(-best)[:k] + 1).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--slices", type=int, default=120)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument(
        "--nprobes", default="16,32,64", help="IVF lists probed, each measured (default: 1/256, at least 16)"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "data")
        started = time.perf_counter()
        decoded, query_ids = fill_store(store, args.tracks, args.slices, rng, args.queries)
        print(f"stored {args.tracks} tracks x {args.slices} slices in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        meta = store.rebuild_segments("mule")
        assert meta is not None
        print(
            f"segment index: {meta.count} segments, {meta.kind} {meta.params}, built in "
            f"{time.perf_counter() - started:.0f} s"
        )
        store.rebuild_index("mule")  # a question by track reads the vector index too (its copies, exclusions)
        catalog = Catalog.open(Path(tmp) / "data")
        queries = {}
        for track_id in query_ids.tolist():
            query = catalog.timelines([track_id])[track_id]
            rows = region_slices(query, 20.0, 50.0)
            truth = exhaustive_top(decoded, decoded[track_id - 1, rows].astype(np.float32), track_id, args.k)
            queries[track_id] = (query, truth)
        segments = catalog.segments(allow_stale=True)
        ivf = faiss.extract_index_ivf(segments.index) if meta.kind == "ivf-sq8" else None
        print(f"{args.queries} queries, k={args.k}, 30-s regions, {meta.count / 1e6:.1f}M segments, 2 cores")
        for nprobe in [int(n) for n in args.nprobes.split(",")] if ivf is not None else [0]:
            if ivf is not None:
                ivf.nprobe = nprobe
            times, recalls = [], []
            for track_id, (_, truth) in queries.items():
                started = time.perf_counter()
                request = SearchRequest(args.k, exclude_ids=(track_id,), allow_stale=True)
                found = SearchService(catalog).by_passage(track_id, 20.0, 50.0, request).neighbours
                times.append((time.perf_counter() - started) * 1000)
                recalls.append(len({n.track.id for n in found} & set(truth)) / args.k)
            times.sort()
            print(
                f"nprobe {nprobe}: passage search p50 {statistics.median(times):.1f} ms, "
                f"p90 {times[int(0.9 * len(times))]:.1f} ms; recall@{args.k} against the exhaustive scan "
                f"(baseline, same run) {statistics.mean(recalls):.3f}"
            )


if __name__ == "__main__":
    main()
