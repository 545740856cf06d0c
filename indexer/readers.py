"""What a question brings from outside the catalog, embedded by the answering catalog's own model and weights
(storage.search.question.Reader): a description, steering words, a file. Importing this loads no model;
each method imports its embedding code when first called."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from storage.core.errors import UsageError
from storage.read.catalog import Catalog
from storage.search.question import Upload
from storage.search.request import Steering, TextQuery, VectorQuery


class Reader:
    """`weights` and `device` as the indexer's (--weights, --device): the build's weights by default."""

    def __init__(self, weights: str | None = None, device: str = "auto") -> None:
        self.weights, self.device = weights, device

    def text_query(self, catalog: Catalog, text: str) -> TextQuery:
        from indexer.query_text import text_query

        return text_query(catalog, text, self.weights, self.device)

    def steering(
        self, catalog: Catalog, more: Sequence[str], less: Sequence[str], weight: float | None
    ) -> Steering | None:
        from indexer.query_text import steering

        return steering(catalog, more, less, weight, self.weights, self.device)

    def file_query(self, catalog: Catalog, file: Path | Upload) -> VectorQuery:
        if isinstance(file, Path) and not file.is_file():  # said before any model loads
            raise UsageError(f"no such audio file: {file}")
        from indexer.query_audio import catalog_embedder, embed_bytes, embed_file

        embedder = catalog_embedder(catalog, self.weights, self.device)
        if isinstance(file, Path):
            return embed_file(file, embedder)
        return embed_bytes(file.data, file.name, embedder, file.max_seconds)
