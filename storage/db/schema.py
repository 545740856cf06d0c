"""SQLAlchemy models (schema v7). The database is the source of truth; FAISS indexes derive from it.

State is per (track, model) and never stored twice: a track is *indexed* for a model when it has
that model's row in `embeddings`, *failed* when it has one in `failures`, *pending* otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> Table:
    """A model's Table (for DDL and core statements in migrations)."""
    return cast(Table, model.__table__)


class Meta(Base):
    """Key/value facts about the store (the schema version)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Folder(Base):
    """A catalog folder indexed into this data directory (a library may have several)."""

    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(String(4096), unique=True)  # absolute, resolved
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Track(Base):
    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("folder_id", "path", name="uq_tracks_folder_path"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(2048))  # POSIX, relative to the folder
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
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Model(Base):
    """A model built into this data directory: the settings its build remembers and its vectors version
    (bumped with every change to its vectors, so a reader can tell a stale index from a fresh one)."""

    __tablename__ = "models"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    weights: Mapped[str | None] = mapped_column(Text)  # as given (folder made absolute), None: default
    options: Mapped[str] = mapped_column(Text, default="{}")  # JSON: model options of the build
    vectors_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Embedding(Base):
    """One track's vector from one model, with the per-slice timeline it was pooled from."""

    __tablename__ = "embeddings"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[str] = mapped_column(String(128))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32 little-endian, as produced (not normalised)
    timeline: Mapped[bytes] = mapped_column(LargeBinary)  # as `timeline_format` says (storage.core.timelines)
    starts: Mapped[bytes] = mapped_column(LargeBinary)  # float32 (n_slices,) seconds
    timeline_format: Mapped[str] = mapped_column(String(16), default="f16", server_default="f16")
    loudness: Mapped[bytes | None] = mapped_column(LargeBinary)  # int8 (n_slices,) dBFS; None: not measured
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The model's vectors version this row was written at: an index update reads only the rows newer than
    # its build (storage.index.increments). None: written before schema v6 (the migration stamps those).
    version: Mapped[int | None] = mapped_column(Integer)


Index("ix_embeddings_model", Embedding.model, Embedding.track_id)
Index("ix_embeddings_model_version", Embedding.model, Embedding.version)


class TimelineCodec(Base):
    """A model's timeline basis (storage.core.timelines): learned once from its first slices, kept until
    its vectors are dropped (other weights, another space)."""

    __tablename__ = "timeline_codecs"
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    dims: Mapped[int] = mapped_column(Integer)
    mean: Mapped[bytes] = mapped_column(LargeBinary)  # float32 (dim,)
    components: Mapped[bytes] = mapped_column(LargeBinary)  # float32 (dims, dim)
    rest: Mapped[float] = mapped_column(Float)
    fitted_slices: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Failure(Base):
    """Why a track could not be embedded by one model (kept until its file changes or --rebuild)."""

    __tablename__ = "failures"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TrackStyle(Base):
    """A style label a tagging model (MAEST) gives a track, with its probability (mean over patches)."""

    __tablename__ = "track_styles"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)  # "Genre---Style"
    probability: Mapped[float] = mapped_column(Float)


class TrackFingerprint(Base):
    """A track's acoustic fingerprint (storage.recordings.fingerprints; model-independent) and the groups it joins:
    `recording`, tracks whose fingerprints match (the same performance, any master), and `copy`, those of
    them that are also one master (duplicates). Each group is named by its smallest track id; None: not
    grouped yet (the build's next step)."""

    __tablename__ = "fingerprints"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    items: Mapped[bytes] = mapped_column(LargeBinary)  # uint32 little-endian, Chromaprint's raw items
    keys: Mapped[bytes] = mapped_column(LargeBinary)  # uint16 little-endian: the sampled keys the index holds
    profile: Mapped[bytes] = mapped_column(LargeBinary)  # float32 little-endian: dB per level band
    recording: Mapped[int | None] = mapped_column(Integer, index=True)
    copy: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Answer(Base):
    """A listener's judgement about tracks (storage.listeners.answers): which of three sounds least like the other two
    (`third` set; `odd` one of the three, None: "can't say"), or a thumb on a result (`third` None; `verdict`
    +1 alike, -1 not alike: `first` the query, `second` the result). Model-agnostic: track ids only, so
    answers outlive rebuilds; a forgotten track takes its answers with it."""

    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listener: Mapped[str] = mapped_column(String(128), index=True)
    first: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    second: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    third: Mapped[int | None] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    odd: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
