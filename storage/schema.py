"""SQLAlchemy models. The database is the source of truth; FAISS indexes are derived from it."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Key/value facts about the store: schema version, vectors version, catalog root."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Track(Base):
    __tablename__ = "tracks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(String(2048), unique=True)  # POSIX, relative to the catalog root
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    mtime: Mapped[float] = mapped_column(Float, default=0.0)
    title: Mapped[str | None] = mapped_column(Text)
    artist: Mapped[str | None] = mapped_column(Text)
    album: Mapped[str | None] = mapped_column(Text)
    album_artist: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    genre: Mapped[str | None] = mapped_column(Text)
    track_number: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|indexed|failed
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Embedding(Base):
    """One track's vector from one model, with the per-slice timeline it was pooled from."""

    __tablename__ = "embeddings"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[str] = mapped_column(String(128))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32 little-endian, as produced (not normalised)
    timeline: Mapped[bytes] = mapped_column(LargeBinary)  # float16 (n_slices, dim)
    starts: Mapped[bytes] = mapped_column(LargeBinary)  # float32 (n_slices,) seconds
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def vector_array(self) -> np.ndarray:
        return np.frombuffer(self.vector, dtype="<f4")

    def timeline_array(self) -> np.ndarray:
        return np.frombuffer(self.timeline, dtype="<f2").reshape(-1, self.dim)

    def starts_array(self) -> np.ndarray:
        return np.frombuffer(self.starts, dtype="<f4")


class TrackStyle(Base):
    """A style label a tagging model (MAEST) gives a track, with its probability (mean over patches)."""

    __tablename__ = "track_styles"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)  # "Genre---Style"
    probability: Mapped[float] = mapped_column(Float)


class IndexRecord(Base):
    """The FAISS index currently in force for a model."""

    __tablename__ = "vector_indexes"
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[str] = mapped_column(Text)  # JSON
    count: Mapped[int] = mapped_column(Integer)
    dim: Mapped[int] = mapped_column(Integer)
    vectors_version: Mapped[int] = mapped_column(Integer)  # Meta 'vectors_version:<model>' when built
    directory: Mapped[str] = mapped_column(String(512))
    built_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    build_seconds: Mapped[float] = mapped_column(Float, default=0.0)
