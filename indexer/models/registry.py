"""The model registry: the list of model packages. Each package (`indexer/models/<name>/`) declares its
specs in its `spec.py` (name, licence, sample rate, batches, options, loader: indexer.models.spec)
and its random-weights writer in its `testing.py`; `--model` choices, the CLI's option flags and their
help, licences shown on the page, and `load_embedder` all come from here. Light: imports no torch."""

from __future__ import annotations

from importlib import import_module

from indexer.models.spec import ModelSpec, Option
from storage.paths import DEFAULT_MODEL

PACKAGES = ("mule", "maest", "mert", "musicfm", "musicnn", "clap")  # adding a model: its package, then its name here

SPECS: tuple[ModelSpec, ...] = tuple(
    spec for package in PACKAGES for spec in import_module(f"indexer.models.{package}.spec").SPECS
)
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in SPECS}

__all__ = ["DEFAULT_MODEL", "MODELS", "PACKAGES", "SPECS", "ModelSpec", "Option", "all_options"]


def all_options() -> dict[str, tuple[Option, dict[str, str]]]:
    """Every option any model takes, with each model that takes it and its default there (CLI flags)."""
    found: dict[str, tuple[Option, dict[str, str]]] = {}
    for spec in SPECS:
        for option in spec.options:
            found.setdefault(option.name, (option, {}))[1][spec.name] = option.default
    return found
