"""MusicFM's entries in the model registry (the MSD and FMA checkpoints)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.models.spec import ModelSpec, layer_option

if TYPE_CHECKING:
    from indexer.models.base import Embedder


def load(
    name: str, weights: str | None, device: str, precision: str, batch_size: int | None, layer: str | None = None
) -> Embedder:
    from indexer.models.musicfm.embedder import MusicFMEmbedder

    return MusicFMEmbedder.from_weights(name, weights, layer, device, precision, batch_size)


BATCH = {"cpu": 1, "cuda": 16}
SPECS = (
    ModelSpec(
        "musicfm-msd",
        "ByteDance MusicFM (MSD), 1024-d",
        "MusicFM weights (ByteDance), MIT; trained on Million Song Dataset audio",
        24000,
        BATCH,
        load,
        (layer_option(7),),
        testing="indexer.models.musicfm.testing",
    ),
    ModelSpec(
        "musicfm-fma",
        "ByteDance MusicFM (FMA), 1024-d",
        "MusicFM weights (ByteDance), MIT; trained on Free Music Archive audio",
        24000,
        BATCH,
        load,
        (layer_option(7),),
        testing="indexer.models.musicfm.testing",
    ),
)
