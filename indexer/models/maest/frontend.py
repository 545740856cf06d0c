"""MAEST's log-mel frontend in torch, as Essentia computes it for TensorflowPredictMAEST: FrameCutter
(512-sample frames every 256, frame k centred on sample k * 256, zero-padded at both ends, the last one
starting before the end), Windowing (symmetric Hann, not normalised), Spectrum, MelBands (96 Slaney
bands with Slaney area norm, power), log10(1 + 10000 x). tests/indexer/test_maest_essentia.py holds
it to Essentia's own output."""

from __future__ import annotations

import torch
from torch import Tensor

from indexer.models.maest.config import F_MAX, HOP, MEL_MEAN, MEL_STD, N_FFT, N_MELS, SAMPLE_RATE
from indexer.models.mel import slaney_mel_filterbank


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
        self.register_buffer(
            "mel_fb", torch.from_numpy(slaney_mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, 0.0, F_MAX)), persistent=False
        )

    def log_mel(self, audio: Tensor) -> Tensor:
        """(frames, 96) log10(1 + 10000 * mel power), before normalisation."""
        # Zeros up to a multiple of HOP, then centred framing with zero padding: Essentia's frames, count and all.
        audio = torch.nn.functional.pad(audio, (0, -audio.numel() % HOP))
        spec = torch.stft(audio, N_FFT, HOP, window=self.window, center=True, pad_mode="constant", return_complex=True)
        power = spec.real.square() + spec.imag.square()  # (freqs, frames)
        return torch.log10(1.0 + 10000.0 * (self.mel_fb @ power)).T

    def forward(self, audio: Tensor) -> Tensor:
        return (self.log_mel(audio) - MEL_MEAN) / (2.0 * MEL_STD)
