"""A random-weight MULE checkpoint in the published format (matteospanio/mule), for tests and benchmarks:
no weights can be downloaded in tests."""

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


def write_random(directory: Path, model: str, seed: int = 0) -> Path:
    """The registry's writer (indexer.models.spec.ModelSpec.write_random_weights): the full-size network."""
    return write_random_mule(directory, seed)
