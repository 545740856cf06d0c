"""Loudness normalisation before embedding, for models whose vectors move with the gain (measured per model
by benchmarks/bench_loudness.py: MusiCNN's did, 0.94-0.98 for a copy 6 dB quieter; see docs/models.md).

ITU-R BS.1770 / EBU R128 integrated loudness, brought to TARGET_LUFS by one gain. The K-weighting filters
are pyloudnorm's own (its IIRfilter, with BS.1770's shelf and high-pass); the gated mean over 400-ms blocks
every 100 ms is computed here from cumulative sums, where pyloudnorm's Meter loops over blocks in Python
(equal within 0.001 LU, tests/indexer/test_loudness.py; three minutes at 16 kHz: 58 ms here, 149 ms there,
same run; it runs before every MusiCNN embedding, about 4 % of the model's time). Only the model's input is scaled:
nothing is clipped (no model needs [-1, 1]) and the files are untouched. Audio under one block, or
silent, is left as it is.
"""

from __future__ import annotations

from functools import cache

import numpy as np

TARGET_LUFS = -23.0  # EBU R128's programme loudness
BLOCK_SECONDS = 0.4
STEP = 0.25  # of a block: 75 % overlap
ABSOLUTE_GATE = -70.0  # LUFS
RELATIVE_GATE = -10.0  # LU below the absolutely gated loudness

METHODS = ("r128", "none")


@cache
def _k_weighting(rate: int) -> tuple[np.ndarray, float]:
    """BS.1770's two stages at `rate`, as pyloudnorm designs them: second-order sections and the gain."""
    from pyloudnorm.iirfilter import IIRfilter

    stages = (
        IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf"),
        IIRfilter(0.0, 0.5, 38.0, rate, "high_pass"),
    )
    sections = np.array([np.concatenate([s.b, s.a]) / s.a[0] for s in stages], np.float64)
    return sections, float(np.prod([s.passband_gain for s in stages]))


def integrated_loudness(wave: np.ndarray, rate: int) -> float:
    """The gated integrated loudness of mono audio in LUFS (-inf for silence; nan under one block)."""
    from scipy.signal import sosfilt

    samples = len(wave)
    block = BLOCK_SECONDS * rate
    if samples < block:
        return float("nan")
    sections, gain = _k_weighting(rate)
    weighted = gain * sosfilt(sections.astype(np.float32), np.asarray(wave, np.float32)).astype(np.float64)
    blocks = int(np.round((samples / rate - BLOCK_SECONDS) / (BLOCK_SECONDS * STEP))) + 1
    j = np.arange(blocks)
    lower = (BLOCK_SECONDS * (j * STEP) * rate).astype(int)
    upper = np.minimum((BLOCK_SECONDS * (j * STEP + 1) * rate).astype(int), samples)
    energy = np.concatenate([[0.0], np.cumsum(np.square(weighted))])
    power = (energy[upper] - energy[lower]) / block
    with np.errstate(divide="ignore"):
        level = -0.691 + 10.0 * np.log10(power)
        audible = power[level >= ABSOLUTE_GATE]
        if audible.size == 0:
            return float("-inf")
        relative = -0.691 + 10.0 * np.log10(audible.mean()) + RELATIVE_GATE
        kept = power[(level > relative) & (level > ABSOLUTE_GATE)]
        return float(-0.691 + 10.0 * np.log10(kept.mean())) if kept.size else float("-inf")


def normalised(wave: np.ndarray, sample_rate: int, target: float = TARGET_LUFS) -> np.ndarray:
    """`wave` scaled to `target` integrated loudness (LUFS)."""
    loudness = integrated_loudness(wave, sample_rate)
    if not np.isfinite(loudness):
        return wave
    return (wave * np.float32(10 ** ((target - loudness) / 20))).astype(np.float32)
