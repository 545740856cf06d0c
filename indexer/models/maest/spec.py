"""MAEST's entry in the model registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.models.spec import ModelSpec, Option

if TYPE_CHECKING:
    from indexer.models.base import Embedder


def load(
    name: str,
    weights: str | None,
    device: str,
    precision: str,
    batch_size: int | None,
    variant: str | None = None,
    styles_top: str | int | None = None,
    styles_min: str | float | None = None,
) -> Embedder:
    from indexer.models.maest.config import STYLES_MIN, STYLES_TOP
    from indexer.models.maest.embedder import MaestEmbedder

    top = STYLES_TOP if styles_top is None else int(styles_top)
    least = STYLES_MIN if styles_min is None else float(styles_min)
    return MaestEmbedder.from_weights(weights, variant, device, precision, batch_size, top, least)


OPTIONS = (
    Option(
        "variant", str, "the published variant: 30s-pw-129e, 20s-pw-129e, 10s-pw-129e, 5s-pw-129e, ...", "30s-pw-129e"
    ),
    Option("styles_top", int, "styles kept per track", "5"),
    Option("styles_min", float, "least probability of a kept style", "0.1"),
)
SPECS = (
    ModelSpec(
        "maest",
        "MTG MAEST transformer, 2304-d, Discogs style tags",
        "MAEST weights (MTG-UPF), CC BY-NC-SA 4.0: non-commercial, share-alike",
        16000,
        {"cpu": 2, "cuda": 32},
        load,
        OPTIONS,
        labels="styles",
        testing="indexer.models.maest.testing",
    ),
)
