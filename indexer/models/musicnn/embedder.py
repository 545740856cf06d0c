"""MusiCNN as a soundalike Embedder: 16 kHz waveforms in; per 3-s patch the 200-d `penultimate` (the
timeline) and 50 tag probabilities; per track their means (the vector) and its top tags (stored as styles,
as MAEST's are)."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import replace

import numpy as np
import torch
from torch import Tensor

from indexer.errors import UsageError
from indexer.loudness import METHODS, normalised
from indexer.models.base import K, TrackEmbedding, check_waveform
from indexer.models.batching import PieceEmbedder, Pieces
from indexer.models.device import autocast, check_precision, pick_device
from indexer.models.musicnn.checkpoint import load_network
from indexer.models.musicnn.config import DEFAULT_VARIANT, EMBEDDING_DIM, SAMPLE_RATE, TAGS_MIN, TAGS_TOP, VARIANTS
from indexer.models.musicnn.frontend import LogMel, patch_starts, patches
from indexer.models.musicnn.weights import read_checkpoint
from indexer.models.registry import MODELS
from indexer.models.tagging import top_labels

DEFAULT_LOUDNESS = "none"  # measured: docs/models.md#loudness

log = logging.getLogger(__name__)

DEFAULT_BATCH = MODELS["musicnn"].batch


class MusicnnEmbedder(PieceEmbedder):
    name = "musicnn"
    sample_rate = SAMPLE_RATE
    dim = EMBEDDING_DIM

    def __init__(
        self,
        index: bytes,
        data: bytes,
        labels: list[str],
        revision: str,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
        tags_top: int = TAGS_TOP,
        tags_min: float = TAGS_MIN,
        loudness: str = DEFAULT_LOUDNESS,
    ) -> None:
        self.labels = labels
        self.loudness = loudness
        self.revision = revision
        self.device = pick_device(device)
        self.precision = check_precision(precision, self.device)
        self.batch_size = batch_size or DEFAULT_BATCH[self.device.type]
        self.tags_top, self.tags_min = tags_top, tags_min
        self.network = load_network(index, data, len(labels)).to(self.device)
        self.log_mel = LogMel().to(self.device)

    @classmethod
    def from_weights(
        cls,
        weights: str | None = None,
        variant: str | None = None,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
        tags_top: int = TAGS_TOP,
        tags_min: float = TAGS_MIN,
        loudness: str | None = None,
    ) -> MusicnnEmbedder:
        """Load a variant (msd, mtt) from the musicnn wheel (indexer.models.musicnn.weights); `loudness`:
        r128 normalises each track's loudness before embedding, none (default) embeds it as decoded."""
        chosen = VARIANTS.get(variant or DEFAULT_VARIANT)
        if chosen is None:
            raise UsageError(f"unknown MusiCNN variant {variant!r}; available: {', '.join(VARIANTS)}")
        level = loudness or DEFAULT_LOUDNESS
        if level not in METHODS:
            raise UsageError(f"unknown loudness {loudness!r}; use {' or '.join(METHODS)}")
        files = read_checkpoint(weights, chosen)
        log.info("MusiCNN %s from %s", chosen.folder, files.source)
        # Vectors of normalised audio are another space: the revision says so (a build asks for --rebuild).
        revision = f"{files.revision};variant={chosen.name}" + (f";loudness={level}" if level != "none" else "")
        return cls(
            files.index, files.data, files.labels, revision, device, precision, batch_size, tags_top, tags_min, level
        )

    @property
    def piece_width(self) -> int:
        return self.dim + len(self.labels)  # the embedding, then the tag probabilities

    def _run(self, batch: Tensor) -> Tensor:
        with autocast(self.precision, self.device):
            penultimate, tags = self.network(batch.to(self.device))
        return torch.cat([penultimate, tags], dim=1)

    @torch.inference_mode()
    def _pieces(self, key: Hashable, waveform: np.ndarray) -> Pieces:
        wave = check_waveform(waveform)
        if self.loudness == "r128":
            wave = normalised(wave, SAMPLE_RATE)
        mel = self.log_mel(torch.from_numpy(wave).to(self.device))
        starts = patch_starts(mel.shape[0])
        return Pieces(key, len(starts), starts, lambda a, b: patches(mel, a, b))

    def embed_stream(self, tracks: Iterable[tuple[K, np.ndarray]]) -> Iterator[tuple[K, TrackEmbedding]]:
        for key, both in super().embed_stream(tracks):
            probabilities = both.timeline[:, self.dim :].mean(axis=0)
            tags = top_labels(probabilities, self.labels, self.tags_top, self.tags_min)
            yield key, replace(both, vector=both.vector[: self.dim], timeline=both.timeline[:, : self.dim], styles=tags)
