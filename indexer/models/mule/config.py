"""MULE's architecture and frontend constants, read from a checkpoint's `config.json`.

Field names are those of the published `config.json` (mule-torch 0.2.0's serialised
config), which is a file format: values not listed here (provenance, ...) are ignored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from indexer.errors import WeightsError

STAGE_DEPTHS = (1, 2, 6, 3)  # SF-NFNet-F0
STAGE_FREQ_DOWNSAMPLE = (1, 2, 2, 2)
ACTIVATION_GAINS = {"gelu": 1.7015043497085571, "relu": 1.7139588594436646}


@dataclass(frozen=True)
class MuleConfig:
    embedding_dim: int = 1728
    slow_stem_channels: tuple[int, ...] = (16, 32, 64, 128)
    slow_stem_kernels: tuple[tuple[int, int], ...] = ((3, 1), (3, 1), (3, 1), (3, 3))
    slow_stem_strides: tuple[tuple[int, int], ...] = ((2, 8), (1, 1), (1, 1), (2, 2))
    fast_stem_channels: tuple[int, ...] = (2, 4, 8, 16)
    fast_stem_kernels: tuple[tuple[int, int], ...] = ((3, 3), (3, 3), (3, 3), (3, 3))
    fast_stem_strides: tuple[tuple[int, int], ...] = ((2, 2), (1, 1), (1, 1), (2, 2))
    # Slow stage 3 really takes 4608 channels: 1536 slow + 3072 from the last fusion.
    slow_stage_in: tuple[int, ...] = (256, 512, 1024, 4608)
    slow_stage_out: tuple[int, ...] = (256, 512, 1536, 1536)
    fast_stage_in: tuple[int, ...] = (16, 32, 64, 192)
    fast_stage_out: tuple[int, ...] = (32, 64, 192, 192)
    slow_group_size: int = 128
    fast_group_size: int = 16
    block_kernels: tuple[tuple[int, int], ...] = ((1, 1), (1, 3), (3, 1), (1, 1))
    fusion_input_channels: tuple[int, ...] = (32, 32, 64, 192)
    fusion_output_channels: tuple[int, ...] = (128, 256, 512, 3072)
    fusion_time_kernel: int = 7
    fusion_time_stride: int = 4
    alpha: float = 0.2
    scaled_activation: str = "gelu"
    ws_eps: float = 1e-4
    weight_standardization: bool = True  # False: kernels stored already standardised, no gains
    sample_rate: int = 16000
    n_fft: int = 2048
    hop_length: int = 160
    win_length: int = 400
    n_mels: int = 96
    fmin: float = 0.0
    fmax: float = 8000.0
    slice_hop: int = 200
    look_backward: int = 150
    look_forward: int = 150
    std_floor: float = 0.01
    # Frontend choices this implementation supports exactly one value of; checked by validate().
    window: str = "hann"
    center: bool = True
    pad_mode: str = "reflect"
    power: float = 2.0
    htk: bool = True
    mel_norm: float = 2.0
    mag_compression: str = "log10_nonneg"
    standard_normalize: bool = True

    @property
    def slice_width(self) -> int:
        return self.look_backward + self.look_forward

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def activation_gain(self) -> float:
        return ACTIVATION_GAINS[self.scaled_activation]

    def block_betas(self) -> list[list[float]]:
        """Per-block input scale 1/expected_std, as NFNets track signal variance."""
        betas = []
        for stage, depth in enumerate(STAGE_DEPTHS):
            expected_std = 1.0 if stage == 0 else math.sqrt(1.0 + self.alpha**2)
            stage_betas = [1.0 / expected_std]
            expected_std = math.sqrt(expected_std**2 + self.alpha**2)
            for _ in range(1, depth):
                stage_betas.append(1.0 / expected_std)
                expected_std = math.sqrt(expected_std**2 + self.alpha**2)
            betas.append(stage_betas)
        return betas

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> MuleConfig:
        values = {}
        for f in fields(cls):
            if f.name in raw:
                values[f.name] = _tuplify(raw[f.name])
        cfg = cls(**values)
        cfg.validate()
        return cfg

    @classmethod
    def from_file(cls, path: Path) -> MuleConfig:
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise WeightsError(f"cannot read MULE config {path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise WeightsError(f"MULE config {path} is not a JSON object")
        return cls.from_dict(raw)

    def validate(self) -> None:
        if self.scaled_activation not in ACTIVATION_GAINS:
            raise WeightsError(f"unsupported scaled_activation {self.scaled_activation!r}")
        if self.slow_stage_out[-1] + self.fast_stage_out[-1] != self.embedding_dim:
            raise WeightsError("config's embedding_dim does not equal slow + fast output channels")
        fixed = {
            "window": "hann",
            "center": True,
            "pad_mode": "reflect",
            "power": 2.0,
            "mag_compression": "log10_nonneg",
            "standard_normalize": True,
        }
        for name, supported in fixed.items():
            if getattr(self, name) != supported:
                raise WeightsError(f"unsupported MULE config {name}={getattr(self, name)!r} (only {supported!r})")
        if self.win_length > self.n_fft:
            raise WeightsError("config's win_length exceeds n_fft")


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value
