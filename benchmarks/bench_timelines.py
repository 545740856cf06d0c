"""Bytes per second of audio of a MULE data directory: float16 timelines (as schema v3 kept them) against
compact ones (int8 on the model's basis, plus the segment index for search by passage), same catalog.

--tracks synthetic MULE-shaped tracks (1728-d slices every 2 s: a large common component, a decaying
spectrum of directions, each track wandering slowly) are saved through the store twice: once kept
float16 (the baseline: database + track index, what v3 wrote), once made compact (database + track
index + segment index). Also: how often the best passage pair read from the compact store is the
one read from the float16 store, within 2 s on both sides, over planted pairs.

    python benchmarks/bench_timelines.py [--tracks 300] [--slices 120] [--pairs 200]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.core.passages import best_passage  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402
from storage.write.store import Store  # noqa: E402
from storage.write.sync import FileState, FolderChanges  # noqa: E402

DIM = 1728


def synthetic(rng: np.random.Generator, tracks: int, slices: int) -> list[np.ndarray]:
    basis = rng.standard_normal((300, DIM)).astype(np.float32)
    weights = np.arange(1, 301, dtype=np.float32) ** -0.8
    common = 3 * rng.standard_normal(DIM).astype(np.float32)
    out = []
    for _ in range(tracks):
        walk = np.cumsum(0.3 * rng.standard_normal((slices, 300)), 0) + rng.standard_normal(300)
        out.append(((walk * weights) @ basis + common).astype(np.float32))
    return out


def plant(rng: np.random.Generator, timelines: list[np.ndarray], pairs: int) -> list[tuple[int, int]]:
    """Copy 10 slices (20 s) of one track into another, under noise; the (query, other) ids."""
    planted = []
    for _ in range(pairs):
        a, b = rng.choice(len(timelines), 2, replace=False)
        at, to = rng.integers(0, len(timelines[a]) - 10), rng.integers(0, len(timelines[b]) - 10)
        timelines[b][to : to + 10] = timelines[a][at : at + 10] + 0.5 * rng.standard_normal((10, DIM))
        planted.append((int(a) + 1, int(b) + 1))
    return planted


def fill(data: Path, timelines: list[np.ndarray], compact: bool) -> Store:
    store = Store(data)
    folder = store.add_folder(data.parent)
    files = [FileState(f"t{i}.flac", 1, 0.0, f"h{i}") for i in range(len(timelines))]
    store.apply_changes(folder, FolderChanges(new=files), "mule")
    for i, timeline in enumerate(timelines, 1):
        starts = np.arange(len(timeline)) * 2.0
        tags = {"duration": len(timeline) * 2.0}
        store.save_embedding(
            i, "mule", "bench", tags, timeline.mean(0), timeline, starts, None, np.full(len(timeline), -20.0)
        )
        if compact and i % 64 == 0 and store.codec("mule") is None:
            store.compact_timelines("mule")  # as a build does
    if compact:
        store.compact_timelines("mule")
        store.refresh_index("mule")
    else:
        from storage.index.vectors import write_index

        with store.sessions() as s:  # the v3 layout: the track index alone
            from storage.write.store import _vector_chunks

            write_index(
                store.model_dir("mule"),
                _vector_chunks(s, "mule"),
                len(timelines),
                DIM,
                {"model": "mule", "revision": "bench", "vectors_version": 0},
            )
    store.close()
    with sqlite3.connect(data / "soundalike.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store


def sizes(data: Path) -> dict[str, int]:
    def total(path: Path) -> int:
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0

    database = sum(f.stat().st_size for f in data.glob("soundalike.db*"))
    return {"database": database, "track index": total(data / "index"), "segment index": total(data / "segments")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=300)
    parser.add_argument("--slices", type=int, default=120)
    parser.add_argument("--pairs", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    timelines = synthetic(rng, args.tracks, args.slices)
    planted = plant(rng, timelines, args.pairs)
    seconds = args.tracks * args.slices * 2.0
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for name, compact in (("float16 timelines (v3, baseline)", False), ("compact timelines", True)):
            data = Path(tmp) / name.split()[0] / "data"
            fill(data, timelines, compact)
            results[name] = (data, sizes(data))
        print(f"{args.tracks} tracks x {args.slices} slices ({seconds / 3600:.1f} h of audio), 1728-d")
        for name, (_, parts) in results.items():
            detail = ", ".join(f"{part} {size / seconds:.0f}" for part, size in parts.items())
            print(f"{name}: {sum(parts.values()) / seconds:.0f} B/s  ({detail})")
        (before, b_parts), (after, a_parts) = results.values()
        print(f"ratio compact / baseline: {sum(a_parts.values()) / sum(b_parts.values()):.3f}")
        full, small = Catalog.open(before), Catalog.open(after)
        agree = 0
        for a, b in planted:
            one = best_passage(full.timeline(full.track(a)), full.timelines([b])[b])
            two = best_passage(small.timeline(small.track(a)), small.timelines([b])[b])
            agree += abs(one.start - two.start) <= 2 and abs(one.query_start - two.query_start) <= 2
        print(f"best passage pair, compact vs float16, within 2 s: {agree}/{len(planted)} = {agree / len(planted):.1%}")


if __name__ == "__main__":
    main()
