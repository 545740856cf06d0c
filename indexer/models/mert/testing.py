"""A random-weight MERT checkpoint in the Hub's layout (m-a-p/MERT-v1-*), for tests and benchmarks."""

from __future__ import annotations

import json
from pathlib import Path


def write_random_mert(directory: Path, config: dict, seed: int = 0, sample_rate: int = 24000) -> Path:
    """A checkpoint in the Hub's layout from random weights (tests, benchmarks). `config` as published."""
    import torch
    from transformers import HubertModel

    from indexer.models.mert.config import CONFIG_FILE, PREPROCESSOR_FILE, WEIGHTS_FILE, hubert_config
    from indexer.models.strict import published_key

    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = HubertModel(hubert_config(config)).eval()
    state = {published_key(k): v.contiguous() for k, v in model.state_dict().items()}
    torch.save(state, directory / WEIGHTS_FILE)
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))
    preprocessor = {"do_normalize": False, "feature_size": 1, "padding_side": "right", "padding_value": 0.0}
    preprocessor |= {"return_attention_mask": True, "sampling_rate": sample_rate}
    (directory / PREPROCESSOR_FILE).write_text(json.dumps(preprocessor, indent=2))
    return directory


def write_random(directory: Path, model: str, seed: int = 0) -> Path:
    """The registry's writer: a narrow, shallow MERT of `model`'s layout (mert-95m post-LN, mert-330m pre-LN)."""
    from indexer.models.mert.checkpoint import mert_config

    return write_random_mert(directory, mert_config(model.removeprefix("mert-"), small=True), seed)
