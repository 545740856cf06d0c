"""Loudness normalisation before embedding, for models whose vectors move with the gain (measured per model
by benchmarks/bench_loudness.py: MusiCNN's did, 0.94-0.98 for a copy 6 dB quieter; see docs/models.md).

EBU R128 / ITU-R BS.1770 integrated loudness (pyloudnorm: K-weighting, gated 400-ms blocks), brought to
TARGET_LUFS by one gain. Only the model's input is scaled: nothing is clipped (no model needs [-1, 1]),
and the catalog's files are untouched. Audio too short to measure (under one 400-ms block) or silent is
left as it is.
"""

from __future__ import annotations

import numpy as np

TARGET_LUFS = -23.0  # EBU R128's programme loudness
BLOCK_SECONDS = 0.4

METHODS = ("r128", "none")


def normalised(wave: np.ndarray, sample_rate: int, target: float = TARGET_LUFS) -> np.ndarray:
    """`wave` scaled to `target` integrated loudness (LUFS)."""
    import pyloudnorm

    if wave.size < int(BLOCK_SECONDS * sample_rate) + 1:
        return wave
    loudness = pyloudnorm.Meter(sample_rate).integrated_loudness(wave.astype(np.float64))
    if not np.isfinite(loudness):
        return wave
    return (wave * np.float32(10 ** ((target - loudness) / 20))).astype(np.float32)
