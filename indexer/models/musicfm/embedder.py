"""MusicFM as a soundalike Embedder: 30-s windows at 24 kHz, the chosen layer averaged over time."""

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
from indexer.models.layers import parse_layer
from indexer.models.musicfm.checkpoint import conformer_of, read_state, read_stats, split_state
from indexer.models.musicfm.config import (
    DEFAULT_LAYER,
    HOP_SECONDS,
    MIN_SAMPLES,
    REPO,
    SAMPLE_RATE,
    VARIANTS,
    WINDOW_SECONDS,
)
from indexer.models.musicfm.model import LogMel, MusicFMEncoder
from indexer.models.registry import MODELS
from indexer.models.strict import load_strict
from indexer.models.weights import resolve_weights, weights_spec

log = logging.getLogger(__name__)

DEFAULT_BATCH = MODELS["musicfm-msd"].batch  # slices per batch, by device type


class MusicFMEmbedder(PieceEmbedder):
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        name: str,
        state: dict[str, Tensor],
        stats: tuple[float, float],
        revision: str = "unknown",
        layer: str | int | None = None,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
        config: Any = None,  # a Wav2Vec2ConformerConfig (config.conformer_config)
        window_seconds: float = WINDOW_SECONDS,
        hop_seconds: float = HOP_SECONDS,
    ) -> None:
        encoder_state, fb = split_state(state)
        config = config or conformer_of(encoder_state)
        self.name = name
        self.layer = parse_layer(layer, config.num_hidden_layers, min(DEFAULT_LAYER, config.num_hidden_layers))
        self.revision = f"{revision};layer={self.layer}"
        self.dim = config.hidden_size
        self.device = pick_device(device)
        self.precision = check_precision(precision, self.device)
        self.batch_size = batch_size or DEFAULT_BATCH[self.device.type]
        self.window = int(round(window_seconds * SAMPLE_RATE))
        self.hop = int(round(hop_seconds * SAMPLE_RATE))
        first_conv = encoder_state.get("conv.conv.0.conv1.weight")
        channels = first_conv.shape[0] if first_conv is not None else 512
        encoder = MusicFMEncoder(config, channels)
        load_strict(encoder, encoder_state, "MusicFM")
        self.encoder = encoder.eval().to(self.device)
        self.log_mel = LogMel(fb).to(self.device)
        self.mean, self.std = stats

    @classmethod
    def from_weights(
        cls,
        name: str,
        weights: str | None = None,
        layer: str | int | None = None,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
    ) -> MusicFMEmbedder:
        variant = VARIANTS[name]
        files = resolve_weights(weights_spec(weights, REPO), [variant.stats_file, variant.weights_file])
        state = read_state(files.paths[variant.weights_file])
        stats = read_stats(files.paths[variant.stats_file], variant.stats_prefix)
        return cls(name, state, stats, files.revision, layer, device, precision, batch_size)

    def _run(self, windows: Tensor) -> Tensor:
        mel = (self.log_mel(windows.float()) - self.mean) / self.std  # the frontend stays in float32
        with autocast(self.precision, self.device):
            return self.encoder.layer_output(mel, self.layer).float().mean(dim=1)  # over time, not channels

    def _pieces(self, key: Hashable, waveform: np.ndarray) -> Pieces:
        wave = torch.from_numpy(check_waveform(waveform)).to(self.device)
        return waveform_windows(key, wave, self.window, self.hop, SAMPLE_RATE, MIN_SAMPLES)
