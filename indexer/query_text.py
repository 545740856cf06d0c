"""Embedding words to query with: a description, or the words that steer a query. The text tower of the
catalog's own model and weights (the build's, as for outside audio: indexer.query_audio), loaded once per
process."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from indexer.query_audio import catalog_embedder
from storage.core.errors import UsageError
from storage.read.catalog import Catalog
from storage.search.request import Steering, TextQuery
from storage.search.words import MAX_CHARS, TEXT_MODELS


def _clean(texts: Sequence[str]) -> list[str]:
    cleaned = [" ".join(t.split()) for t in texts]
    if any(not t for t in cleaned):
        raise UsageError("a text query needs some words")
    if any(len(t) > MAX_CHARS for t in cleaned):
        raise UsageError(f"a text query is at most {MAX_CHARS} characters")
    return cleaned


def _embed(
    catalog: Catalog, texts: Sequence[str], weights: str | None, device: str
) -> tuple[list[str], np.ndarray, str]:
    """(the texts cleaned, their (len, dim) unit vectors, the weights' revision) by `catalog`'s model, which
    must understand words (storage.search.words.text_catalog finds one)."""
    if catalog.model not in TEXT_MODELS:
        raise UsageError(
            f"model {catalog.model} does not understand words; words need {', '.join(TEXT_MODELS)} "
            "(`indexer build FOLDER --model clap`, then --model clap)"
        )
    cleaned = _clean(texts)
    embedder = catalog_embedder(catalog, weights, device)
    return cleaned, _vectors(embedder, tuple(cleaned)), embedder.revision


@lru_cache(maxsize=256)
def _vectors(embedder: Any, texts: tuple[str, ...]) -> np.ndarray:
    """Each text embedded once per process and model (a page asks again on every rerun); read-only, shared."""
    vectors = np.asarray(embedder.embed_texts(list(texts)), np.float32)
    vectors.setflags(write=False)
    return vectors


def forget_texts() -> None:
    """Drop the embedded texts (tests that swap models)."""
    _vectors.cache_clear()


def text_query(catalog: Catalog, text: str, weights: str | None = None, device: str = "auto") -> TextQuery:
    """A description as a query of `catalog`'s model, with the revision of the weights that embedded it."""
    [cleaned], vectors, revision = _embed(catalog, [text], weights, device)
    return TextQuery(cleaned, vectors[0], revision)


def steering(
    catalog: Catalog,
    more: Sequence[str] = (),
    less: Sequence[str] = (),
    weight: float | None = None,
    weights: str | None = None,
    device: str = "auto",
) -> Steering | None:
    """The words as a Steering of `catalog`'s model (None when there are none)."""
    if not more and not less:
        return None
    words, vectors, _ = _embed(catalog, [*more, *less], weights, device)
    extra = {} if weight is None else {"weight": weight}
    cut = len(more)
    return Steering(tuple(words[:cut]), tuple(words[cut:]), vectors[:cut], vectors[cut:], **extra)
