"""Embedding models. `load_embedder` is the one way in; torch is imported only when called."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer.models.base import Embedder

MODELS = ("mule", "maest", "mert-95m", "mert-330m", "musicfm-msd", "musicfm-fma")
LICENCES = {  # of the published weights; shown wherever people use them
    "mule": "MULE weights © SiriusXM/Pandora, CC BY-NC 4.0: non-commercial use only",
    "maest": "MAEST weights (MTG-UPF), CC BY-NC-SA 4.0: non-commercial, share-alike",
    "mert-95m": "MERT weights (m-a-p), CC BY-NC 4.0: non-commercial use only",
    "mert-330m": "MERT weights (m-a-p), CC BY-NC 4.0: non-commercial use only",
    "musicfm-msd": "MusicFM weights (ByteDance), MIT; trained on Million Song Dataset audio",
    "musicfm-fma": "MusicFM weights (ByteDance), MIT; trained on Free Music Archive audio",
}
OPTIONS = {  # model-specific options
    "mule": (),
    "maest": ("variant", "styles_top", "styles_min"),
    "mert-95m": ("layer",),
    "mert-330m": ("layer",),
    "musicfm-msd": ("layer",),
    "musicfm-fma": ("layer",),
}


def load_embedder(
    model: str = "mule",
    weights: str | None = None,
    device: str = "auto",
    precision: str = "fp32",
    batch_size: int | None = None,
    **options: str | int | float | None,
) -> Embedder:
    """Load the named model's weights (folder or Hub repo) onto `device`; `options` as OPTIONS allows."""
    if model not in MODELS:
        raise IndexerError(f"unknown model {model!r}; available: {', '.join(MODELS)}")
    given = {k: v for k, v in options.items() if v is not None}
    wrong = sorted(set(given) - set(OPTIONS[model]))
    if wrong:
        raise IndexerError(f"model {model} takes no {', '.join('--' + w for w in wrong)} option")
    if model == "mule":
        from indexer.models.mule.embedder import MuleEmbedder

        return MuleEmbedder.from_weights(weights, device=device, precision=precision, batch_size=batch_size)
    if model == "maest":
        from indexer.models.maest.config import STYLES_MIN, STYLES_TOP
        from indexer.models.maest.embedder import MaestEmbedder

        variant = given.get("variant")
        return MaestEmbedder.from_weights(
            weights,
            str(variant) if variant is not None else None,
            device,
            precision,
            batch_size,
            styles_top=int(given.get("styles_top", STYLES_TOP) or 0),
            styles_min=float(given.get("styles_min", STYLES_MIN) or 0.0),
        )
    if model.startswith("musicfm-"):
        from indexer.models.musicfm.embedder import MusicFMEmbedder

        return MusicFMEmbedder.from_weights(model, weights, _layer(given), device, precision, batch_size)
    from indexer.models.mert.embedder import MertEmbedder

    return MertEmbedder.from_weights(model, weights, _layer(given), device, precision, batch_size)


def _layer(options: dict[str, str | int | float]) -> str | None:
    layer = options.get("layer")
    return str(layer) if layer is not None else None
