"""Integrated loudness equals pyloudnorm's (BS.1770) on music-like audio, silence and edge lengths; the
normalisation reaches its target and leaves what it cannot measure alone."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from indexer.loudness import TARGET_LUFS, integrated_loudness, normalised
from tests.audio_files import melody


@pytest.mark.parametrize("rate", [16000, 24000, 44100])
@pytest.mark.parametrize("seconds", [0.45, 3.0, 37.3])
def test_equals_pyloudnorm(rate, seconds):
    wave = melody(seconds, seed=int(seconds * 10), sr=rate)
    wave[: len(wave) // 3] *= 0.01  # a quiet part the relative gate drops
    theirs = pyloudnorm.Meter(rate).integrated_loudness(wave.astype(np.float64))
    assert integrated_loudness(wave, rate) == pytest.approx(theirs, abs=1e-3)


def test_normalising_reaches_the_target_and_leaves_silence_and_crumbs():
    wave = melody(10.0, seed=3, sr=16000)
    for gain in (0.1, 1.0, 3.0):
        assert integrated_loudness(normalised(wave * gain, 16000), 16000) == pytest.approx(TARGET_LUFS, abs=1e-3)
    silence = np.zeros(16000, np.float32)
    assert integrated_loudness(silence, 16000) == float("-inf") and normalised(silence, 16000) is silence
    crumb = wave[:1000]  # under one 400-ms block
    assert np.isnan(integrated_loudness(crumb, 16000)) and normalised(crumb, 16000) is crumb
