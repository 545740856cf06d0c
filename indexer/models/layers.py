"""Choosing one transformer layer (or the mean of all) and running a stack of blocks up to it.

Shared by MERT and MusicFM. Blocks run one by one rather than through the library's
`output_hidden_states`, whose meaning changed in transformers 5 for pre-LayerNorm encoders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from indexer.errors import IndexerError


def parse_layer(layer: str | int | None, layers: int, default: int) -> int | str:
    """`--layer`: a 1-based transformer layer, or "mean" (all layers averaged)."""
    if layer is None:
        return default
    if str(layer) == "mean":
        return "mean"
    if not str(layer).isdigit() or not 1 <= int(layer) <= layers:
        raise IndexerError(f"--layer must be 1..{layers} or 'mean', got {layer!r}")
    return int(layer)


def run_layers(
    blocks: Sequence[Any] | torch.nn.ModuleList,  # transformer blocks: each maps a hidden state to the next
    h: Tensor,
    layer: int | str,
    final_norm: Callable[[Tensor], Tensor] | None = None,
    **block_kwargs: object,
) -> Tensor:
    """The output of block `layer` (1-based), or the mean of every block's output.

    `final_norm`, when given, is applied after the last block (a pre-LN encoder's closing
    LayerNorm), so the last layer equals the encoder's `last_hidden_state`.
    """
    last = len(blocks) if layer == "mean" else int(layer)
    total = torch.zeros_like(h) if layer == "mean" else None
    for i, block in enumerate(blocks[:last], 1):
        h = block(h, **block_kwargs)
        if final_norm is not None and i == len(blocks):
            h = final_norm(h)
        if total is not None:
            total += h
    return total / last if total is not None else h
