"""A random-weight MusicFM checkpoint in the published layout (minzwon/MusicFM), for tests and benchmarks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_random_musicfm(
    directory: Path, variant_files: tuple[str, str], conformer_config: Any, seed: int = 0, channels: int = 512
) -> Path:
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
            assert module.running_mean is not None and module.running_var is not None
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


SMALL = {"hidden": 64, "layers": 3, "heads": 4, "ffn": 128}  # a conformer the loader reads off the tensors


def write_random(directory: Path, model: str, seed: int = 0) -> Path:
    """The registry's writer: a narrow, shallow MusicFM in `model`'s published files."""
    from indexer.models.musicfm.config import VARIANTS, conformer_config

    variant = VARIANTS[model]
    files = (variant.weights_file, variant.stats_file)
    return write_random_musicfm(directory, files, conformer_config(**SMALL), seed, channels=16)
