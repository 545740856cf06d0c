"""MAEST's log-mel frontend in torch, as Essentia computes it for TensorflowPredictMAEST: FrameCutter
(512-sample frames every 256, frame k centred on sample k * 256, zero-padded at both ends, the last one
starting before the end), Windowing (symmetric Hann, not normalised), Spectrum, MelBands (96 Slaney
bands with Slaney area norm, power), log10(1 + 10000 x). tests/indexer/test_maest_essentia.py holds
it to Essentia's own output."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from indexer.models.maest.config import F_MAX, HOP, MEL_MEAN, MEL_STD, N_FFT, N_MELS, SAMPLE_RATE


def _hz_to_slaney_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney's scale: linear below 1 kHz (3 mel per 200 Hz), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3.0)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _slaney_mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * (200.0 / 3.0)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


def slaney_mel_filterbank(
    sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS, f_min: float = 0.0, f_max: float = F_MAX
) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangles on Slaney's scale, each scaled to unit area (Slaney norm)."""
    freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges = _slaney_mel_to_hz(np.linspace(_hz_to_slaney_mel(f_min), _hz_to_slaney_mel(f_max), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def frame_count(samples: int) -> int:
    """Essentia's FrameCutter count: a frame centred on every multiple of HOP up to the first past the end."""
    return -(-samples // HOP) + 1


class MaestFrontend(torch.nn.Module):
    """Mono 16 kHz audio -> (frames, 96) normalised log-mel, frame k centred on sample k * 256."""

    window: Tensor  # buffers
    mel_fb: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=False), persistent=False)
        self.register_buffer("mel_fb", torch.from_numpy(slaney_mel_filterbank()), persistent=False)

    def log_mel(self, audio: Tensor) -> Tensor:
        """(frames, 96) log10(1 + 10000 * mel power), before normalisation."""
        # Zeros up to a multiple of HOP, then centred framing with zero padding: Essentia's frames, count and all.
        audio = torch.nn.functional.pad(audio, (0, -audio.numel() % HOP))
        spec = torch.stft(audio, N_FFT, HOP, window=self.window, center=True, pad_mode="constant", return_complex=True)
        power = spec.real.square() + spec.imag.square()  # (freqs, frames)
        return torch.log10(1.0 + 10000.0 * (self.mel_fb @ power)).T

    def forward(self, audio: Tensor) -> Tensor:
        return (self.log_mel(audio) - MEL_MEAN) / (2.0 * MEL_STD)
