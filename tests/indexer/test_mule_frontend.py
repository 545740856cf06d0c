"""Frontend against librosa, slicing arithmetic, long-input chunking."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from indexer.models.mule import frontend
from indexer.models.mule.config import MuleConfig
from indexer.models.mule.frontend import LogMel, mel_filterbank, slice_centres, slice_starts
from tests.conftest import tone_mix

CFG = MuleConfig()


def librosa_mel(wave: np.ndarray) -> np.ndarray:
    return librosa.feature.melspectrogram(
        y=wave,
        sr=16000,
        n_fft=2048,
        hop_length=160,
        win_length=400,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=2.0,
        n_mels=96,
        fmin=0.0,
        fmax=8000.0,
        htk=True,
        norm=2.0,
    )


def test_filterbank_equals_librosa():
    expected = librosa.filters.mel(sr=16000, n_fft=2048, n_mels=96, fmin=0.0, fmax=8000.0, htk=True, norm=2.0)
    np.testing.assert_allclose(mel_filterbank(CFG), expected, rtol=1e-5, atol=1e-7)


def test_log_mel_matches_librosa_to_1e4_relative():
    wave = tone_mix(7.3, seed=11)
    fb = torch.from_numpy(mel_filterbank(CFG))
    ours = LogMel(CFG, fb)(torch.from_numpy(wave)).numpy().astype(np.float64)
    power = librosa_mel(wave).astype(np.float64)
    expected = np.log10(10000.0 * power + 1.0)
    assert ours.shape == expected.shape
    significant = expected > 1e-3
    rel = np.abs(ours - expected)[significant] / expected[significant]
    assert rel.max() <= 1e-4
    assert np.abs(ours - expected).max() <= 1e-4


def test_chunked_stft_equals_single_pass(monkeypatch):
    wave = torch.from_numpy(tone_mix(20.0, seed=2))
    fb = torch.from_numpy(mel_filterbank(CFG))
    whole = LogMel(CFG, fb)(wave)
    monkeypatch.setattr(frontend, "STFT_CHUNK_FRAMES", 333)
    chunked = LogMel(CFG, fb)(wave)
    assert chunked.shape == whole.shape == (96, 1 + wave.numel() // 160)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("seconds", "n_slices", "first_start", "last_start"),
    [
        (0.5, 1, 0.0, 0.0),
        (2.5, 1, 0.0, 0.0),
        (3.0, 1, 0.01, 0.01),
        (3.1, 1, 0.11, 0.11),
        (10.0, 5, 0.5, 7.01),
        (61.0, 30, 0.5, 58.01),
    ],
)
def test_slice_counts_and_start_times(seconds, n_slices, first_start, last_start):
    """One slice per 2 s, each 3 s long, the last one pulled back inside the track."""
    frames = 1 + int(seconds * 16000) // 160
    centres = slice_centres(frames, CFG)
    starts = slice_starts(centres, CFG)
    assert len(centres) == n_slices
    assert starts[0] == pytest.approx(first_start)
    assert starts[-1] == pytest.approx(last_start)
    assert np.all(np.diff(starts) > 0)
    assert all(c + CFG.look_forward <= max(frames, CFG.slice_width) for c in centres)
