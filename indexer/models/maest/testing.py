"""A random-weight MAEST checkpoint in the Hub's layout (mtg-upf/discogs-maest-*), for tests and benchmarks."""

from __future__ import annotations

import json
from pathlib import Path


def write_random_maest(directory: Path, config: dict, max_length: int, seed: int = 0) -> Path:
    """A checkpoint in the Hub's layout (transformers 4 key names) from random weights."""
    import torch

    from indexer.models.maest.checkpoint import build_model, v4_key
    from indexer.models.maest.config import CONFIG_FILE, WEIGHTS_FILE

    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = build_model(config, max_length)
    for name, tensor in model.named_parameters():  # the zero-initialised tokens too
        if tensor.dim() >= 1 and name.endswith(("token", "position_embeddings")):
            torch.nn.init.normal_(tensor, std=0.02)
    torch.save({v4_key(k): v.contiguous() for k, v in model.state_dict().items()}, directory / WEIGHTS_FILE)
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))
    return directory


SMALL_LABELS = [f"Genre{g}---Style{g}.{s}" for g in range(4) for s in range(10)]


def write_random(directory: Path, model: str, seed: int = 0) -> Path:
    """The registry's writer: a narrow, shallow MAEST of the default variant's input length, 40 styles."""
    from indexer.models.maest.checkpoint import maest_config

    return write_random_maest(directory, maest_config(SMALL_LABELS, small=True), 1876, seed)
