"""What a model package declares about itself (its `spec.py`): name, licence, sample rate, batch sizes,
typed options and a loader. Light: imports no torch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexer.models.base import Embedder

Loader = Callable[..., "Embedder"]  # (name, weights, device, precision, batch_size, **options)
CC_BY_NC = "CC BY-NC 4.0: non-commercial use only"
VARIANT_HELP = (
    "the published variant: maest 30s-pw-129e, 20s-pw-129e, 10s-pw-129e, 5s-pw-129e, ...; "
    "musicnn msd (Million Song Dataset tags) or mtt (MagnaTagATune); "
    "clap general (larger_clap_general), unfused (clap-htsat-unfused) or music (no search by words)"
)


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
    # Compare vectors less the catalog's mean (storage.vectors.centred): for models whose vectors all share a
    # large common direction; chosen per model from measurements on real music (docs/benchmarks.md).
    centred: bool = False

    def load(
        self, weights: str | None, device: str, precision: str, batch_size: int | None, **options: Any
    ) -> Embedder:
        return self.loader(self.name, weights, device, precision, batch_size, **options)


def layer_option(default: int) -> Option:
    """The option of transformer models: which hidden layer gives the vector."""
    return Option("layer", str, "transformer layer 1..N, or 'mean' of all", str(default))
