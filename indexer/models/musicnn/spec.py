"""MusiCNN's entry in the model registry."""

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
    tags_top: str | int | None = None,
    tags_min: str | float | None = None,
    loudness: str | None = None,
) -> Embedder:
    from indexer.models.musicnn.config import TAGS_MIN, TAGS_TOP
    from indexer.models.musicnn.embedder import MusicnnEmbedder

    top = TAGS_TOP if tags_top is None else int(tags_top)
    least = TAGS_MIN if tags_min is None else float(tags_min)
    return MusicnnEmbedder.from_weights(weights, variant, device, precision, batch_size, top, least, loudness)


OPTIONS = (
    Option("variant", str, "the published variant: msd (Million Song Dataset tags) or mtt (MagnaTagATune)", "msd"),
    Option("tags_top", int, "tags kept per track", "5"),
    Option("tags_min", float, "least probability of a kept tag", "0.1"),
    # Measured on real music: normalised, a copy 6 dB quieter embeds as its original (cosine 0.94-0.98 ->
    # 1.0000, bench_loudness.py), but similarity by soundtrack drops on whole tracks (bench_quality.py: MSD
    # P@10 0.765 -> 0.756, MAP@10 0.715 -> 0.690): as decoded by default; fingerprints find copies anyway.
    Option("loudness", str, "loudness-normalise the audio first: r128 (EBU R128, -23 LUFS) or none", "none"),
)
SPECS = (
    ModelSpec(
        "musicnn",
        "MTG MusiCNN (MSD or MTT), 200-d, 50 tags; weights from the musicnn wheel, no Hub needed",
        "MusiCNN weights (MTG-UPF, Jordi Pons), ISC licence: free to use, commercial use included",
        16000,
        {"cpu": 2, "cuda": 512},  # CPU: 2 patches keep the front end's maps in cache (2.6x batch 32's speed)
        load,
        OPTIONS,
        weights_offline=True,
        labels="styles",  # shown as the page shows MAEST's (filters, cards, compared)
        testing="indexer.models.musicnn.testing",
        centred=True,  # real music, leave-one-out precision@5 by soundtrack: 0.81 -> 0.88 (MSD), 0.75 -> 0.86 (MTT)
    ),
)
