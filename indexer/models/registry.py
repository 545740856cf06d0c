"""The model registry: one spec per model. `--model` choices, the CLI's option flags and their help,
licences shown on the page, and `load_embedder` all come from here. Light: imports no torch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexer.models.base import Embedder

Loader = Callable[..., "Embedder"]  # (name, weights, device, precision, batch_size, **options)


@dataclass(frozen=True)
class Option:
    """A model option, offered as `--NAME` (underscores as dashes) to `indexer build`."""

    name: str
    type: type
    help: str
    default: str  # as shown in help (the loader applies it)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    summary: str
    licence: str  # of the published weights; shown wherever people use them
    sample_rate: int
    batch: dict[str, int]  # default slices (or windows) per model batch, by device type
    loader: Loader
    options: tuple[Option, ...] = field(default=())

    def load(
        self, weights: str | None, device: str, precision: str, batch_size: int | None, **options: Any
    ) -> Embedder:
        return self.loader(self.name, weights, device, precision, batch_size, **options)


def _mule(name, weights, device, precision, batch_size):  # type: ignore[no-untyped-def]
    from indexer.models.mule.embedder import MuleEmbedder

    return MuleEmbedder.from_weights(weights, device=device, precision=precision, batch_size=batch_size)


def _maest(name, weights, device, precision, batch_size, variant=None, styles_top=None, styles_min=None):  # type: ignore[no-untyped-def]
    from indexer.models.maest.config import STYLES_MIN, STYLES_TOP
    from indexer.models.maest.embedder import MaestEmbedder

    top = STYLES_TOP if styles_top is None else int(styles_top)
    least = STYLES_MIN if styles_min is None else float(styles_min)
    return MaestEmbedder.from_weights(weights, variant, device, precision, batch_size, top, least)


def _mert(name, weights, device, precision, batch_size, layer=None):  # type: ignore[no-untyped-def]
    from indexer.models.mert.embedder import MertEmbedder

    return MertEmbedder.from_weights(name, weights, layer, device, precision, batch_size)


def _musicfm(name, weights, device, precision, batch_size, layer=None):  # type: ignore[no-untyped-def]
    from indexer.models.musicfm.embedder import MusicFMEmbedder

    return MusicFMEmbedder.from_weights(name, weights, layer, device, precision, batch_size)


def _layer(default: int) -> Option:
    return Option("layer", str, "transformer layer 1..N, or 'mean' of all", str(default))


_CC_BY_NC = "CC BY-NC 4.0: non-commercial use only"
_MAEST_OPTIONS = (
    Option("variant", str, "published variant: 30s-pw-129e, 20s-pw-129e, 10s-pw-129e, 5s-pw-129e, ...", "30s-pw-129e"),
    Option("styles_top", int, "styles kept per track", "5"),
    Option("styles_min", float, "least probability of a kept style", "0.1"),
)
SPECS = (
    ModelSpec("mule", "SiriusXM/Pandora MULE, 1728-d", f"MULE weights © SiriusXM/Pandora, {_CC_BY_NC}",
              16000, {"cpu": 32, "cuda": 256}, _mule),
    ModelSpec("maest", "MTG MAEST transformer, 2304-d, Discogs style tags",
              "MAEST weights (MTG-UPF), CC BY-NC-SA 4.0: non-commercial, share-alike",
              16000, {"cpu": 2, "cuda": 32}, _maest, _MAEST_OPTIONS),
    ModelSpec("mert-95m", "m-a-p MERT 95M, 768-d", f"MERT weights (m-a-p), {_CC_BY_NC}",
              24000, {"cpu": 4, "cuda": 32}, _mert, (_layer(7),)),
    ModelSpec("mert-330m", "m-a-p MERT 330M, 1024-d", f"MERT weights (m-a-p), {_CC_BY_NC}",
              24000, {"cpu": 4, "cuda": 32}, _mert, (_layer(14),)),
    ModelSpec("musicfm-msd", "ByteDance MusicFM (MSD), 1024-d",
              "MusicFM weights (ByteDance), MIT; trained on Million Song Dataset audio",
              24000, {"cpu": 1, "cuda": 16}, _musicfm, (_layer(7),)),
    ModelSpec("musicfm-fma", "ByteDance MusicFM (FMA), 1024-d",
              "MusicFM weights (ByteDance), MIT; trained on Free Music Archive audio",
              24000, {"cpu": 1, "cuda": 16}, _musicfm, (_layer(7),)),
)  # fmt: skip
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in SPECS}
DEFAULT_MODEL = "mule"


def all_options() -> dict[str, tuple[Option, dict[str, str]]]:
    """Every option any model takes, with each model that takes it and its default there (CLI flags)."""
    found: dict[str, tuple[Option, dict[str, str]]] = {}
    for spec in SPECS:
        for option in spec.options:
            found.setdefault(option.name, (option, {}))[1][spec.name] = option.default
    return found
