"""Helpers around the reference implementation (mule-torch 0.2.0), used by tests only."""

from __future__ import annotations

from pathlib import Path

import torch


def randomised_reference(seed: int = 0):
    """A mule-torch model whose every parameter carries signal (its own init zeroes skip gains)."""
    from mule_torch import MuleConfig, MuleModel

    torch.manual_seed(seed)
    model = MuleModel(MuleConfig()).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("skip_gain"):
                p.uniform_(0.2, 0.5)
            elif name.endswith(".gain"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.02 * torch.randn_like(p))
    return model


def baked_reference(model):
    """The same network with kernels standardised in advance (`weight_standardization: false`)."""
    from dataclasses import replace

    from mule_torch import MuleModel
    from mule_torch.layers import WSConv2d

    baked = MuleModel(replace(model.config, weight_standardization=False), mel_fb=model.frontend.mel_fb).eval()
    state = {k: v for k, v in model.state_dict().items() if not k.endswith(".gain")}
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, WSConv2d):
                state[f"{name}.weight"] = module.standardized_weight().clone()
    baked.load_state_dict(state, strict=True)
    return baked


def save(model, directory: Path, drop_stft: bool = False) -> Path:
    model.save_pretrained(directory)
    if drop_stft:
        from safetensors.torch import load_file, save_file

        path = directory / "model.safetensors"
        state = {k: v for k, v in load_file(str(path)).items() if not k.startswith("frontend.stft.")}
        save_file(state, str(path))
    return directory


@torch.inference_mode()
def reference_timeline(model, waveform) -> torch.Tensor:
    """mule-torch's per-slice embeddings, fed at upstream's amplitude convention (half scale)."""
    x = torch.from_numpy(waveform * 0.5)[None]
    return model.embed_timeline(x)[0]
