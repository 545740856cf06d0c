"""MusiCNN's log-mel front end in torch, as the authors compute it with librosa 0.10: power STFT (n_fft 512,
hop 256, periodic Hann, centred with zeros), 96 Slaney mel bands with Slaney norm up to 8 kHz, the mel
power rounded to float16 (their `astype(np.float16)`), then log10(10000·x + 1) in float32; cut into
patches of 187 frames that follow each other, the last partial one dropped. A track shorter than one
patch is one patch of its frames repeated (the training's "repeat-pad")."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from indexer.models.mel import slaney_mel_filterbank
from indexer.models.musicnn.config import HOP, N_FFT, N_MELS, PATCH_FRAMES, SAMPLE_RATE


class LogMel(nn.Module):
    """Mono 16 kHz audio (samples,) -> (frames, 96) log-compressed mel power, frames = 1 + samples // 256."""

    window: Tensor  # buffers
    mel_fb: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True), persistent=False)
        fb = slaney_mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, 0.0, SAMPLE_RATE / 2)
        self.register_buffer("mel_fb", torch.from_numpy(fb), persistent=False)

    def forward(self, audio: Tensor) -> Tensor:
        spec = torch.stft(audio, N_FFT, HOP, window=self.window, center=True, pad_mode="constant", return_complex=True)
        power = spec.real.square() + spec.imag.square()
        mel = (self.mel_fb @ power).half().float()  # the authors' float16 rounding, kept for fidelity
        return torch.log10(10000.0 * mel + 1.0).T


def patch_count(frames: int) -> int:
    """Whole patches in a track of `frames` frames (one, repeat-padded, for a shorter track)."""
    return max(1, frames // PATCH_FRAMES)


def patch_starts(frames: int) -> np.ndarray:
    """Each patch's start in seconds."""
    return np.arange(patch_count(frames), dtype=np.float64) * PATCH_FRAMES * HOP / SAMPLE_RATE


def patches(mel: Tensor, first: int, stop: int) -> Tensor:
    """Patches [first, stop) of a (frames, 96) log-mel as (stop - first, 187, 96)."""
    if mel.shape[0] < PATCH_FRAMES:
        repeats = -(-PATCH_FRAMES // mel.shape[0])
        return mel.repeat(repeats, 1)[:PATCH_FRAMES][None]
    return mel[first * PATCH_FRAMES : stop * PATCH_FRAMES].reshape(stop - first, PATCH_FRAMES, N_MELS)
