"""MusicFM checkpoints as published: `pretrained_{msd,fma}.pt` (a Lightning `state_dict` with `model.`
prefixes) and `{msd,fma}_stats.json` (the mel mean and std).

Loading is strict about what the encoder uses: every `conv.*` / `conformer.*` tensor present
with its shape, nothing else unexplained. Training-only tensors (the quantiser, the
prediction head, the CLS token) are set aside by name. The mel filterbank is taken from
the checkpoint when present. Read with `weights_only=True`: no code runs at load.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor

from indexer.errors import CheckpointMismatchError, WeightsError
from indexer.models.musicfm.config import FB_KEY, N_FFT, N_MELS, TRAINING_ONLY, WINDOW_KEY
from indexer.models.strict import published_key, torch_checkpoint


def read_state(path: Path) -> dict[str, Tensor]:
    raw = torch_checkpoint(path, "MusicFM")
    if not isinstance(raw, dict) or not isinstance(raw.get("state_dict"), dict):
        raise WeightsError(f"{path} has no 'state_dict': not a MusicFM checkpoint")
    return {k.removeprefix("model."): v for k, v in raw["state_dict"].items()}


def read_stats(path: Path, prefix: str) -> tuple[float, float]:
    try:
        stats = json.loads(path.read_text())
        return float(stats[f"{prefix}_mean"]), float(stats[f"{prefix}_std"])
    except (OSError, ValueError, KeyError) as exc:
        raise WeightsError(f"cannot read the mel statistics {prefix}_mean/_std from {path}: {exc}") from exc


def split_state(state: dict[str, Tensor]) -> tuple[dict[str, Tensor], Tensor | None]:
    """(encoder tensors, mel filterbank or None); training-only keys dropped, anything else kept to be checked."""
    fb = state.get(FB_KEY)
    if fb is not None and tuple(fb.shape) != (N_FFT // 2 + 1, N_MELS):
        raise CheckpointMismatchError(f"MusicFM mel filterbank has shape {tuple(fb.shape)}, expected (1025, 128)")
    window = state.get(WINDOW_KEY)
    if window is not None and tuple(window.shape) != (N_FFT,):
        raise CheckpointMismatchError(f"MusicFM STFT window has shape {tuple(window.shape)}, expected ({N_FFT},)")
    kept = {k: v for k, v in state.items() if not k.startswith(TRAINING_ONLY) and k not in (FB_KEY, WINDOW_KEY)}
    return kept, fb


def write_random_checkpoint(
    directory: Path, variant_files: tuple[str, str], conformer_config, seed: int = 0, channels: int = 512
) -> Path:  # type: ignore[no-untyped-def]
    """A checkpoint in the published layout from random weights: `model.` prefixes, the training-only
    tensors, the filterbank and window buffers, and a stats file. For tests and benchmarks."""
    from indexer.models.musicfm.model import MusicFMEncoder, htk_mel_filterbank

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
