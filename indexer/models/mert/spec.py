"""MERT's entries in the model registry (95M and 330M)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.models.spec import CC_BY_NC, ModelSpec, layer_option

if TYPE_CHECKING:
    from indexer.models.base import Embedder


def load(
    name: str, weights: str | None, device: str, precision: str, batch_size: int | None, layer: str | None = None
) -> Embedder:
    from indexer.models.mert.embedder import MertEmbedder

    return MertEmbedder.from_weights(name, weights, layer, device, precision, batch_size)


LICENCE = f"MERT weights (m-a-p), {CC_BY_NC}"
SPECS = (
    ModelSpec(
        "mert-95m",
        "m-a-p MERT 95M, 768-d",
        LICENCE,
        24000,
        {"cpu": 4, "cuda": 32},
        load,
        (layer_option(7),),
        testing="indexer.models.mert.testing",
    ),
    ModelSpec(
        "mert-330m",
        "m-a-p MERT 330M, 1024-d",
        LICENCE,
        24000,
        {"cpu": 4, "cuda": 32},
        load,
        (layer_option(14),),
        testing="indexer.models.mert.testing",
    ),
)
