"""The model registry: the list of model packages. Each package (`indexer/models/<name>/`) declares its
specs in its `spec.py` (name, licence, sample rate, batches, options, loader: indexer.models.spec)
and its random-weights writer in its `testing.py`; `--model` choices, the CLI's option flags and their
help, licences shown on the page, and `load_embedder` all come from here. Light: imports no torch."""

from __future__ import annotations

from dataclasses import replace
from importlib import import_module

from indexer.models.spec import ModelSpec, Option

PACKAGES = ("mule", "maest", "mert", "musicfm", "musicnn", "clap")  # adding a model: its package, then its name here

SPECS: tuple[ModelSpec, ...] = tuple(
    spec for package in PACKAGES for spec in import_module(f"indexer.models.{package}.spec").SPECS
)
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in SPECS}
DEFAULT_MODEL = "mule"  # the model every command, the page and the API use unless told otherwise

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "PACKAGES",
    "SPECS",
    "ModelSpec",
    "Option",
    "all_options",
    "example",
    "labels_word",
    "offline_models",
    "tagging_models",
    "text_models",
]


def tagging_models() -> tuple[str, ...]:
    """The models that label tracks, in the order a catalog prefers their labels."""
    return tuple(spec.name for spec in SPECS if spec.labels)


def text_models() -> tuple[str, ...]:
    """The models that understand words (search by description, steering)."""
    return tuple(spec.name for spec in SPECS if spec.text)


def offline_models() -> tuple[str, ...]:
    """The models whose weights need no Hub."""
    return tuple(spec.name for spec in SPECS if spec.weights_offline)


def example(kind: str) -> str:
    """A model to name in help and messages: the first that "tags", reads "words" or works "offline"."""
    found = {"tags": tagging_models, "words": text_models, "offline": offline_models}[kind]()
    return found[0] if found else DEFAULT_MODEL


def labels_word(model: str | None) -> str:
    """What `model`'s labels of a track are called for people ("labels" for a model that has none)."""
    spec = MODELS.get(model or "")
    return spec.labels if spec is not None and spec.labels else "labels"


def all_options() -> dict[str, tuple[Option, dict[str, str]]]:
    """Every option any model takes, with each model that takes it and its default there (CLI flags). An
    option whose help differs between models (each its own variants) says each model's."""
    found: dict[str, tuple[Option, dict[str, str]]] = {}
    helps: dict[str, dict[str, str]] = {}
    for spec in SPECS:
        for option in spec.options:
            found.setdefault(option.name, (option, {}))[1][spec.name] = option.default
            helps.setdefault(option.name, {}).setdefault(option.help, spec.name)
    for name, by_help in helps.items():
        if len(by_help) > 1:
            option, defaults = found[name]
            found[name] = (replace(option, help=_joined(by_help)), defaults)
    return found


def _joined(by_help: dict[str, str]) -> str:
    """One help from each model's: "the published variant: a or b" and "...: c" read "the published variant: m1 a or
    b; m2 c"."""
    heads = {text.partition(": ")[0] for text in by_help}
    if len(heads) == 1 and all(": " in text for text in by_help):
        return f"{heads.pop()}: " + "; ".join(f"{model} {text.partition(': ')[2]}" for text, model in by_help.items())
    return "; ".join(f"{model}: {text}" for text, model in by_help.items())
