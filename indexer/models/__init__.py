"""Embedding models. `load_embedder` is the one way in; torch is imported only when called."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer.models.base import Embedder

MODELS = ("mule",)


def load_embedder(
    model: str = "mule",
    weights: str | None = None,
    device: str = "auto",
    precision: str = "fp32",
    batch_size: int | None = None,
) -> Embedder:
    """Load the named model's weights (folder or Hub repo) onto `device`."""
    if model == "mule":
        from indexer.models.mule.embedder import MuleEmbedder

        return MuleEmbedder.from_weights(weights, device=device, precision=precision, batch_size=batch_size)
    raise IndexerError(f"unknown model {model!r}; available: {', '.join(MODELS)}")
