"""MERT checkpoints in the Hub's format: config.json + preprocessor_config.json + pytorch_model.bin.

`pytorch_model.bin` holds MERTModel's state_dict: HuBERT's key names, the positional
convolution in the old weight-norm form (`weight_g`/`weight_v`). Loading is strict:
every tensor consumed, every shape checked, before torch maps the weight-norm keys.
"""

from __future__ import annotations

from pathlib import Path

from torch import Tensor

from indexer.errors import WeightsError
from indexer.models.strict import torch_checkpoint


def read_state(path: Path) -> dict[str, Tensor]:
    state = torch_checkpoint(path, "MERT")
    if not isinstance(state, dict):
        raise WeightsError(f"{path} does not hold a state_dict")
    return state


def mert_config(size: str = "95m", small: bool = False) -> dict:
    """A config.json as published for MERT-v1-95M / -330M; `small` shrinks widths and depth for tests."""
    base = {
        "model_type": "mert_model",
        "architectures": ["MERTModel"],
        "auto_map": {"AutoConfig": "configuration_MERT.MERTConfig", "AutoModel": "modeling_MERT.MERTModel"},
        "feature_extractor_cqt": False,
        "deepnorm": False,
        "attention_relax": -1.0,
        "conv_dim": [512] * 7,
        "conv_kernel": [10, 3, 3, 3, 3, 2, 2],
        "conv_stride": [5, 2, 2, 2, 2, 2, 2],
        "num_conv_pos_embeddings": 128,
        "num_conv_pos_embedding_groups": 16,
        "sample_rate": 24000,
    }
    if size == "95m":
        base |= {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072}
        base |= {"feat_extract_norm": "group", "conv_bias": False, "do_stable_layer_norm": False}
    else:
        base |= {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096}
        base |= {"feat_extract_norm": "layer", "conv_bias": True, "do_stable_layer_norm": True}
    if small:
        base |= {"hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 128}
        base |= {"conv_dim": [32] * 7, "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4}
    return base
