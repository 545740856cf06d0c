"""What a model package declares about itself (its `spec.py`): name, licence, sample rate, batch sizes,
typed options, a loader, and what it can do (tag tracks, read words, work offline, write random weights for
tests). Nothing outside a model's package and the registry names a model: they ask these. Light: no torch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexer.models.base import Embedder

Loader = Callable[..., "Embedder"]  # (name, weights, device, precision, batch_size, **options)
CC_BY_NC = "CC BY-NC 4.0: non-commercial use only"


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
    # Compare vectors less the catalog's mean (storage.index.vectors.centred): for models whose vectors all share a
    # large common direction; chosen per model from measurements on real music (docs/benchmarks.md).
    centred: bool = False
    # Its weights come with a package (pip), not from the Hub: a build works with no network at all.
    weights_offline: bool = False
    # What the labels it gives each track are called for people ("styles", "tags", "sounds"); None: it gives none.
    labels: str | None = None
    # A text tower in the audio's own space: search by words, and words that steer a query.
    text: bool = False
    # The module whose `write_random(directory, model, seed) -> Path` writes random weights in the published
    # format (tests and benchmarks: no weights can be downloaded there).
    testing: str | None = None

    def write_random_weights(self, directory: Path, seed: int = 0) -> Path:
        """A folder of random weights this spec's loader takes (small where the format allows)."""
        if self.testing is None:
            raise NotImplementedError(f"{self.name} declares no random-weight writer")
        written: Path = import_module(self.testing).write_random(directory, self.name, seed)
        return written

    def load(
        self, weights: str | None, device: str, precision: str, batch_size: int | None, **options: Any
    ) -> Embedder:
        return self.loader(self.name, weights, device, precision, batch_size, **options)


def layer_option(default: int) -> Option:
    """The option of transformer models: which hidden layer gives the vector."""
    return Option("layer", str, "transformer layer 1..N, or 'mean' of all", str(default))
