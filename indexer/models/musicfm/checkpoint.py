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
from typing import Any

from torch import Tensor

from indexer.errors import CheckpointMismatchError, WeightsError
from indexer.models.musicfm.config import FB_KEY, N_FFT, N_MELS, TRAINING_ONLY, WINDOW_KEY, conformer_config
from indexer.models.strict import torch_checkpoint


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


def conformer_of(encoder: dict[str, Tensor]) -> Any:
    """The conformer's size as the tensors say it (the published checkpoint reads as config.conformer_config()):
    width, depth and feed-forward width from their shapes, heads from the rotary frequencies (one per two of a
    head's dimensions). A checkpoint short of those tensors gets the published size, and the strict load names
    what it lacks."""
    linear = encoder.get("conv.linear.weight")
    ffn = encoder.get("conformer.layers.0.ffn1.intermediate_dense.weight")
    layers = {int(key.split(".")[2]) for key in encoder if key.startswith("conformer.layers.")}
    if linear is None or ffn is None or not layers:
        return conformer_config()
    hidden = int(linear.shape[0])
    frequencies = encoder.get("conformer.embed_positions.inv_freq")
    heads = hidden // (2 * int(frequencies.shape[0])) if frequencies is not None and frequencies.numel() else 16
    return conformer_config(hidden, max(layers) + 1, heads, int(ffn.shape[0]))
