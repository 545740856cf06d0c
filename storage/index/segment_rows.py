"""The stored timelines as segment rows (storage.index.segments): read for the store's segment index builds."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Row, select
from sqlalchemy.orm import Session, sessionmaker

from storage.core.passages import SILENCE_DBFS
from storage.core.timelines import TimelineCodec, comparable
from storage.db.schema import Embedding
from storage.db.schema import TimelineCodec as CodecRow
from storage.index.segments import SegmentChunk
from storage.index.vectors import normalise

TRACKS_A_CHUNK = 512


def basis_key(session: Session, model: str) -> str:
    """Which comparison space `model`'s timelines are in: its basis's creation time, "" for none."""
    created = session.execute(select(CodecRow.created_at).where(CodecRow.model == model)).scalar()
    return created.isoformat() if created is not None else ""


def sounding(loudness: bytes | None, n: int) -> np.ndarray:
    """Which of a timeline's `n` slices are not quiet (all, when loudness was not measured)."""
    if loudness is None or len(loudness) != n:
        return np.ones(n, bool)
    return np.frombuffer(loudness, np.int8) >= SILENCE_DBFS


def count_segments(session: Session, model: str) -> int:
    rows = session.execute(select(Embedding.starts, Embedding.loudness).where(Embedding.model == model))
    return sum(int(sounding(loudness, len(starts) // 4).sum()) for starts, loudness in rows)


def segment_chunks(
    sessions: sessionmaker[Session], model: str, codec: TimelineCodec | None
) -> Callable[[], Iterator[SegmentChunk]]:
    """A callable giving, each time, every sounding slice of `model` in track order, a chunk at a time."""

    def chunks() -> Iterator[SegmentChunk]:
        query = (
            select(Embedding.track_id, Embedding.dim, Embedding.timeline, Embedding.timeline_format, Embedding.loudness)
            .where(Embedding.model == model)
            .order_by(Embedding.track_id)
            .execution_options(yield_per=TRACKS_A_CHUNK)
        )
        with sessions() as s:
            for part in s.execute(query).partitions(TRACKS_A_CHUNK):
                yield _rows(part, codec)

    return chunks


def _rows(part: Sequence[Row], codec: TimelineCodec | None) -> SegmentChunk:
    """The sounding slices of (track id, dim, timeline, format, loudness) rows."""
    tracks, slices, vectors = [], [], []
    for track_id, dim, blob, fmt, loudness in part:
        timeline = comparable(blob, fmt, dim, codec)
        keep = np.flatnonzero(sounding(loudness, len(timeline)))
        tracks.append(np.full(len(keep), track_id, np.int64))
        slices.append(keep.astype(np.int32))
        vectors.append(normalise(timeline[keep]))
    return np.concatenate(tracks), np.concatenate(slices), np.concatenate(vectors)


@dataclass(frozen=True)
class ChangedSegments:
    """The tracks whose timelines were written after a vectors version, and their sounding slices."""

    track_ids: np.ndarray  # sorted: every changed track, sounding or not
    rows: SegmentChunk


def segment_rows_since(session: Session, model: str, version: int, codec: TimelineCodec | None) -> ChangedSegments:
    query = (
        select(Embedding.track_id, Embedding.dim, Embedding.timeline, Embedding.timeline_format, Embedding.loudness)
        .where(Embedding.model == model, Embedding.version > version)
        .order_by(Embedding.track_id)
    )
    part = session.execute(query).all()
    ids = np.array([r[0] for r in part], np.int64)
    if not part:
        return ChangedSegments(ids, (ids, np.empty(0, np.int32), np.empty((0, 0), np.float32)))
    return ChangedSegments(ids, _rows(part, codec))
