"""MULE's entry in the model registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.models.spec import CC_BY_NC, ModelSpec

if TYPE_CHECKING:
    from indexer.models.base import Embedder


def load(name: str, weights: str | None, device: str, precision: str, batch_size: int | None) -> Embedder:
    from indexer.models.mule.embedder import MuleEmbedder

    return MuleEmbedder.from_weights(weights, device=device, precision=precision, batch_size=batch_size)


SPECS = (
    ModelSpec(
        "mule",
        "SiriusXM/Pandora MULE, 1728-d",
        f"MULE weights © SiriusXM/Pandora, {CC_BY_NC}",
        16000,
        {"cpu": 32, "cuda": 256},
        load,
        testing="indexer.models.mule.testing",
    ),
)
