"""MULE as a soundalike Embedder: waveforms in, pooled vectors and 2-s timelines out."""

from __future__ import annotations

import logging
from collections.abc import Hashable

import numpy as np
import torch
from torch import Tensor

from indexer.models.base import check_waveform
from indexer.models.batching import PieceEmbedder, Pieces
from indexer.models.device import autocast, check_precision, pick_device
from indexer.models.mule.backbone import MuleBackbone
from indexer.models.mule.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load_into, read_checkpoint
from indexer.models.mule.config import MuleConfig
from indexer.models.mule.frontend import LogMel, normalised_slices, pad_short_mel, slice_centres, slice_starts
from indexer.models.registry import MODELS
from indexer.models.weights import resolve_weights, weights_spec

log = logging.getLogger(__name__)

DEFAULT_REPO = "matteospanio/mule"
# Upstream MULE decodes PCM16 and divides by 2**16, so its inputs span [-0.5, 0.5).
# We take ordinary [-1, 1] audio and halve it, which feeds the weights what they were trained on.
INPUT_SCALE = 0.5
DEFAULT_BATCH = MODELS["mule"].batch  # slices per batch, by device type


class MuleEmbedder(PieceEmbedder):
    name = "mule"

    def __init__(
        self,
        cfg: MuleConfig,
        state: dict[str, Tensor],
        revision: str = "unknown",
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
    ) -> None:
        self.cfg = cfg
        self.sample_rate = cfg.sample_rate
        self.dim = cfg.embedding_dim
        self.revision = revision
        self.device = pick_device(device)
        self.precision = check_precision(precision, self.device)
        self.batch_size = batch_size or DEFAULT_BATCH[self.device.type]
        backbone = MuleBackbone(cfg)
        mel_fb = load_into(backbone, state, cfg)
        # torch's stubs omit memory_format from Module.to
        self.backbone = backbone.eval().to(self.device, memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.log_mel = LogMel(cfg, mel_fb.to(self.device))

    @classmethod
    def from_weights(
        cls, weights: str | None = None, device: str = "auto", precision: str = "fp32", batch_size: int | None = None
    ) -> MuleEmbedder:
        """Load from a folder or Hub repo (`--weights`, `$SOUNDALIKE_WEIGHTS`, default matteospanio/mule)."""
        files = resolve_weights(weights_spec(weights, DEFAULT_REPO), [CONFIG_FILE, WEIGHTS_FILE])
        cfg, state = read_checkpoint(files.paths)
        return cls(cfg, state, files.revision, device, precision, batch_size)

    # -- embedding -----------------------------------------------------------------

    def _run(self, slices: Tensor) -> Tensor:
        with autocast(self.precision, self.device):
            return self.backbone(slices.contiguous(memory_format=torch.channels_last))

    @torch.inference_mode()
    def _track_slices(self, waveform: np.ndarray) -> tuple[Tensor, list[int]]:
        audio = torch.from_numpy(check_waveform(waveform)).to(self.device) * INPUT_SCALE
        mel = self.log_mel(audio)
        centres = slice_centres(mel.shape[1], self.cfg)
        return pad_short_mel(mel, self.cfg), centres

    def _pieces(self, key: Hashable, waveform: np.ndarray) -> Pieces:
        mel, centres = self._track_slices(waveform)
        take = lambda a, b: normalised_slices(mel, centres[a:b], self.cfg)  # noqa: E731 - lazily, per batch
        return Pieces(key, len(centres), slice_starts(centres, self.cfg), take)
