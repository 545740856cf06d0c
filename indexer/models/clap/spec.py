"""CLAP's entry in the model registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.models.spec import ModelSpec, Option

VARIANT = (
    "the published variant: general (larger_clap_general), unfused (clap-htsat-unfused) or music (no search by words)"
)

if TYPE_CHECKING:
    from indexer.models.base import Embedder


def load(
    name: str,
    weights: str | None,
    device: str,
    precision: str,
    batch_size: int | None,
    variant: str | None = None,
    tags_top: str | int | None = None,
    tags_min: str | float | None = None,
    tags_file: str | None = None,
) -> Embedder:
    from indexer.models.clap.config import TAGS_MIN, TAGS_TOP
    from indexer.models.clap.embedder import ClapEmbedder

    top = TAGS_TOP if tags_top is None else int(tags_top)
    least = TAGS_MIN if tags_min is None else float(tags_min)
    return ClapEmbedder.from_weights(weights, variant, device, precision, batch_size, top, least, tags_file)


# The model cards of laion/larger_clap_general, clap-htsat-unfused and larger_clap_music say apache-2.0
# (LAION's code repository is CC0-1.0).
LICENCE = "LAION CLAP weights, Apache-2.0 (the Hub model cards)"
SPECS = (
    ModelSpec(
        "clap",
        "LAION CLAP (HTSAT + RoBERTa), 512-d, audio and words in one space: search by description",
        LICENCE,
        48000,
        {"cpu": 4, "cuda": 64},
        load,
        (
            Option("variant", str, VARIANT, "general"),
            Option("tags_top", int, "tags kept per track", "5"),
            Option("tags_min", float, "least probability of a kept tag", "0.3"),
            Option(
                "tags_file", str, "clap: a tag vocabulary ('category | tag | prompt' lines) instead of ours", "ours"
            ),
        ),
        labels="sounds",
        text=True,
        testing="indexer.models.clap.testing",
    ),
)
