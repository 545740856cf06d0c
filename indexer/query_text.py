"""Embedding words to query with: a description, or the words that steer a query. The text tower of the
catalog's own model and weights (the build's, as for outside audio: indexer.query_audio), loaded once per
process."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer.query_audio import catalog_embedder
from storage.catalog import Catalog
from storage.errors import UsageError
from storage.search import Steering, TextQuery
from storage.words import MAX_CHARS, TEXT_MODELS


def _clean(texts: Sequence[str]) -> list[str]:
    cleaned = [" ".join(t.split()) for t in texts]
    if any(not t for t in cleaned):
        raise UsageError("a text query needs some words")
    if any(len(t) > MAX_CHARS for t in cleaned):
        raise UsageError(f"a text query is at most {MAX_CHARS} characters")
    return cleaned


def text_vectors(
    catalog: Catalog, texts: Sequence[str], weights: str | None = None, device: str = "auto"
) -> np.ndarray:
    """(len(texts), dim) unit vectors of `catalog`'s model (a text-capable one: storage.words.text_catalog)."""
    if catalog.model not in TEXT_MODELS:
        raise UsageError(
            f"model {catalog.model} does not understand words; words need {', '.join(TEXT_MODELS)} "
            "(`indexer build FOLDER --model clap`, then --model clap)"
        )
    cleaned = _clean(texts)
    return np.asarray(catalog_embedder(catalog, weights, device).embed_texts(cleaned), np.float32)  # type: ignore[attr-defined]


def text_query(catalog: Catalog, text: str, weights: str | None = None, device: str = "auto") -> TextQuery:
    """A description as a query of `catalog`'s model, with the revision of the weights that embedded it."""
    vector = text_vectors(catalog, [text], weights, device)[0]
    revision = catalog_embedder(catalog, weights, device).revision  # loaded by text_vectors: no second load
    return TextQuery(_clean([text])[0], vector, revision)


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
    vectors = text_vectors(catalog, [*more, *less], weights, device)
    extra = {} if weight is None else {"weight": weight}
    return Steering(tuple(_clean(more)), tuple(_clean(less)), vectors[: len(more)], vectors[len(more) :], **extra)
