"""Batching of per-track pieces (slices, windows, patches) across tracks, shared by every model.

A model cuts each track into pieces of one shape, hands them here lazily (so a long
track's pieces are never all materialised at once), and gets back per-track timelines
and mean vectors. Pieces of different shapes (a short track's single window) never
share a batch. Results do not depend on the grouping: every model runs pieces
independently (no cross-item normalisation in eval mode).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import torch
from torch import Tensor

from indexer.models.base import Embedder, K, TrackEmbedding


@dataclass(frozen=True)
class Pieces:
    """One track's pieces: `take(first, stop)` stacks pieces [first, stop) on dim 0."""

    key: Hashable
    count: int
    starts: np.ndarray  # seconds, one per piece
    take: Callable[[int, int], Tensor]
    shape: Hashable = ()  # pieces with different `shape` go to different batches


@dataclass
class _Pending:
    timeline: np.ndarray
    starts: np.ndarray
    remaining: int


@dataclass
class _Batch:
    parts: list[Tensor] = field(default_factory=list)
    owners: list[tuple[Hashable, int, int]] = field(default_factory=list)  # key, first, stop
    size: int = 0


class PieceEmbedder(Embedder):
    """An Embedder that cuts each track into pieces (`_pieces`) and runs them in batches (`_run`)."""

    batch_size: int

    @abstractmethod
    def _pieces(self, key: Hashable, waveform: np.ndarray) -> Pieces:
        """One track's pieces."""

    @abstractmethod
    def _run(self, pieces: Tensor) -> Tensor:
        """(pieces, piece_width) outputs of one batch."""

    @property
    def piece_width(self) -> int:
        """Columns `_run` gives per piece: the embedding, unless the model adds more (MAEST's labels)."""
        return self.dim

    def embed_stream(self, tracks: Iterable[tuple[K, np.ndarray]]) -> Iterator[tuple[K, TrackEmbedding]]:
        pieces = (self._pieces(key, waveform) for key, waveform in tracks)
        # Each key comes back as given: the pieces carry it through unchanged.
        return cast(
            Iterator[tuple[K, TrackEmbedding]], embed_pieces(pieces, self._run, self.batch_size, self.piece_width)
        )


def embed_pieces(
    tracks: Iterable[Pieces], run: Callable[[Tensor], Tensor], batch_size: int, dim: int
) -> Iterator[tuple[Hashable, TrackEmbedding]]:
    """Run `run` over batches of up to `batch_size` pieces; yield each track once all its pieces are done."""
    pending: dict[Hashable, _Pending] = {}
    batches: dict[Hashable, _Batch] = {}
    for track in tracks:
        if track.key in pending:
            raise ValueError(f"track key {track.key!r} given twice")
        pending[track.key] = _Pending(np.empty((track.count, dim), np.float32), track.starts, track.count)
        first = 0
        while first < track.count:
            batch = batches.setdefault(track.shape, _Batch())
            stop = min(track.count, first + batch_size - batch.size)
            with torch.inference_mode():
                batch.parts.append(track.take(first, stop))
            batch.owners.append((track.key, first, stop))
            batch.size += stop - first
            first = stop
            if batch.size == batch_size:
                yield from _flush(batches.pop(track.shape), run, pending)
    for batch in batches.values():
        yield from _flush(batch, run, pending)


def _flush(
    batch: _Batch, run: Callable[[Tensor], Tensor], pending: dict[Hashable, _Pending]
) -> Iterator[tuple[Hashable, TrackEmbedding]]:
    with torch.inference_mode():
        out = run(torch.cat(batch.parts)).float().cpu().numpy()
    row = 0
    for key, first, stop in batch.owners:
        track = pending[key]
        track.timeline[first:stop] = out[row : row + stop - first]
        row += stop - first
        track.remaining -= stop - first
        if track.remaining == 0:
            del pending[key]
            vector = track.timeline.mean(axis=0, dtype=np.float64).astype(np.float32)
            yield key, TrackEmbedding(vector=vector, timeline=track.timeline, starts=track.starts)


def window_starts(n_samples: int, window: int, hop: int) -> list[int]:
    """Window starts covering a track; the last window is pulled back to end at the track's end."""
    if n_samples <= window:
        return [0]
    starts = list(range(0, n_samples - window + 1, hop))
    if starts[-1] + window < n_samples:
        starts.append(n_samples - window)
    return starts


def waveform_windows(key: Hashable, wave: Tensor, window: int, hop: int, sample_rate: int, min_samples: int) -> Pieces:
    """A waveform's windows as Pieces; a track shorter than `window` is one window of its own length
    (zero-padded to `min_samples`), batched only with windows of that same length."""
    if wave.numel() < min_samples:
        wave = torch.nn.functional.pad(wave, (0, min_samples - wave.numel()))
    starts = window_starts(wave.numel(), window, hop)
    width = min(window, wave.numel())

    def take(first: int, stop: int) -> Tensor:
        return torch.stack([wave[s : s + width] for s in starts[first:stop]])

    return Pieces(key, len(starts), np.asarray(starts, dtype=np.float64) / sample_rate, take, shape=width)
