"""CLAP's log-mel front end in torch, as LAION's HTSAT computes it inside the model (torchlibrosa's Spectrogram
and LogmelFilterBank): 1024-sample periodic-Hann frames every 480 samples, centred and reflect-padded; power;
librosa's 64 Slaney bands (50-14000 Hz); 10 log10(max(x, 1e-10)). transformers' ClapFeatureExtractor computes
a near copy in numpy; LAION's is the reference (tests/indexer/test_clap_fidelity.py)."""

from __future__ import annotations

import torch
from torch import Tensor

from indexer.models.clap.config import AMIN, F_MAX, F_MIN, HOP, N_FFT, N_MELS, SAMPLE_RATE
from indexer.models.mel import slaney_mel_filterbank


class ClapFrontend(torch.nn.Module):
    """(batch, samples) mono 48 kHz -> (batch, 1, frames, 64) log-mel in dB, the input ClapModel takes."""

    window: Tensor  # buffers
    mel_fb: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True), persistent=False)
        bank = slaney_mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, F_MIN, F_MAX)
        self.register_buffer("mel_fb", torch.from_numpy(bank).T.contiguous(), persistent=False)

    def forward(self, audio: Tensor) -> Tensor:
        spec = torch.stft(audio, N_FFT, HOP, window=self.window, center=True, pad_mode="reflect", return_complex=True)
        power = spec.real.square() + spec.imag.square()  # (batch, freqs, frames)
        mel = power.transpose(1, 2) @ self.mel_fb  # (batch, frames, mels)
        return (10.0 * torch.log10(mel.clamp(min=AMIN))).unsqueeze(1)
