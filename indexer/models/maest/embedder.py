"""MAEST as a soundalike Embedder: patch embeddings (block 7) averaged, style probabilities kept."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from indexer.errors import IndexerError
from indexer.models.base import K, TrackEmbedding, check_waveform
from indexer.models.batching import PieceEmbedder, Pieces
from indexer.models.device import autocast, check_precision, pick_device
from indexer.models.maest.checkpoint import build_model, load_published, read_state
from indexer.models.maest.config import (
    CONFIG_FILE,
    DEFAULT_VARIANT,
    EMBEDDING_LAYER,
    FILES,
    FRONTEND,
    HOP,
    SAMPLE_RATE,
    STYLES_MIN,
    STYLES_TOP,
    WEIGHTS_FILE,
    maest_variant,
)
from indexer.models.maest.frontend import MaestFrontend
from indexer.models.registry import MODELS
from indexer.models.strict import read_json
from indexer.models.tagging import top_labels as top_styles
from indexer.models.weights import resolve_weights, weights_spec

log = logging.getLogger(__name__)

DEFAULT_BATCH = MODELS["maest"].batch  # slices per batch, by device type


def patch_starts(frames: int, size: int, hop: int) -> list[int]:
    """Essentia's patching (patchSize `size`, patchHopSize `hop`, lastPatchMode discard): the last partial
    patch is dropped. An input shorter than a patch, which Essentia refuses, is one zero-padded patch."""
    if frames <= size:
        return [0]
    return list(range(0, frames - size + 1, hop))


@torch.inference_mode()
def embed_and_classify(model: Any, patches: Tensor, layer: int = EMBEDDING_LAYER) -> tuple[Tensor, Tensor]:
    """(embedding (B, 3*hidden) from block `layer`, label logits (B, labels)) in one pass over the layers."""
    ast = model.audio_spectrogram_transformer
    h = ast.embeddings(patches)
    embedding = None
    for i, block in enumerate(ast.layers, 1):
        h = block(h)
        if i == layer:
            embedding = torch.cat([h[:, 0], h[:, 1], h[:, 2:].mean(dim=1)], dim=-1)
    sequence = ast.layernorm(h)
    logits = model.classifier((sequence[:, 0] + sequence[:, 1]) / 2)
    assert embedding is not None
    return embedding, logits


class MaestEmbedder(PieceEmbedder):
    name = "maest"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        config: dict,
        state: dict[str, Tensor],
        variant: str = DEFAULT_VARIANT,
        revision: str = "unknown",
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
        styles_top: int = STYLES_TOP,
        styles_min: float = STYLES_MIN,
    ) -> None:
        self.variant = variant
        self.patching = maest_variant(variant)
        self.length = self.patching.max_length
        model = build_model(config, self.length)
        load_published(model, state)
        if model.config.num_hidden_layers < EMBEDDING_LAYER:
            raise IndexerError(f"MAEST needs at least {EMBEDDING_LAYER} layers for its embedding")
        self.labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]
        self.dim = 3 * model.config.hidden_size
        self.revision = f"{revision};variant={variant};frontend={FRONTEND}"
        self.device = pick_device(device)
        self.precision = check_precision(precision, self.device)
        self.batch_size = batch_size or DEFAULT_BATCH[self.device.type]
        self.styles_top, self.styles_min = styles_top, styles_min
        self.model = model.to(self.device)
        self.frontend = MaestFrontend().to(self.device)

    @classmethod
    def from_weights(
        cls,
        weights: str | None = None,
        variant: str | None = None,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
        styles_top: int = STYLES_TOP,
        styles_min: float = STYLES_MIN,
    ) -> MaestEmbedder:
        variant = variant or DEFAULT_VARIANT
        files = resolve_weights(weights_spec(weights, maest_variant(variant).repo), FILES)
        config = read_json(files.paths[CONFIG_FILE])
        state = read_state(files.paths[WEIGHTS_FILE])
        return cls(config, state, variant, files.revision, device, precision, batch_size, styles_top, styles_min)

    def _run(self, patches: Tensor) -> Tensor:
        with autocast(self.precision, self.device):
            embedding, logits = embed_and_classify(self.model, patches)
        return torch.cat([embedding.float(), torch.sigmoid(logits.float())], dim=-1)

    def _pieces(self, key: Hashable, waveform: np.ndarray) -> Pieces:
        with torch.inference_mode():
            mel = self.frontend(torch.from_numpy(check_waveform(waveform)).to(self.device))
        if mel.shape[0] < self.length:  # one patch, zero-padded (as the feature extractor pads)
            mel = torch.nn.functional.pad(mel, (0, 0, 0, self.length - mel.shape[0]))
        starts = patch_starts(mel.shape[0], self.patching.patch_frames, self.patching.patch_hop)

        def take(first: int, stop: int) -> Tensor:
            return torch.stack([mel[s : s + self.length] for s in starts[first:stop]])

        return Pieces(key, len(starts), np.asarray(starts, dtype=np.float64) * HOP / SAMPLE_RATE, take)

    @property
    def piece_width(self) -> int:
        return self.dim + len(self.labels)  # the embedding, then the label probabilities

    def embed_stream(self, tracks: Iterable[tuple[K, np.ndarray]]) -> Iterator[tuple[K, TrackEmbedding]]:
        for key, both in super().embed_stream(tracks):
            timeline = both.timeline[:, : self.dim]
            probabilities = both.timeline[:, self.dim :].mean(axis=0)
            styles = top_styles(probabilities, self.labels, self.styles_top, self.styles_min)
            yield key, replace(both, vector=both.vector[: self.dim], timeline=timeline, styles=styles)
