"""Changes on top of a segment index build (storage.index.segment_updates writes them): the slices of new or
changed tracks, scanned exactly in float32, and the base tracks they hide."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

ADDED_TRACKS = "added-tracks.npy"
ADDED_SLICES = "added-slices.npy"
ADDED_VECTORS = "added-vectors.npy"
HIDDEN = "hidden.npy"


@dataclass(frozen=True)
class SegmentLayer:
    tracks: np.ndarray  # int64 (n,): whose slice each added row is
    slices: np.ndarray  # int32 (n,)
    vectors: np.ndarray  # float32 (n, dim), normalised, in the index's comparison space
    hidden: np.ndarray  # sorted int64: base tracks whose rows no longer count (removed, or changed)

    @classmethod
    def empty(cls, dim: int) -> SegmentLayer:
        return cls(np.empty(0, np.int64), np.empty(0, np.int32), np.empty((0, dim), np.float32), np.empty(0, np.int64))

    @classmethod
    def load(cls, directory: Path, dim: int) -> SegmentLayer:
        if not (directory / ADDED_TRACKS).exists():
            return cls.empty(dim)
        return cls(*(np.load(directory / name) for name in (ADDED_TRACKS, ADDED_SLICES, ADDED_VECTORS, HIDDEN)))

    def save(self, directory: Path) -> None:
        arrays = (self.tracks, self.slices, self.vectors, self.hidden)
        for name, array in zip((ADDED_TRACKS, ADDED_SLICES, ADDED_VECTORS, HIDDEN), arrays, strict=True):
            np.save(directory / name, array)

    def merged(
        self, q: np.ndarray, scores: np.ndarray, tracks: np.ndarray, slices: np.ndarray, fetch: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The base's answers (scores -inf where none) merged with this layer's for normalised probes `q`:
        each probe's best `fetch`, as SegmentIndex.search gives them."""
        added = q @ self.vectors.T
        all_scores = np.concatenate([scores, added], axis=1)
        all_tracks = np.concatenate([tracks, np.broadcast_to(self.tracks, added.shape)], axis=1)
        all_slices = np.concatenate([slices, np.broadcast_to(self.slices, added.shape)], axis=1)
        order = np.argsort(-all_scores, axis=1, kind="stable")[:, : max(1, min(fetch, all_scores.shape[1]))]
        best = np.take_along_axis(all_scores, order, 1)
        found = np.isfinite(best)
        return (
            np.where(found, best, 0).astype(np.float32),
            np.where(found, np.take_along_axis(all_tracks, order, 1), -1),
            np.where(found, np.take_along_axis(all_slices, order, 1), 0),
        )
