"""The steps of a build that every engine uses: decode one file (`load_track`), name a failure
(`failure_reason`), commit one track (`commit_track`); and what an engine hands back per track."""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.audio import DecodeError, decode
from indexer.errors import EmbeddingInputError
from indexer.fingerprint import fingerprint
from indexer.models.base import TrackEmbedding, check_waveform
from indexer.tags import Tags, read_tags
from storage.core.paths import database_url
from storage.recordings.fingerprints import Fingerprint
from storage.write.store import Store


@dataclass(frozen=True)
class EmbedJob:
    """What an engine needs to embed tracks as the build's own model does (plain values: an engine may
    ship it to other processes or machines)."""

    model: str
    weights: str | None
    options: dict[str, str]
    device: str
    precision: str
    batch_size: int | None
    revision: str
    sample_rate: int
    timeout: float
    workers: int
    database: str | None = None  # a server database engines may commit to themselves (PostgreSQL)


@dataclass(frozen=True)
class TrackOutcome:
    """One track's result from an engine: its embedding, or why it failed."""

    track_id: int
    tags: Tags | None = None
    embedding: TrackEmbedding | None = None
    loudness: np.ndarray | None = None
    error: str | None = None
    committed: bool | None = None
    fingerprint: Fingerprint | None = None  # None: the builder commits it; True/False: the engine did (False: gone)


def load_track(path: str, sample_rate: int) -> tuple[np.ndarray, Tags, Fingerprint | None]:
    """Worker-process job: decoded mono audio, tags and the acoustic fingerprint of one file."""
    wave = decode(path, sample_rate)
    check_waveform(wave)
    return wave, read_tags(Path(path)), fingerprint(wave, sample_rate)


def fingerprint_file(path: str, sample_rate: int) -> Fingerprint | None:
    """Worker-process job: the fingerprint alone (a track embedded before fingerprints were kept)."""
    return fingerprint(decode(path, sample_rate), sample_rate)


def failure_reason(exc: BaseException, timeout: float) -> str:
    """What a failed decode is recorded as (one line a person can act on)."""
    from pebble import ProcessExpired

    if isinstance(exc, cf.TimeoutError | TimeoutError):
        return f"decoder timed out after {timeout:.0f} s"
    if isinstance(exc, ProcessExpired):
        return f"decoder crashed (exit code {exc.exitcode})"
    if isinstance(exc, DecodeError | EmbeddingInputError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def commit_track(
    store: Store,
    model: str,
    revision: str,
    track_id: int,
    tags: Tags,
    result: TrackEmbedding,
    loudness: np.ndarray,
    fingerprint: Fingerprint | None = None,
) -> bool:
    """One track's tags, vector, timeline, loudness and fingerprint in one transaction (either engine, any
    process)."""
    return store.save_embedding(
        track_id,
        model,
        revision,
        tags.as_dict(),
        result.vector,
        result.timeline,
        result.starts,
        result.styles,
        loudness,
        fingerprint,
    )


def server_database(store: Store) -> str | None:
    """The database URL when engines' workers can write to it themselves (a server: PostgreSQL), else None
    (SQLite: a file on the driver's machine, one writer: the builder commits every track)."""
    url = database_url(store.data_dir)
    return None if url.startswith("sqlite") else url
