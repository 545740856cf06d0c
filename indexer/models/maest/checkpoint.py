"""MAEST checkpoints in the Hub's format: config.json (with `id2label`) + pytorch_model.bin.

The published file uses transformers 4 key names; transformers 5's ASTForAudioClassification
names the same tensors differently. The renaming is spelled out here (V4_TO_V5) rather than
left to the library, so loading is strict on our side: every tensor consumed, every shape
checked, nothing initialised at random.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from indexer.errors import WeightsError
from indexer.models.maest.config import ast_config_fields
from indexer.models.strict import load_strict, torch_checkpoint

LAYER = r"audio_spectrogram_transformer\.encoder\.layer\.(\d+)\."
V4_TO_V5 = [
    (LAYER + r"attention\.attention\.query\.", r"audio_spectrogram_transformer.layers.\1.attention.q_proj."),
    (LAYER + r"attention\.attention\.key\.", r"audio_spectrogram_transformer.layers.\1.attention.k_proj."),
    (LAYER + r"attention\.attention\.value\.", r"audio_spectrogram_transformer.layers.\1.attention.v_proj."),
    (LAYER + r"attention\.output\.dense\.", r"audio_spectrogram_transformer.layers.\1.attention.o_proj."),
    (LAYER + r"intermediate\.dense\.", r"audio_spectrogram_transformer.layers.\1.mlp.fc1."),
    (LAYER + r"output\.dense\.", r"audio_spectrogram_transformer.layers.\1.mlp.fc2."),
    (LAYER + r"(layernorm_before|layernorm_after)\.", r"audio_spectrogram_transformer.layers.\1.\2."),
]


def v5_key(key: str) -> str:
    for pattern, replacement in V4_TO_V5:
        renamed, n = re.subn("^" + pattern, replacement, key)
        if n:
            return renamed
    return key


def v4_key(key: str) -> str:
    """The published (transformers 4) name of a transformers 5 key."""
    match = re.match(r"audio_spectrogram_transformer\.layers\.(\d+)\.(.*)", key)
    if not match:
        return key
    layer, rest = match.groups()
    names = {
        "attention.q_proj.": "attention.attention.query.",
        "attention.k_proj.": "attention.attention.key.",
        "attention.v_proj.": "attention.attention.value.",
        "attention.o_proj.": "attention.output.dense.",
        "mlp.fc1.": "intermediate.dense.",
        "mlp.fc2.": "output.dense.",
    }
    for new, old in names.items():
        if rest.startswith(new):
            rest = old + rest[len(new) :]
            break
    return f"audio_spectrogram_transformer.encoder.layer.{layer}.{rest}"


def build_model(config: dict, max_length: int) -> Any:  # transformers' ASTForAudioClassification
    """An ASTForAudioClassification for a published MAEST config.json (float32, no remote code)."""
    from transformers import ASTConfig, ASTForAudioClassification

    if "id2label" not in config:
        raise WeightsError("MAEST config.json has no id2label: not a Discogs MAEST classifier")
    known = {k: v for k, v in config.items() if k not in ("architectures", "model_type", "torch_dtype", "dtype")}
    cfg = ASTConfig(**(known | ast_config_fields(max_length)))
    cfg.id2label = {int(k): v for k, v in config["id2label"].items()}
    return ASTForAudioClassification(cfg).float().eval()


def load_published(model: torch.nn.Module, published: dict[str, Tensor]) -> None:
    """Load a file's tensors (transformers 4 names) strictly, naming keys as the file does."""
    load_strict(model, {v5_key(k): v.float() for k, v in published.items()}, "MAEST", shown=v4_key)


def read_state(path: Path) -> dict[str, Tensor]:
    state = torch_checkpoint(path, "MAEST")
    if not isinstance(state, dict):
        raise WeightsError(f"{path} does not hold a state_dict")
    return state


def maest_config(labels: list[str], small: bool = False) -> dict:
    """A config.json as published for a MAEST variant; `small` shrinks width and depth for tests."""
    config = {
        "architectures": ["ASTForAudioClassification"],
        "model_type": "audio-spectrogram-transformer",
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "hidden_act": "gelu",
        "torch_dtype": "float16",  # as some published configs say; MAEST still runs in float32
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
    }
    if small:
        config |= {"hidden_size": 48, "num_hidden_layers": 8, "num_attention_heads": 4, "intermediate_size": 96}
    return config
