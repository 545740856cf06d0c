"""CLAP as a soundalike Embedder: consecutive 10-s windows at 48 kHz, each a unit vector in the joint
audio-text space; the track vector is their mean (docs/models.md#clap). Texts go through the same model's
text tower (`embed_texts`), so a description and a track compare by cosine."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from indexer.errors import IndexerError
from indexer.models.base import K, TrackEmbedding, check_waveform
from indexer.models.batching import PieceEmbedder, Pieces, window_starts
from indexer.models.clap.checkpoint import build_model, load_published, read_state
from indexer.models.clap.config import (
    CONFIG_FILE,
    DEFAULT_VARIANT,
    FILES,
    FRONTEND,
    POOLING,
    SAMPLE_RATE,
    TAGS_MIN,
    TAGS_TOP,
    TEXT_TOKENS,
    WEIGHTS_FILE,
    WINDOW,
    clap_variant,
)
from indexer.models.clap.frontend import ClapFrontend
from indexer.models.clap.tags import Vocabulary, read_vocabulary, zero_shot
from indexer.models.device import autocast, check_precision, pick_device
from indexer.models.registry import MODELS
from indexer.models.strict import read_json
from indexer.models.tagging import top_labels
from indexer.models.weights import resolve_weights, weights_spec

log = logging.getLogger(__name__)

DEFAULT_BATCH = MODELS["clap"].batch  # windows per batch, by device type


def quantise(wave: np.ndarray) -> np.ndarray:
    """LAION's int16 round trip (clip to [-1, 1], x 32767 truncated, / 32767): the reference's input."""
    return (np.clip(wave, -1.0, 1.0) * 32767.0).astype(np.int16) / np.float32(32767.0)


def repeat_pad(wave: np.ndarray, length: int) -> np.ndarray:
    """LAION's `repeatpad` for a clip shorter than a window: whole repeats, then zeros."""
    repeated = np.tile(wave, length // wave.size)
    return np.pad(repeated, (0, length - repeated.size))


def clip_windows(wave: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The waveform (repeat-padded when shorter than a window) and its window starts: consecutive 10-s windows,
    the last pulled back to end at the track's end, so every window is 10 s of the track's own audio."""
    if wave.size < WINDOW:
        return repeat_pad(wave, WINDOW), [0]
    return wave, window_starts(wave.size, WINDOW, WINDOW)


class ClapEmbedder(PieceEmbedder):
    name = "clap"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        config: dict,
        state: dict[str, Tensor],
        tokenizer_dir: Path,
        variant: str = DEFAULT_VARIANT,
        revision: str = "unknown",
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int | None = None,
        tags_top: int = TAGS_TOP,
        tags_min: float = TAGS_MIN,
        tags_file: str | None = None,
    ) -> None:
        self.variant = variant
        self.text_ok = clap_variant(variant).text
        model = build_model(config)
        load_published(model, state)
        self.dim = int(model.config.projection_dim)
        self.revision = f"{revision};variant={variant};frontend={FRONTEND};pooling={POOLING}"
        self.device = pick_device(device)
        self.precision = check_precision(precision, self.device)
        self.batch_size = batch_size or DEFAULT_BATCH[self.device.type]
        self.model = model.to(self.device)
        self.frontend = ClapFrontend().to(self.device)
        self._tokenizer_dir = tokenizer_dir
        self._tokenizer = None
        self.tags_top, self.tags_min = tags_top, tags_min
        self.tags_file = tags_file  # read at the first tagging: text queries never need it
        self._vocabulary: Vocabulary | None = None
        self._prompts: np.ndarray | None = None

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
        tags_file: str | None = None,
    ) -> ClapEmbedder:
        variant = variant or DEFAULT_VARIANT
        files = resolve_weights(weights_spec(weights, clap_variant(variant).repo), FILES)
        config = read_json(files.paths[CONFIG_FILE])
        state = read_state(files.paths[WEIGHTS_FILE])
        tokenizer_dir = files.paths[FILES[0]].parent
        tags = (tags_top, tags_min, tags_file)
        return cls(config, state, tokenizer_dir, variant, files.revision, device, precision, batch_size, *tags)

    # Audio -------------------------------------------------------------------------------------------------
    def _pieces(self, key: Hashable, waveform: np.ndarray) -> Pieces:
        wave, starts = clip_windows(quantise(check_waveform(waveform)))
        audio = torch.from_numpy(wave)

        def take(first: int, stop: int) -> Tensor:
            return torch.stack([audio[s : s + WINDOW] for s in starts[first:stop]]).to(self.device)

        return Pieces(key, len(starts), np.asarray(starts, dtype=np.float64) / SAMPLE_RATE, take, shape=WINDOW)

    def _run(self, windows: Tensor) -> Tensor:
        with torch.inference_mode(), autocast(self.precision, self.device):
            mel = self.frontend(windows.float())
            pooled = self.model.audio_model(input_features=mel).pooler_output
            projected = self.model.audio_projection(pooled)
        return torch.nn.functional.normalize(projected.float(), dim=-1)

    def embed_stream(self, tracks: Iterable[tuple[K, np.ndarray]]) -> Iterator[tuple[K, TrackEmbedding]]:
        for key, embedding in super().embed_stream(tracks):
            yield key, replace(embedding, styles=self.tags(embedding.vector[None])[0])

    # Tags --------------------------------------------------------------------------------------------------
    def tags(self, vectors: np.ndarray) -> list[dict[str, float] | None]:
        """Each vector's top zero-shot tags (indexer.models.clap.tags); None without a vocabulary (the music
        variant's collapsed text tower, or --tags-top 0)."""
        if not self.text_ok or self.tags_top <= 0:
            return [None] * len(vectors)
        if self._vocabulary is None or self._prompts is None:
            self._vocabulary = read_vocabulary(self.tags_file)
            self._prompts = self.embed_texts(self._vocabulary.prompts)
        scale = float(self.model.logit_scale_a.detach().exp())
        probabilities = zero_shot(vectors, self._prompts, self._vocabulary.categories, scale)
        tags = list(self._vocabulary.tags)
        return [top_labels(p, tags, self.tags_top, self.tags_min) for p in probabilities]

    # Text --------------------------------------------------------------------------------------------------
    def check_text(self) -> None:
        """Raise IndexerError when this variant's text tower is not fit for text queries."""
        if not self.text_ok:
            raise IndexerError(clap_variant(self.variant).why_not_text)

    @property
    def tokenizer(self) -> Any:  # transformers' RobertaTokenizer
        if self._tokenizer is None:
            from transformers import RobertaTokenizer

            self._tokenizer = RobertaTokenizer.from_pretrained(str(self._tokenizer_dir))
        return self._tokenizer

    def tokenize(self, texts: Sequence[str], padding: str = "longest") -> dict[str, Tensor]:
        """LAION's tokenizer call: RoBERTa's BPE, truncated to 77 tokens. LAION pads every text to 77; padding
        to the longest text of the batch gives the same vectors (the padding is masked out) in a fraction of
        the time (tests/indexer/test_clap.py)."""
        got = self.tokenizer(list(texts), padding=padding, truncation=True, max_length=TEXT_TOKENS, return_tensors="pt")
        return {"input_ids": got["input_ids"], "attention_mask": got["attention_mask"]}

    def embed_texts(self, texts: Sequence[str], padding: str = "longest") -> np.ndarray:
        """(len(texts), dim) unit vectors in the joint space."""
        self.check_text()
        if not texts:
            return np.empty((0, self.dim), np.float32)
        tokens = {k: v.to(self.device) for k, v in self.tokenize(texts, padding).items()}
        with torch.inference_mode(), autocast(self.precision, self.device):
            pooled = self.model.text_model(**tokens).pooler_output
            projected = self.model.text_projection(pooled)
        return torch.nn.functional.normalize(projected.float(), dim=-1).cpu().numpy()
