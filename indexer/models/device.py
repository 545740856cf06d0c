"""Device and precision choices shared by every model."""

from __future__ import annotations

import contextlib
from functools import lru_cache
from pathlib import Path

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


CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # oneDNN runs bf16 convolutions natively with either


@lru_cache(maxsize=1)
def cpu_bf16_flags() -> tuple[str, ...]:
    """The CPU features that make bf16 fast here (empty without them: bf16 would be emulated, slower than fp32)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return tuple(f for f in CPU_BF16_FLAGS if f in flags)


def check_precision(precision: str, device: torch.device) -> str:
    """fp32 anywhere; bf16 on CUDA or on CPUs with AVX512-BF16/AMX; fp16 only on CUDA. fp32 on CUDA turns
    TF32 off (parity)."""
    if precision not in PRECISIONS:
        raise DeviceError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type != "cuda":
        raise DeviceError("precision fp16 needs a CUDA device; on CPU use fp32 (or bf16 with AVX512-BF16/AMX)")
    if precision == "bf16" and device.type == "cpu" and not cpu_bf16_flags():
        raise DeviceError("precision bf16 on CPU needs AVX512-BF16 or AMX, which this CPU lacks; use fp32")
    if device.type == "cuda" and precision == "fp32":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    return precision


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=PRECISIONS[precision])
