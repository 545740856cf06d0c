"""CLAP checkpoints in the Hub's layout: config.json + model.safetensors (transformers' ClapModel names),
RoBERTa's vocab.json + merges.txt. Loading is strict on our side: every tensor consumed, every shape checked,
nothing initialised at random. Published files made by older transformers also hold a few buffers the model
recomputes (position ids, Swin's relative position index): those are checked against the model's and dropped."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from indexer.errors import WeightsError
from indexer.models.strict import load_strict

RECOMPUTED_BUFFERS = ("position_ids", "token_type_ids", "relative_position_index")
CONFIG_DROPPED = ("architectures", "model_type", "torch_dtype", "dtype", "transformers_version")


def build_model(config: dict, initialise: bool = False) -> Any:  # transformers' ClapModel
    """A float32 ClapModel in eval mode for a published config.json (no remote code). Its weights are left
    uninitialised (2.4 s saved on a cold start) unless `initialise`: loading replaces every one of them
    (storage is strict), and the buffers are computed either way."""
    from transformers import ClapConfig, ClapModel
    from transformers.initialization import no_init_weights

    known = {k: v for k, v in config.items() if k not in CONFIG_DROPPED}
    for tower in ("audio_config", "text_config"):
        known[tower] = {k: v for k, v in known.get(tower, {}).items() if k not in CONFIG_DROPPED}
    with nullcontext() if initialise else no_init_weights():
        return ClapModel(ClapConfig(**known)).float().eval()


def read_state(path: Path) -> dict[str, Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        raise WeightsError(f"cannot read CLAP weights {path}: {exc.__class__.__name__}: {exc}") from exc


def load_published(model: torch.nn.Module, published: dict[str, Tensor]) -> None:
    """Load a file's tensors strictly. Buffers the model recomputes may be absent from the file (newer saves);
    where present they must equal the model's own (else the file is of another architecture)."""
    own = dict(model.state_dict())
    state = {}
    for key, tensor in published.items():
        if key.endswith(RECOMPUTED_BUFFERS) and key in own and not torch.equal(own[key], tensor.to(own[key].dtype)):
            raise WeightsError(f"CLAP checkpoint's {key} differs from the model's: another architecture")
        state[key] = tensor.float() if tensor.is_floating_point() else tensor
    for key, tensor in own.items():
        if key.endswith(RECOMPUTED_BUFFERS):
            state.setdefault(key, tensor)
    load_strict(model, state, "CLAP", assign=True)  # the model was built uninitialised: take the file's tensors
