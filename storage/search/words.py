"""Which models understand words, and the one message for a data directory with none (no torch here)."""

from __future__ import annotations

from storage.core.errors import UsageError
from storage.read.catalog import Catalog

TEXT_MODELS = ("clap",)  # models whose text tower shares the audio space (indexer.models: CLAP)
MAX_CHARS = 500  # a longer text is bad usage; CLAP reads the first 77 tokens anyway


def text_catalog(catalog: Catalog, asked: str | None = None) -> Catalog:
    """`catalog` read for a text-capable model: the one asked for, else the first with vectors; UsageError
    naming the command that builds one when the data directory has none."""
    built = catalog.models()
    if asked is not None:
        if asked not in TEXT_MODELS:
            raise UsageError(f"model {asked} does not understand words; text queries need {', '.join(TEXT_MODELS)}")
        return catalog.for_model(asked)
    for model in TEXT_MODELS:
        if model in built:
            return catalog.for_model(model)
    raise UsageError(
        f"no model in {catalog.data_dir} understands words; build one with `indexer build FOLDER --model clap`"
    )
