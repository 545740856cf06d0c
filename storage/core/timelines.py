"""Compact timelines: each slice kept as int8 codes on a per-model PCA basis.

A float16 MULE slice costs 3,456 bytes (1,728 B per second of audio at one slice per 2 s). The
store keeps instead the slice's first DIMS principal components (of that model's own slices,
learned once from the first FIT_SLICES stored slices) as int8, the slice scaled so its largest
component is 127 and that scale kept as float16 (nothing clips, whatever a track's range): 130 bytes
a slice, 65 B/s. (Scaling each component by its spread first did worse: a track far from the fit's
tracks in a minor component coarsened its major ones.) Until a model has FIT_SLICES slices its
timelines stay float16 (a handful of tracks); the store then fits the basis and re-encodes them
(`Store.compact_timelines`).

Readers compare slices in the basis's space: a slice x becomes y = [W x, |mu_perp|], whose inner
products are those of the reconstructions mu + W^T W (x - mu), so cosines of stored and of fresh
(projected, not quantised) slices are directly comparable. Measured fidelity: benchmarks/bench_timelines.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

DIMS = 128  # components kept per slice
FIT_SLICES = 2048  # slices of a model stored before its basis is learned (~68 min of MULE audio)
FIT_SAMPLE = 50_000  # at most this many slices go into the fit
RAW = "f16"  # float16 (n_slices, dim), as embedded
CODED = "pca-i8"  # int8 (n_slices, dims) on the model's basis


@dataclass(frozen=True)
class TimelineCodec:
    mean: np.ndarray  # (dim,) float32
    components: np.ndarray  # (dims, dim) float32, orthonormal rows, most variance first
    rest: float  # norm of the part of the mean outside the basis

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    @property
    def dims(self) -> int:
        return int(self.components.shape[0])

    @cached_property
    def offset(self) -> np.ndarray:
        return (self.components @ self.mean).astype(np.float32)

    def encode(self, slices: np.ndarray) -> bytes:
        """int8 codes (n_slices, dims), then each slice's scale (float16)."""
        z = (np.asarray(slices, np.float32) - self.mean) @ self.components.T
        scale = (np.abs(z).max(1) / 127.0).astype(np.float16)
        safe = np.maximum(scale.astype(np.float32), np.float32(1e-12))
        codes = np.clip(np.rint(z / safe[:, None]), -127, 127).astype(np.int8)
        return codes.tobytes() + scale.astype("<f2").tobytes()

    def decode(self, blob: bytes) -> np.ndarray:
        """Stored codes as (n_slices, dims + 1) vectors of the comparison space."""
        n = len(blob) // (self.dims + 2)
        codes = np.frombuffer(blob, np.int8, count=n * self.dims).reshape(n, self.dims)
        scale = np.frombuffer(blob, "<f2", offset=n * self.dims).astype(np.float32)
        return self._with_rest(codes * scale[:, None] + self.offset)

    def project(self, slices: np.ndarray) -> np.ndarray:
        """Full-precision slices (n, dim) in the comparison space (nothing quantised)."""
        return self._with_rest(np.asarray(slices, np.float32) @ self.components.T)

    def _with_rest(self, y: np.ndarray) -> np.ndarray:
        return np.hstack([y, np.full((len(y), 1), self.rest, np.float32)])


def fit_codec(slices: np.ndarray, dims: int = DIMS) -> TimelineCodec:
    """The basis of a model's slices: their mean and top `dims` principal axes."""
    x = np.asarray(slices, np.float64)
    mean = x.mean(0)
    centred = x - mean
    dims = min(dims, x.shape[1], max(1, x.shape[0] - 1))
    covariance = centred.T @ centred / max(1, len(x) - 1)
    values, vectors = np.linalg.eigh(covariance)
    components = vectors[:, np.argsort(values)[::-1][:dims]].T
    rest = float(np.linalg.norm(mean - components.T @ (components @ mean)))
    return TimelineCodec(mean.astype(np.float32), components.astype(np.float32), rest)


def raw_timeline(blob: bytes, dim: int) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f2").reshape(-1, dim).astype(np.float32)


def comparable(blob: bytes, fmt: str, dim: int, codec: TimelineCodec | None) -> np.ndarray:
    """A stored timeline as the vectors passages compare: the codec's space when the model has one."""
    if fmt == CODED:
        if codec is None:
            raise ValueError("coded timeline without its model's basis")
        return codec.decode(blob)
    slices = raw_timeline(blob, dim)
    return codec.project(slices) if codec is not None else slices
