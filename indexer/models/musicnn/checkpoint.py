"""The wheel's TensorFlow variable names onto our network (indexer.models.musicnn.network), strictly:
every inference tensor consumed, every shape checked. The rest of the checkpoint is Adam's training state."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from indexer.errors import CheckpointMismatchError
from indexer.models.musicnn.bundle import read_tensors
from indexer.models.musicnn.network import MusiCNN

# (TensorFlow layer, our module), in the order the authors' graph creates them.
CONVS = [("conv2d", "front.0.conv"), ("conv2d_1", "front.1.conv")] + [
    (f"conv2d_{i + 2}", f"front.{i + 2}.conv") for i in range(3)
]
MID_CONVS = [(f"conv2d_{i + 5}", f"mid.{i}") for i in range(3)]
NORMS = (
    [("batch_normalization", "input_norm")]
    + [(f"batch_normalization_{i + 1}", f"front.{i}.norm") for i in range(5)]
    + [(f"batch_normalization_{i + 6}", f"mid_norms.{i}") for i in range(3)]
    + [("batch_normalization_9", "pool_norm"), ("batch_normalization_10", "dense_norm")]
)
DENSE = [("dense", "dense"), ("dense_1", "tagger")]
NORM_PARTS = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}


def tf_names() -> list[str]:
    """Every variable inference needs (64 of the checkpoint's 150)."""
    names = [f"{layer}/{part}" for layer, _ in CONVS + MID_CONVS + DENSE for part in ("kernel", "bias")]
    return names + [f"{layer}/{part}" for layer, _ in NORMS for part in NORM_PARTS]


def source_names() -> dict[str, str]:
    """Our parameter name -> the checkpoint's variable it comes from (for messages)."""
    names = {f"{module}.{ours}": f"{layer}/{tf}" for layer, module in CONVS + MID_CONVS + DENSE
             for ours, tf in (("weight", "kernel"), ("bias", "bias"))}  # fmt: skip
    names |= {f"{module}.{ours}": f"{layer}/{tf}" for layer, module in NORMS for tf, ours in NORM_PARTS.items()}
    return names


def state_dict(tensors: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Our parameter names and layouts (TensorFlow: conv kernels HWIO, dense kernels (in, out))."""
    state: dict[str, torch.Tensor] = {}
    for layer, module in CONVS:  # (time, freq, 1, out) -> (out, 1, time, freq)
        state[f"{module}.weight"] = torch.from_numpy(tensors[f"{layer}/kernel"].transpose(3, 2, 0, 1).copy())
        state[f"{module}.bias"] = torch.from_numpy(tensors[f"{layer}/bias"])
    for layer, module in MID_CONVS:  # (7, in, 1, out) -> (out, in, 7)
        state[f"{module}.weight"] = torch.from_numpy(tensors[f"{layer}/kernel"][:, :, 0, :].transpose(2, 1, 0).copy())
        state[f"{module}.bias"] = torch.from_numpy(tensors[f"{layer}/bias"])
    for layer, module in DENSE:
        state[f"{module}.weight"] = torch.from_numpy(tensors[f"{layer}/kernel"].T.copy())
        state[f"{module}.bias"] = torch.from_numpy(tensors[f"{layer}/bias"])
    for layer, module in NORMS:
        for tf_part, ours in NORM_PARTS.items():
            state[f"{module}.{ours}"] = torch.from_numpy(tensors[f"{layer}/{tf_part}"])
    return state


def load_network(index: bytes, data: bytes, tags: int) -> MusiCNN:
    """The network with the bundle's weights (CheckpointMismatchError naming what does not fit)."""
    network = MusiCNN(tags)
    state = state_dict(read_tensors(index, data, tf_names()))
    expected = {k: v.shape for k, v in network.state_dict().items() if not k.endswith("num_batches_tracked")}
    wrong = sorted(k for k, v in state.items() if k in expected and tuple(v.shape) != tuple(expected[k]))
    missing = sorted(set(expected) - set(state))
    if wrong or missing:
        raise CheckpointMismatchError(
            "MusiCNN checkpoint does not fit the network: "
            + "; ".join(f"{source_names()[k]}: {tuple(state[k].shape)} vs {tuple(expected[k])}" for k in wrong[:3])
            + (f"; missing {', '.join(missing[:3])}" if missing else "")
        )
    network.load_state_dict(state, strict=False)  # num_batches_tracked: training-only counters
    return network.eval()


def parameters(network: nn.Module) -> int:
    return sum(p.numel() for p in network.parameters())
