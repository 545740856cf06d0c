"""Read and write MULE checkpoints in the published format (`matteospanio/mule`).

The format: `config.json` (serialised config) + `model.safetensors` with mule-torch's
state_dict key layout. Raw kernels + per-channel `gain` when `weight_standardization`
is true, pre-standardised kernels without `gain` when false; the DFT buffers
`frontend.stft.*` may be absent. Loading is strict: every tensor is consumed and
every shape checked. At load, standardisation and the constant gains are folded
into the kernels once, so inference does no per-call weight work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
from torch import Tensor

from indexer.errors import CheckpointMismatchError, WeightsError
from indexer.models.mule.backbone import Block, MuleBackbone, Stem
from indexer.models.mule.config import MuleConfig
from indexer.models.mule.layers import SameConv2d, SqueezeExcite, standardise_kernel

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
MEL_KEY = "frontend.mel_fb"
OPTIONAL_PREFIX = "frontend.stft."  # deterministic DFT buffers: checked if present, never needed


def _convs(backbone: MuleBackbone) -> Iterator[tuple[str, SameConv2d]]:
    for name, module in backbone.named_modules():
        if isinstance(module, SameConv2d):
            yield f"backbone.{name}", module


def expected_shapes(cfg: MuleConfig, backbone: MuleBackbone) -> dict[str, tuple[int, ...]]:
    """Every required tensor of a checkpoint for `cfg`, with its shape."""
    shapes: dict[str, tuple[int, ...]] = {MEL_KEY: (cfg.n_mels, cfg.n_freqs)}
    for path, conv in _convs(backbone):
        shapes[f"{path}.weight"] = tuple(conv.weight.shape)
        shapes[f"{path}.bias"] = tuple(conv.bias.shape)
        if cfg.weight_standardization:
            shapes[f"{path}.gain"] = tuple(conv.bias.shape)
    for name, module in backbone.named_modules():
        if isinstance(module, SqueezeExcite):
            for fc in ("fc1", "fc2"):
                layer = getattr(module, fc)
                shapes[f"backbone.{name}.{fc}.weight"] = tuple(layer.weight.shape)
                shapes[f"backbone.{name}.{fc}.bias"] = tuple(layer.bias.shape)
        elif isinstance(module, Block):
            shapes[f"backbone.{name}.skip_gain"] = (1,)
    return shapes


def optional_shapes(cfg: MuleConfig) -> dict[str, tuple[int, ...]]:
    return {
        f"{OPTIONAL_PREFIX}fwd_real": (cfg.n_freqs, 1, cfg.n_fft),
        f"{OPTIONAL_PREFIX}fwd_imag": (cfg.n_freqs, 1, cfg.n_fft),
    }


def _name_keys(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(sorted(keys)[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


def check_state(state: dict[str, Tensor], cfg: MuleConfig, backbone: MuleBackbone) -> None:
    """Raise CheckpointMismatchError naming every missing, unexpected or misshapen key."""
    required = expected_shapes(cfg, backbone)
    allowed = {**required, **optional_shapes(cfg)}
    problems = []
    missing = [k for k in required if k not in state]
    unexpected = [k for k in state if k not in allowed]
    misshapen = [
        f"{k} {tuple(state[k].shape)} != {allowed[k]}"
        for k in state
        if k in allowed and tuple(state[k].shape) != allowed[k]
    ]
    not_float = [k for k, v in state.items() if not v.is_floating_point()]
    if missing:
        problems.append(f"missing {len(missing)}: {_name_keys(missing)}")
    if unexpected:
        hint = (
            " (gains in a checkpoint whose config says weight_standardization: false?)"
            if any(k.endswith(".gain") for k in unexpected)
            else ""
        )
        problems.append(f"unexpected {len(unexpected)}: {_name_keys(unexpected)}{hint}")
    if misshapen:
        problems.append(f"wrong shape {len(misshapen)}: {_name_keys(misshapen, 4)}")
    if not_float:
        problems.append(f"not floating point: {_name_keys(not_float)}")
    if problems:
        raise CheckpointMismatchError("MULE checkpoint does not match its config: " + "; ".join(problems))


def _fold_factors(cfg: MuleConfig, backbone: MuleBackbone) -> dict[str, float]:
    """Constant input scale of each conv: the preceding scaled activation's gain and the
    block's beta, which the reference applies to activations and we put in the kernels."""
    gain = cfg.activation_gain
    factors = {path: 1.0 for path, _ in _convs(backbone)}
    for stem_name in ("slow_stem", "fast_stem"):
        stem: Stem = getattr(backbone, stem_name)
        for i in range(1, len(stem.convs)):
            factors[f"backbone.{stem_name}.convs.{i}"] = gain
    betas = cfg.block_betas()
    for path_name in ("slow_stages", "fast_stages"):
        for s, stage in enumerate(getattr(backbone, path_name)):
            for b, block in enumerate(stage.blocks):
                prefix = f"backbone.{path_name}.{s}.blocks.{b}"
                factors[f"{prefix}.convs.0"] = betas[s][b] * gain
                for c in (1, 2, 3):
                    factors[f"{prefix}.convs.{c}"] = gain
                if block.skip_conv is not None:
                    factors[f"{prefix}.skip_conv"] = betas[s][b] * gain
    return factors


@torch.no_grad()
def load_into(backbone: MuleBackbone, state: dict[str, Tensor], cfg: MuleConfig) -> Tensor:
    """Fill `backbone` from a checked state dict (folding constants); return the mel filterbank."""
    check_state(state, cfg, backbone)
    factors = _fold_factors(cfg, backbone)
    for path, conv in _convs(backbone):
        kernel = state[f"{path}.weight"].float()
        if cfg.weight_standardization:
            kernel = standardise_kernel(kernel, state[f"{path}.gain"], cfg.ws_eps)
        conv.weight.copy_(kernel * factors[path])
        conv.bias.copy_(state[f"{path}.bias"])
    for name, module in backbone.named_modules():
        if isinstance(module, Block):
            module.se.scale.fill_(2.0 * cfg.alpha * float(state[f"backbone.{name}.skip_gain"]))
        elif isinstance(module, SqueezeExcite):
            for fc in ("fc1", "fc2"):
                getattr(module, fc).weight.copy_(state[f"backbone.{name}.{fc}.weight"])
                getattr(module, fc).bias.copy_(state[f"backbone.{name}.{fc}.bias"])
    return state[MEL_KEY].float()


def read_checkpoint(directory_files: dict[str, Path]) -> tuple[MuleConfig, dict[str, Tensor]]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    cfg = MuleConfig.from_file(directory_files[CONFIG_FILE])
    try:
        state = load_file(str(directory_files[WEIGHTS_FILE]))
    except (SafetensorError, OSError) as exc:
        raise WeightsError(f"cannot read {directory_files[WEIGHTS_FILE]}: {exc}") from exc
    return cfg, state


def parameter_count(cfg: MuleConfig) -> int:
    """Learnable parameters of the published model (the frontend's filterbank excluded)."""
    backbone = MuleBackbone(cfg)
    return sum(
        int(torch.Size(shape).numel()) for key, shape in expected_shapes(cfg, backbone).items() if key != MEL_KEY
    )
