"""The one interface every embedding model of soundalike implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from indexer.errors import EmbeddingInputError

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class TrackEmbedding:
    """One track's embedding: the pooled vector and the per-slice timeline it came from."""

    vector: np.ndarray  # (dim,) float32, mean of the timeline
    timeline: np.ndarray  # (n_slices, dim) float32
    starts: np.ndarray  # (n_slices,) float64, each slice's start in seconds
    styles: dict[str, float] | None = None  # models with a tagger (MAEST): top labels -> probability

    @property
    def n_slices(self) -> int:
        return int(self.timeline.shape[0])


class Embedder(ABC):
    """Turns mono waveforms at `sample_rate` into vectors of size `dim`.

    `revision` names the exact weights, so stored vectors can say what made them.
    """

    name: str
    sample_rate: int
    dim: int
    revision: str

    @abstractmethod
    def embed_stream(self, tracks: Iterable[tuple[K, np.ndarray]]) -> Iterator[tuple[K, TrackEmbedding]]:
        """Embed (key, waveform) pairs, batching slices across tracks.

        Yields each track as soon as all of its slices are done (not necessarily in
        input order). Results do not depend on how tracks are grouped into batches.
        """

    def embed(self, waveforms: Sequence[np.ndarray]) -> list[TrackEmbedding]:
        """Embed a list of mono waveforms of any lengths; one result per waveform, in order."""
        done = dict(self.embed_stream(enumerate(waveforms)))
        return [done[i] for i in range(len(waveforms))]


def check_waveform(waveform: np.ndarray) -> np.ndarray:
    """Return `waveform` as a contiguous float32 1-D array, or raise EmbeddingInputError.

    Stereo (2-D) input is rejected: the decoder downmixes, the embedder never guesses.
    """
    arr = np.asarray(waveform)
    if arr.ndim != 1:
        raise EmbeddingInputError(f"expected a mono 1-D waveform, got shape {arr.shape}; downmix to mono first")
    if arr.size == 0:
        raise EmbeddingInputError("empty waveform: nothing to embed")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise EmbeddingInputError("waveform contains NaN or infinite samples")
    return arr
