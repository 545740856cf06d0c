"""MERT as a soundalike Embedder: 24 kHz windows in, the chosen layer's time-average out."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from indexer.models.base import check_waveform
from indexer.models.batching import PieceEmbedder, Pieces, waveform_windows
from indexer.models.device import autocast, check_precision, pick_device
from indexer.models.layers import parse_layer, run_layers
from indexer.models.mert.checkpoint import read_state
from indexer.models.mert.config import (
    CONFIG_FILE,
    FILES,
    HOP_SECONDS,
    MIN_SAMPLES,
    PREPROCESSOR_FILE,
    VARIANTS,
    WEIGHTS_FILE,
    WINDOW_SECONDS,
    Preprocessing,
    hubert_config,
    preprocessing,
)
from indexer.models.registry import MODELS
from indexer.models.strict import load_strict, read_json
from indexer.models.weights import resolve_weights, weights_spec

log = logging.getLogger(__name__)

DEFAULT_BATCH = MODELS["mert-95m"].batch  # slices per batch, by device type


@torch.inference_mode()
def layer_output(model: Any, x: Tensor, layer: int | str) -> Tensor:  # model: transformers' HubertModel
    """(batch, frames, hidden) after transformer layer `layer` (1-based), or the mean of all layers.

    Our rule, transformers 4's: a layer's output is its residual stream; the last layer of a
    pre-LN encoder (330M) includes the final LayerNorm, so it equals `last_hidden_state`.
    """
    encoder = model.encoder
    stable = model.config.do_stable_layer_norm
    h = model.feature_projection(model.feature_extractor(x).transpose(1, 2))
    h = h + encoder.pos_conv_embed(h)
    if not stable:
        h = encoder.layer_norm(h)
    return run_layers(encoder.layers, h, layer, encoder.layer_norm if stable else None)


def normalise_windows(windows: Tensor) -> Tensor:
    """Zero mean, unit variance per window, with the population variance: Wav2Vec2FeatureExtractor's rule."""
    return (windows - windows.mean(-1, keepdim=True)) / torch.sqrt(windows.var(-1, keepdim=True, correction=0) + 1e-7)


class MertEmbedder(PieceEmbedder):
    def __init__(
        self,
        name: str,
        config: dict,
        state: dict[str, Tensor],
        prep: Preprocessing,
        revision: str = "unknown",
        layer: str | int | None = None,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
        window_seconds: float = WINDOW_SECONDS,
        hop_seconds: float = HOP_SECONDS,
    ) -> None:
        from transformers import HubertModel

        variant = VARIANTS[name]
        cfg = hubert_config(config)
        self.name = name
        self.layer = parse_layer(layer, cfg.num_hidden_layers, min(variant.default_layer, cfg.num_hidden_layers))
        self.sample_rate = prep.sample_rate
        self.dim = cfg.hidden_size
        self.prep = prep
        # The layer is part of what made a vector: an index never mixes layers.
        self.revision = f"{revision};layer={self.layer}"
        self.device = pick_device(device)
        self.precision = check_precision(precision, self.device)
        self.batch_size = batch_size or DEFAULT_BATCH[self.device.type]
        self.window = int(round(window_seconds * self.sample_rate))
        self.hop = int(round(hop_seconds * self.sample_rate))
        model = HubertModel(cfg)
        load_strict(model, state, "MERT")
        self.model = model.eval().to(self.device)

    @classmethod
    def from_weights(
        cls,
        name: str,
        weights: str | None = None,
        layer: str | int | None = None,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
    ) -> MertEmbedder:
        files = resolve_weights(weights_spec(weights, VARIANTS[name].repo), FILES)
        config = read_json(files.paths[CONFIG_FILE])
        prep = preprocessing(read_json(files.paths[PREPROCESSOR_FILE]))
        state = read_state(files.paths[WEIGHTS_FILE])
        return cls(name, config, state, prep, files.revision, layer, device, precision, batch_size)

    def _run(self, windows: Tensor) -> Tensor:
        if self.prep.do_normalize:
            windows = normalise_windows(windows)
        with autocast(self.precision, self.device):
            return layer_output(self.model, windows, self.layer).float().mean(dim=1)

    def _pieces(self, key: Hashable, waveform: np.ndarray) -> Pieces:
        wave = torch.from_numpy(check_waveform(waveform)).to(self.device)
        return waveform_windows(key, wave, self.window, self.hop, self.sample_rate, MIN_SAMPLES)
