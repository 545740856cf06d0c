"""One model's vectors with their tracks, for analysis elsewhere (`indexer export`): NumPy's .npz or Parquet.

Each track with the model's vector: its id, catalog folder and path, title, artist, album, duration, the
model's tags or styles (label -> probability; none for models that do not tag) and its vector as the model
produced it (float32, not normalised). Rows in track-id order. Parquet is written a chunk at a time (any
catalog size); .npz holds every array in memory (about 4 bytes × dimensions a track).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from sqlalchemy import select

from storage.core.errors import UsageError
from storage.db.schema import Embedding, Folder, Track, TrackStyle
from storage.read.catalog import Catalog

FORMATS = ("npz", "parquet")
CHUNK = 4096


@dataclass(frozen=True)
class Chunk:
    ids: np.ndarray
    folders: list[str]
    paths: list[str]
    titles: list[str | None]
    artists: list[str | None]
    albums: list[str | None]
    durations: list[float | None]
    styles: list[dict[str, float]]
    vectors: np.ndarray  # (n, dim) float32


def chunks(catalog: Catalog, size: int = CHUNK) -> Iterator[Chunk]:
    """The model's tracks and vectors, `size` at a time, in track-id order."""
    query = (
        select(
            Track.id, Folder.path, Track.path, Track.title, Track.artist, Track.album, Track.duration, Embedding.vector
        )
        .join(Folder, Folder.id == Track.folder_id)
        .join(Embedding, Embedding.track_id == Track.id)
        .where(Embedding.model == catalog.model)
        .order_by(Track.id)
        .execution_options(yield_per=size)
    )
    with catalog.reading() as s:
        tagged = s.execute(select(TrackStyle.track_id).where(TrackStyle.model == catalog.model).limit(1)).first()
        for part in s.execute(query).partitions(size):
            ids = np.fromiter((r[0] for r in part), np.int64, len(part))
            styles = catalog.styles(ids.tolist()) if tagged else {}
            yield Chunk(
                ids,
                [r[1] for r in part],
                [r[2] for r in part],
                [r[3] for r in part],
                [r[4] for r in part],
                [r[5] for r in part],
                [r[6] for r in part],
                [styles.get(int(i), {}) for i in ids],
                np.stack([np.frombuffer(r[7], "<f4") for r in part]).astype(np.float32),
            )


def export(catalog: Catalog, fmt: str, out: BinaryIO) -> int:
    """Write the model's export to `out` in `fmt` (npz, parquet); the number of tracks written."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; use {' or '.join(FORMATS)}")
    if not catalog.count_tracks().get("indexed"):
        raise UsageError(f"no {catalog.model} vectors in {catalog.data_dir} to export; run `indexer build --model`")
    return _parquet(catalog, out) if fmt == "parquet" else _npz(catalog, out)


def _npz(catalog: Catalog, out: BinaryIO) -> int:
    parts = list(chunks(catalog))
    join = lambda name: [v for p in parts for v in getattr(p, name)]  # noqa: E731
    text = lambda name: np.array([v or "" for v in join(name)], dtype=str)  # noqa: E731
    durations = np.array([np.nan if d is None else d for d in join("durations")], np.float64)
    np.savez(
        out,
        ids=np.concatenate([p.ids for p in parts]),
        folders=np.array(join("folders"), dtype=str),
        paths=np.array(join("paths"), dtype=str),
        titles=text("titles"),
        artists=text("artists"),
        albums=text("albums"),
        durations=durations,
        styles=np.array([json.dumps(s, ensure_ascii=False) for s in join("styles")], dtype=str),
        vectors=np.concatenate([p.vectors for p in parts]),
        model=np.array(catalog.model),
    )
    return sum(len(p.ids) for p in parts)


def _parquet(catalog: Catalog, out: BinaryIO) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    written = 0
    try:
        for part in chunks(catalog):
            dim = part.vectors.shape[1]
            table = pa.table(
                {
                    "id": pa.array(part.ids),
                    "folder": pa.array(part.folders, pa.string()),
                    "path": pa.array(part.paths, pa.string()),
                    "title": pa.array(part.titles, pa.string()),
                    "artist": pa.array(part.artists, pa.string()),
                    "album": pa.array(part.albums, pa.string()),
                    "duration": pa.array(part.durations, pa.float64()),
                    "styles": pa.array([list(s.items()) for s in part.styles], pa.map_(pa.string(), pa.float32())),
                    "vector": pa.FixedSizeListArray.from_arrays(pa.array(part.vectors.ravel()), dim),
                }
            )
            if writer is None:
                schema = table.schema.with_metadata({"model": catalog.model})
                writer = pq.ParquetWriter(pa.PythonFile(out, mode="w"), schema)
            writer.write_table(table.cast(writer.schema))
            written += len(part.ids)
    finally:
        if writer is not None:
            writer.close()
    return written
