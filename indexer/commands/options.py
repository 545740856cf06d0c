"""What several commands' parsers share: the model flags, a listener's metric, examples in the help."""

from __future__ import annotations

import argparse

from indexer.models.registry import DEFAULT_MODEL, MODELS, all_options


def model_help() -> str:
    models = "; ".join(f"{s.name}: {s.summary}" for s in MODELS.values())
    return f"embedding model to build (default: {DEFAULT_MODEL}): {models}"


def add_model_options(build: argparse.ArgumentParser) -> None:
    """One flag per model option of the registry, saying which models take it."""
    group = build.add_argument_group("model options (remembered per model: a later plain build reuses them)")
    for name, (option, defaults) in all_options().items():
        shown = ", ".join(f"{model} {default}" for model, default in defaults.items())
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=f"opt_{name}",
            type=option.type,
            metavar=name.upper(),
            help=f"{option.help} (default: {shown})",
        )


def examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def add_metric(parser: argparse.ArgumentParser, mine: str) -> None:
    parser.add_argument(
        "--metric",
        choices=["cosine", "mine"],
        default="cosine",
        help=f"cosine: the model's own (default); mine: {mine} (`indexer learn`)",
    )
    parser.add_argument(
        "--listener", metavar="NAME", help="whose learned metric (default $SOUNDALIKE_LISTENER, or the only one)"
    )
