"""Test and benchmark helpers: checkpoints in each model's published format, from random weights.

Nothing here is used by the product; it lives in the package so that tests and benchmarks share it
(no weights can be downloaded in tests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.models.mule.config import MuleConfig


def write_random_mule(
    directory: Path, seed: int = 0, cfg: MuleConfig | None = None, include_stft: bool = False
) -> Path:
    """Write a random-weight checkpoint in the published format (for tests and benchmarks).

    Values are drawn so every path carries signal (non-zero skip gains, gains near 1),
    which the reference's zero-initialised skip gains would not.
    """
    import torch
    from safetensors.torch import save_file
    from torch import Tensor

    from indexer.models.mule.backbone import MuleBackbone
    from indexer.models.mule.checkpoint import CONFIG_FILE, MEL_KEY, WEIGHTS_FILE, expected_shapes, optional_shapes
    from indexer.models.mule.config import MuleConfig
    from indexer.models.mule.frontend import mel_filterbank

    cfg = cfg or MuleConfig()
    generator = torch.Generator().manual_seed(seed)
    backbone = MuleBackbone(cfg)
    state: dict[str, Tensor] = {}
    for key, shape in expected_shapes(cfg, backbone).items():
        if key == MEL_KEY:
            state[key] = torch.from_numpy(mel_filterbank(cfg))
        elif key.endswith(".gain"):
            state[key] = 1.0 + 0.1 * torch.randn(shape, generator=generator)
        elif key.endswith("skip_gain"):
            state[key] = 0.2 + 0.3 * torch.rand(shape, generator=generator)
        elif key.endswith(".bias"):
            state[key] = 0.02 * torch.randn(shape, generator=generator)
        else:
            fan_in = max(1, int(torch.Size(shape[1:]).numel()))
            state[key] = torch.randn(shape, generator=generator) / fan_in**0.5
    if include_stft:
        for key, shape in optional_shapes(cfg).items():
            state[key] = torch.zeros(shape)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=2))
    save_file({k: v.contiguous() for k, v in state.items()}, str(directory / WEIGHTS_FILE))
    return directory


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


def write_random_musicfm(
    directory: Path, variant_files: tuple[str, str], conformer_config, seed: int = 0, channels: int = 512
) -> Path:  # type: ignore[no-untyped-def]
    """A checkpoint in the published layout from random weights: `model.` prefixes, the training-only
    tensors, the filterbank and window buffers, and a stats file. For tests and benchmarks."""
    import torch

    from indexer.models.musicfm.config import FB_KEY, N_FFT, WINDOW_KEY
    from indexer.models.musicfm.model import MusicFMEncoder, htk_mel_filterbank
    from indexer.models.strict import published_key

    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    encoder = MusicFMEncoder(conformer_config, channels)
    for module in encoder.modules():  # BatchNorm statistics as after training, not the identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    state = {f"model.{published_key(k)}": v.contiguous() for k, v in encoder.state_dict().items()}
    hidden = conformer_config.hidden_size
    state |= {
        f"model.{FB_KEY}": torch.from_numpy(htk_mel_filterbank()),
        f"model.{WINDOW_KEY}": torch.hann_window(N_FFT),
        "model.quantizer_melspec_2048_0.random_projection": torch.randn(512, 16),
        "model.quantizer_melspec_2048_0.codebook": torch.randn(4096, 16),
        "model.linear.weight": torch.randn(4096, hidden) * 0.01,
        "model.linear.bias": torch.zeros(4096),
        "model.cls_token": torch.randn(hidden),
    }
    weights_file, stats_file = variant_files
    torch.save({"state_dict": state, "epoch": 0}, directory / weights_file)
    stats = {"melspec_2048_mean": 6.768444971712967, "melspec_2048_std": 18.417922652295623}
    (directory / stats_file).write_text(json.dumps(stats))
    return directory
