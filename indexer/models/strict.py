"""Reading published model files, shared by the backends; strict loading: every tensor consumed, every shape checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from indexer.errors import CheckpointMismatchError, WeightsError

# torch's parametrised weight norm vs the old-style names published checkpoints use.
NEW_NORM = {"parametrizations.weight.original0": "weight_g", "parametrizations.weight.original1": "weight_v"}


def published_key(key: str) -> str:
    """The name a state_dict key had before torch's parametrised weight norm (what checkpoints hold)."""
    for new, old in NEW_NORM.items():
        if key.endswith(new):
            return key[: -len(new)] + old
    return key


def read_json(path: Path) -> dict:
    """A published JSON file (config, preprocessor, stats), any failure as one WeightsError."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WeightsError(f"cannot read {path}: {exc}") from exc


def torch_checkpoint(path: Path, what: str) -> object:
    """`torch.load` with `weights_only=True` (no code runs), any failure as one WeightsError."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        raise WeightsError(f"cannot read {what} weights {path}: {exc.__class__.__name__}: {exc}") from exc


def load_strict(
    model: torch.nn.Module,
    state: dict[str, Tensor],
    what: str,
    shown: Callable[[str], str] = lambda key: key,
    assign: bool = False,
) -> None:
    """Load `state` into `model` after checking keys and shapes; `shown` names keys as the file does. `assign`:
    the model takes the state's tensors as they are (no copy: one copy of the weights in memory, not two)."""
    expected = {published_key(k): tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    missing = sorted(shown(k) for k in set(expected) - set(got))
    extra = sorted(shown(k) for k in set(got) - set(expected))
    shapes = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
    if missing or extra or shapes:
        parts = [f"missing {missing[:5]}" if missing else "", f"unexpected {extra[:5]}" if extra else ""]
        parts.append(f"misshapen {[(shown(k), got[k], expected[k]) for k in shapes[:5]]}" if shapes else "")
        raise CheckpointMismatchError(
            f"{what} checkpoint does not match the model: " + "; ".join(p for p in parts if p)
        )
    model.load_state_dict(state, strict=True, assign=assign)  # torch maps weight_g/weight_v onto the parametrisation
