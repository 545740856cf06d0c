"""A deterministic, fast stand-in for MULE where the model itself is not under test."""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Iterator

import numpy as np

from indexer.models.base import Embedder, K, TrackEmbedding, check_waveform


class FakeEmbedder(Embedder):
    """Vectors: a seeded projection of each 2-s slice's log band energies. Same audio, same vector."""

    name = "mule"
    sample_rate = 16000
    dim = 32

    def __init__(self, revision: str = "fake-rev", delay: float = 0.0) -> None:
        self.revision = revision
        self.delay = delay
        self.embedded: list[Hashable] = []
        self._projection = np.random.default_rng(1234).standard_normal((64, self.dim)).astype(np.float32)

    def _slice_vector(self, piece: np.ndarray) -> np.ndarray:
        frames = piece[: max(4096, piece.size // 4096 * 4096)]
        frames = np.pad(frames, (0, max(0, 4096 - frames.size))).reshape(-1, 4096)
        spectrum = np.abs(np.fft.rfft(frames, axis=1)).mean(axis=0)  # the whole slice, not its first 0.26 s
        bands = np.log1p(np.array([b.sum() for b in np.array_split(spectrum, 64)], dtype=np.float32))
        return bands @ self._projection

    def embed_stream(self, tracks: Iterable[tuple[K, np.ndarray]]) -> Iterator[tuple[K, TrackEmbedding]]:
        for key, wave in tracks:
            wave = check_waveform(wave)
            hop = 2 * self.sample_rate
            pieces = [wave[i : i + hop] for i in range(0, max(1, wave.size - hop // 2), hop)] or [wave]
            timeline = np.stack([self._slice_vector(p) for p in pieces]).astype(np.float32)
            starts = np.arange(len(pieces), dtype=np.float64) * 2.0
            if self.delay:
                time.sleep(self.delay)
            self.embedded.append(key)
            yield key, TrackEmbedding(timeline.mean(0), timeline, starts)


def install(revision: str = "fake-rev", delay: float = 0.0) -> FakeEmbedder:
    """Make `indexer.models.load_embedder` return a FakeEmbedder (for CLI runs in a subprocess)."""
    import indexer.models

    fake = FakeEmbedder(revision, delay)
    indexer.models.load_embedder = lambda *args, **kwargs: fake
    return fake


def fake_loader(delay: float = 0.0):
    """A `load_embedder` stand-in that treats weights as the real one does offline: a folder is needed
    (no Hub here) and its name is part of the revision; each model keeps its registered sample rate."""
    from pathlib import Path

    from indexer.errors import WeightsError
    from indexer.models import model_spec

    def load(model: str = "mule", weights: str | None = None, *args: object, **options: object) -> FakeEmbedder:
        spec = model_spec(model)
        if not weights or not Path(weights).is_dir():
            raise WeightsError(f"weights '{weights or 'the ' + model + ' repo'}' not found: the Hub is unreachable")
        fake = FakeEmbedder(f"{model}:{Path(weights).name}", delay)
        fake.name, fake.sample_rate = model, spec.sample_rate
        return fake

    return load


def install_loader(delay: float = 0.0) -> None:
    """Make `indexer.models.load_embedder` the fake loader (for CLI runs, in-process or in a subprocess)."""
    import indexer.models

    indexer.models.load_embedder = fake_loader(delay)
