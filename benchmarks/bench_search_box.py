"""The page's search box at catalog scale: full-text search (SQLite FTS5) vs the LIKE scan it replaced.

A synthetic library of --tracks tracks (default 1M) tagged like a real one: artists, albums and
titles drawn from word lists, paths "Artist/Album/NN Title.flac", every track with a vector row.
Queries are what people type: an artist word, a title word, artist + title words, a word prefix,
a word nobody has. Both searches run on the same database in the same run; p50 and p95 per kind.

    python benchmarks/bench_search_box.py [--tracks 1000000] [--queries 100]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import func, or_, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.db.schema import Embedding, Track  # noqa: E402
from storage.read.catalog import Catalog  # noqa: E402
from storage.write.store import Store  # noqa: E402

SYLLABLES = "ka lo mi ra su te no vi da re be zu fa ni ol an el is ur ma to si ge".split()


def words(rng: np.random.Generator, n: int) -> list[str]:
    return ["".join(rng.choice(SYLLABLES, rng.integers(2, 4))) for _ in range(n)]


def fill(data_dir: Path, n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """n tracks with tags and a (tiny) mule vector each, written straight into the SQLite file."""
    rng = np.random.default_rng(seed)
    vocabulary, names = np.array(words(rng, 6000)), np.array(words(rng, 30000))
    artists = [" ".join(rng.choice(names, rng.integers(1, 3))).title() for _ in range(max(10, n // 50))]
    store = Store(data_dir)
    folder = store.add_folder(data_dir.parent)
    db = sqlite3.connect(data_dir / "soundalike.db")
    per_album = 12
    rows, vectors, album = [], [], ""
    for i in range(n):
        artist = artists[(i // (per_album * 4)) % len(artists)]
        if i % per_album == 0:
            album = " ".join(rng.choice(vocabulary, rng.integers(1, 4))).title()
        title = " ".join(rng.choice(vocabulary, rng.integers(1, 5))).capitalize()
        number = i % per_album + 1
        path = f"{artist}/{album}/{number:02d} {title}.flac"
        rows.append((i + 1, folder.id, path, 1, 0.0, title, artist, album, number, 180.0, "2026-01-01", "2026-01-01"))
        vectors.append((i + 1, "mule", "r", 1, b"\0\0\0\0", b"", b"", "2026-01-01"))
        if len(rows) == 100_000 or i == n - 1:
            db.executemany(
                "INSERT INTO tracks (id, folder_id, path, size, mtime, title, artist, album, track_number, duration,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            db.executemany("INSERT INTO embeddings VALUES (?,?,?,?,?,?,?,?)", vectors)
            db.commit()
            rows, vectors = [], []
    db.execute("INSERT INTO models (name, options, vectors_version, updated_at) VALUES ('mule', '{}', 1, '2026-01-01')")
    db.commit()
    db.close()
    return artists, vocabulary.tolist()


def like_scan(catalog: Catalog, text: str, limit: int = 50) -> int:
    """The search before full-text search: every word LIKE '%word%' in four columns, sorted."""
    has_vector = select(Embedding.track_id).where(Embedding.track_id == Track.id, Embedding.model == "mule")
    query = select(Track).where(has_vector.exists())
    for word in text.split():
        pattern = f"%{word.lower()}%"
        columns = (Track.title, Track.artist, Track.album, Track.path)
        query = query.where(or_(*(func.lower(col).like(pattern) for col in columns)))
    with catalog.sessions() as s:
        order = (Track.artist, Track.album, Track.track_number, Track.title)
        return len(s.execute(query.order_by(*order).limit(limit)).scalars().all())


def queries(rng: np.random.Generator, artists: list[str], vocabulary: list[str], n: int) -> dict[str, list[str]]:
    pick = lambda items: str(items[rng.integers(len(items))])  # noqa: E731
    return {
        "artist word": [pick(artists).split()[0].lower() for _ in range(n)],
        "title word": [pick(vocabulary) for _ in range(n)],
        "artist + title word": [f"{pick(artists).split()[0]} {pick(vocabulary)}" for _ in range(n)],
        "prefix (4 letters)": [pick(vocabulary)[:4] for _ in range(n)],
        "no match": [f"zzq{i}" for i in range(n)],
    }


def timed(fn: Callable[[str], object], text: str) -> float:
    started = time.perf_counter()
    fn(text)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        started = time.perf_counter()
        artists, vocabulary = fill(data, args.tracks)
        with Store(data).sessions.begin() as s:  # the FTS table follows `tracks` through triggers
            s.connection().exec_driver_sql("INSERT INTO tracks_fts(tracks_fts) VALUES ('optimize')")
        print(f"{args.tracks:,} tracks written in {time.perf_counter() - started:.0f} s")
        catalog = Catalog.open(data, "mule")
        rng = np.random.default_rng(1)
        print(f"{'query kind':22} {'FTS p50':>9} {'p95':>8} {'LIKE p50':>9} {'p95':>8} {'LIKE/FTS':>9}")
        for kind, texts in queries(rng, artists, vocabulary, args.queries).items():
            fts = [timed(lambda t: catalog.search_tracks(t), t) for t in texts]
            like = [timed(lambda t: like_scan(catalog, t), t) for t in texts[: max(5, args.queries // 10)]]
            p50, l50 = statistics.median(fts), statistics.median(like)
            print(
                f"{kind:22} {p50:8.1f}ms {np.percentile(fts, 95):7.1f}ms {l50:8.1f}ms "
                f"{np.percentile(like, 95):7.1f}ms {l50 / p50:8.0f}x"
            )


if __name__ == "__main__":
    main()
