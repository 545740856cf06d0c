"""Device and precision choices shared by every model."""

from __future__ import annotations

import contextlib

import torch

from indexer.errors import DeviceError

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as exc:
        raise DeviceError(f"unknown device {device!r}; use auto, cpu or cuda[:N]") from exc
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError("device 'cuda' requested but no CUDA GPU is available to torch here")
    if chosen.type not in ("cpu", "cuda"):
        raise DeviceError(f"device {device!r} not supported; use auto, cpu or cuda[:N]")
    return chosen


def check_precision(precision: str, device: torch.device) -> str:
    """fp32 anywhere; bf16/fp16 autocast only on CUDA. fp32 on CUDA turns TF32 off (parity)."""
    if precision not in PRECISIONS:
        raise DeviceError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision != "fp32" and device.type != "cuda":
        raise DeviceError(f"precision {precision} needs a CUDA device; on CPU use fp32")
    if device.type == "cuda" and precision == "fp32":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    return precision


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=PRECISIONS[precision])
