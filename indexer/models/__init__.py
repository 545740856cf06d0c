"""Embedding models. `load_embedder` is the one way in; torch is imported only when called."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from indexer.errors import HubUnreachableError, UnknownModelError, UsageError
from indexer.models.registry import DEFAULT_MODEL, MODELS, ModelSpec

if TYPE_CHECKING:
    from indexer.models.base import Embedder

LICENCES = {name: spec.licence for name, spec in MODELS.items()}
__all__ = ["DEFAULT_MODEL", "LICENCES", "MODELS", "check_options", "load_embedder", "model_spec"]


def model_spec(model: str) -> ModelSpec:
    """The registered spec of `model`, or UnknownModelError listing the models."""
    try:
        return MODELS[model]
    except KeyError:
        raise UnknownModelError(f"unknown model {model!r}; available: {', '.join(MODELS)}") from None


def check_options(model: str, options: Mapping[str, object]) -> ModelSpec:
    """The spec of `model`, or UsageError when it is unknown or takes none of some given option."""
    spec = model_spec(model)
    wrong = sorted(set(options) - {o.name for o in spec.options})
    if wrong:
        raise UsageError(f"model {model} takes no {', '.join('--' + w.replace('_', '-') for w in wrong)} option")
    return spec


def load_embedder(
    model: str = DEFAULT_MODEL,
    weights: str | None = None,
    device: str = "auto",
    precision: str = "fp32",
    batch_size: int | None = None,
    **options: str | int | float | None,
) -> Embedder:
    """Load the named model's weights (folder or Hub repo) onto `device`; `options` as its spec allows."""
    given = {k: v for k, v in options.items() if v is not None}
    spec = check_options(model, given)
    try:
        return spec.load(weights, device, precision, batch_size, **given)
    except HubUnreachableError as exc:
        hint = offline_hint(model)
        raise HubUnreachableError(f"{exc}; {hint}" if hint else str(exc)) from exc


def offline_hint(model: str) -> str | None:
    """For weights that cannot be fetched (no Hub, a NAS offline): the models whose weights need none."""
    offline = [f"--model {spec.name}" for spec in MODELS.values() if spec.weights_offline and spec.name != model]
    return "or index with a model whose weights need no Hub: " + ", ".join(offline) if offline else None
