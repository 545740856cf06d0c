"""Embedding an outside audio file (an upload, `storage.query --audio`) to query with: the one place the
page, the HTTP API and the CLI do it.

The file is decoded and embedded exactly like a catalog track, but nothing is stored. The model is
loaded once per process for each (model, weights, options, device) and shared by every caller and
thread after that (`shared_embedder`).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from indexer import models
from indexer.audio import decode
from indexer.errors import AudioTooLongError
from indexer.fingerprint import fingerprint
from indexer.tags import read_tags
from storage.core.passages import Timeline
from storage.search.request import VectorQuery

if TYPE_CHECKING:
    from indexer.models.base import Embedder
    from storage.read.catalog import Catalog

log = logging.getLogger(__name__)

_loaded: dict[tuple, Embedder] = {}
_loading = threading.Lock()  # two first uploads at once still load the model once


def shared_embedder(model: str, weights: str | None, options: dict[str, str], device: str = "auto") -> Embedder:
    """The process's one embedder for `model` with these weights and options (loaded on first use)."""
    key = (model, weights, device, tuple(sorted(options.items())))
    with _loading:
        if key not in _loaded:
            log.info("loading %s for outside audio", model)
            _loaded[key] = models.load_embedder(model, weights, device, "fp32", None, **options)
        return _loaded[key]


def forget_shared_embedders() -> None:
    """Drop the loaded models (the next caller loads its model again): for tests that swap loaders."""
    with _loading:
        _loaded.clear()


def catalog_embedder(catalog: Catalog, weights: str | None = None, device: str = "auto") -> Embedder:
    """The shared embedder for `catalog`'s model, with the weights and options its build used
    (storage.core.paths.chosen_weights: the flag, $SOUNDALIKE_WEIGHTS, the build's)."""
    return shared_embedder(catalog.model, *catalog.model_settings(weights), device)


def embed_file(path: str | Path, embedder: Embedder, max_seconds: float | None = None) -> VectorQuery:
    """Decode and embed `path` as a query; DecodeError if it is not audio, AudioTooLongError past
    `max_seconds`. The query carries the file's timeline, duration, sha256, tags and the weights' revision."""
    path = Path(path)
    wave = decode(path, embedder.sample_rate)
    seconds = wave.size / embedder.sample_rate
    if max_seconds is not None and seconds > max_seconds:
        raise AudioTooLongError(
            f"{path.name} is {seconds / 60:.1f} min long; the limit for a query file is {max_seconds / 60:.0f} min"
        )
    embedding = embedder.embed([wave])[0]
    tags = read_tags(path)
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return VectorQuery(
        embedding.vector,
        Timeline(embedding.timeline, embedding.starts, seconds),
        seconds,
        digest,
        embedder.revision,
        tags.title,
        tags.artist,
        tags.album,
        fingerprint(wave, embedder.sample_rate),
    )


def embed_bytes(data: bytes, filename: str, embedder: Embedder, max_seconds: float | None = None) -> VectorQuery:
    """As `embed_file`, for bytes received from a browser or a client (the name's suffix helps the decoder)."""
    suffix = Path(filename).suffix[:16]
    with tempfile.TemporaryDirectory(prefix="soundalike-query-") as folder:
        path = Path(folder) / f"query{suffix}"
        path.write_bytes(data)
        query = embed_file(path, embedder, max_seconds)
    if query.title in (None, path.stem):  # the temporary name is no title
        return replace(query, title=Path(filename).stem)
    return query
