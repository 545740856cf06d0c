"""A waveform overview of an audio file: the peak level of each of a few hundred equal spans."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from indexer.audio import decode

WAVEFORM_RATE = 8000  # enough to see loud and quiet parts; decoding stays cheap
BINS = 400


def peaks(wave: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Peak absolute level of each of `bins` equal spans of `wave`, scaled so the loudest is 1."""
    if wave.size == 0:
        return np.zeros(bins, np.float32)
    edges = np.linspace(0, wave.size, bins + 1).astype(np.int64)
    magnitude = np.abs(wave)
    levels = np.array([magnitude[a:b].max() if b > a else 0.0 for a, b in zip(edges[:-1], edges[1:], strict=True)])
    top = float(levels.max()) or 1.0
    return (levels / top).astype(np.float32)


def file_peaks(path: str | Path, bins: int = BINS) -> np.ndarray:
    """The waveform overview of a file (DecodeError when it can't be decoded)."""
    return peaks(decode(path, WAVEFORM_RATE), bins)


def bytes_peaks(data: bytes, filename: str, bins: int = BINS) -> np.ndarray:
    """The waveform overview of received bytes (the name's suffix helps the decoder)."""
    with tempfile.TemporaryDirectory(prefix="soundalike-wave-") as folder:
        path = Path(folder) / f"query{Path(filename).suffix[:16]}"
        path.write_bytes(data)
        return file_peaks(path, bins)
