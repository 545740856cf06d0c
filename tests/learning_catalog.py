"""A generated catalog with a hidden attribute, for the learned metric's tests: every track a different melody
(what the cosine mostly hears), half of them with a faint hiss above 5 kHz (what the simulated listener
hears: the folder, "airy" or "dry"), indexed by the real indexer (fake embedder)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from indexer.build import BuildOptions, build_catalog
from tests.audio_files import melody, write_audio
from tests.fake_embedder import FakeEmbedder

SR = 16000
HISS = 0.006  # faint: the plain cosine hears the melody first, but the attribute is there to be learned
FOLDERS = ("airy", "dry")


def hiss(samples: int, rng: np.random.Generator, level: float = HISS) -> np.ndarray:
    """White noise with everything below 5 kHz removed, scaled by `level`."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    spectrum[np.fft.rfftfreq(samples, 1 / SR) < 5000] = 0
    return (level * np.fft.irfft(spectrum, samples)).astype(np.float32)


def write_catalog(root: Path, tracks: int = 80, seconds: float = 4.0) -> dict[str, str]:
    """`tracks` FLAC files under root/airy and root/dry (alternating); {relative path: folder}."""
    rng = np.random.default_rng(5)
    attribute = {}
    for i in range(tracks):
        folder = FOLDERS[i % 2]
        wave = melody(seconds, seed=1000 + i, sr=SR)
        if folder == "airy":
            wave = wave + hiss(wave.size, rng)
        relative = f"{folder}/track{i:03d}.flac"
        write_audio(root / relative, seconds, sr=SR, stereo=False, mono=wave)
        attribute[relative] = folder
    return attribute


def build(root: Path, data: Path) -> None:
    report = build_catalog(root, data, BuildOptions(workers=1, progress=False, timeout=60), FakeEmbedder())
    assert report.indexed == len(list(root.rglob("*.flac"))), report.failed


def listener_by(attribute: Mapping[int, object]) -> Callable[[tuple[int, int, int]], int | None]:
    """A listener who hears only the attribute (track id -> value): the odd one out is the track whose value
    differs from the two others'; "can't say" (None) when all three share it, or all three differ."""

    def odd_one(triplet: tuple[int, int, int]) -> int | None:
        values = [attribute[t] for t in triplet]
        lonely = [t for t, v in zip(triplet, values, strict=True) if values.count(v) == 1]
        return lonely[0] if len(lonely) == 1 else None

    return odd_one
