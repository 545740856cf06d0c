"""Embedding an outside audio file (an upload, `storage.query --audio`) to query with.

The file is decoded and embedded exactly like a catalog track, but nothing is stored.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.audio import decode
from indexer.errors import AudioTooLongError
from indexer.models.base import Embedder, TrackEmbedding
from indexer.tags import Tags, read_tags
from storage.passages import Timeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryAudio:
    """An outside file's embedding and the tags it carries (title falls back to its name)."""

    embedding: TrackEmbedding
    tags: Tags
    seconds: float

    @property
    def timeline(self) -> Timeline:
        """Its per-slice timeline, the query side of matched passages."""
        return Timeline(self.embedding.timeline, self.embedding.starts, self.seconds)


def embed_audio_file(path: str | Path, embedder: Embedder, max_seconds: float | None = None) -> QueryAudio:
    """Decode and embed `path`; DecodeError if it is not audio, AudioTooLongError past `max_seconds`."""
    path = Path(path)
    wave = decode(path, embedder.sample_rate)
    seconds = wave.size / embedder.sample_rate
    if max_seconds is not None and seconds > max_seconds:
        raise AudioTooLongError(
            f"{path.name} is {seconds / 60:.1f} min long; the limit for a query file is {max_seconds / 60:.0f} min"
        )
    embedding = embedder.embed([wave])[0]
    return QueryAudio(embedding, read_tags(path), seconds)


def embed_audio_bytes(data: bytes, filename: str, embedder: Embedder, max_seconds: float | None = None) -> QueryAudio:
    """As `embed_audio_file`, for bytes received from a browser (the name's suffix helps the decoder)."""
    suffix = Path(filename).suffix[:16]
    with tempfile.TemporaryDirectory(prefix="soundalike-query-") as folder:
        path = Path(folder) / f"query{suffix}"
        path.write_bytes(data)
        result = embed_audio_file(path, embedder, max_seconds)
    if result.tags.title == path.stem:  # the temporary name is no title
        result = replace(result, tags=replace(result.tags, title=Path(filename).stem))
    return result
