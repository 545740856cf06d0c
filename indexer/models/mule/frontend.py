"""MULE frontend: waveform -> log-mel (torch.stft) -> 300-frame normalised slices.

The log-mel is computed in chunks of frames over a once-padded signal, so a long
track never materialises its whole complex spectrogram; the result is identical
to one `torch.stft(center=True)` over the whole track.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from indexer.models.mule.config import MuleConfig

STFT_CHUNK_FRAMES = 4096  # ~41 s of audio per STFT call: ~34 MB of complex spectrum


def hz_to_mel_htk(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def mel_to_hz_htk(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(cfg: MuleConfig) -> np.ndarray:
    """Triangular HTK-scale filters, each scaled to unit L2 norm: (n_mels, n_freqs) float32.

    Equals librosa.filters.mel(htk=True, norm=2.0) (checked in the tests); the published
    checkpoints ship this matrix as `frontend.mel_fb`, so it is only built for new ones.
    """
    fft_hz = np.linspace(0.0, cfg.sample_rate / 2.0, cfg.n_freqs)
    edges_mel = np.linspace(hz_to_mel_htk(np.array(cfg.fmin)), hz_to_mel_htk(np.array(cfg.fmax)), cfg.n_mels + 2)
    edges_hz = mel_to_hz_htk(edges_mel)
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    fb = np.maximum(0.0, np.minimum(lower, upper))
    norms = np.linalg.norm(fb, ord=cfg.mel_norm, axis=1, keepdims=True)
    fb = fb / np.where(norms > 0, norms, 1.0)
    return fb.astype(np.float32)


class LogMel:
    """(samples,) waveform -> (n_mels, frames) log10(10000·mel + 1) on the filterbank's device."""

    def __init__(self, cfg: MuleConfig, mel_fb: Tensor) -> None:
        self.cfg = cfg
        self.mel_fb = mel_fb.float()
        self.window = torch.hann_window(cfg.win_length, periodic=True, device=mel_fb.device)

    def n_frames(self, n_samples: int) -> int:
        return 1 + n_samples // self.cfg.hop_length

    def __call__(self, waveform: Tensor) -> Tensor:
        cfg = self.cfg
        half = cfg.n_fft // 2
        if waveform.numel() <= half:  # reflect padding needs more samples than the pad
            waveform = F.pad(waveform, (0, half + 1 - waveform.numel()))
        padded = F.pad(waveform.view(1, 1, -1), (half, half), mode="reflect").view(-1)
        total = self.n_frames(waveform.numel())
        chunks = []
        for first in range(0, total, STFT_CHUNK_FRAMES):
            count = min(STFT_CHUNK_FRAMES, total - first)
            start = first * cfg.hop_length
            segment = padded[start : start + (count - 1) * cfg.hop_length + cfg.n_fft]
            spec = torch.stft(
                segment,
                cfg.n_fft,
                cfg.hop_length,
                cfg.win_length,
                self.window,
                center=False,
                return_complex=True,
            )
            power = torch.view_as_real(spec).square().sum(-1)  # (n_freqs, count)
            chunks.append(torch.log10(10000.0 * (self.mel_fb @ power) + 1.0))
        return torch.cat(chunks, dim=1) if len(chunks) > 1 else chunks[0]


def slice_centres(n_frames: int, cfg: MuleConfig) -> list[int]:
    """Centre frame of each slice: every `slice_hop` frames, kept inside the track.

    A track shorter than one slice gets one slice centred at `look_backward` (after padding).
    """
    if n_frames < cfg.slice_width:
        return [cfg.look_backward]
    upper = n_frames - cfg.look_forward
    return [min(max(c, cfg.look_backward), upper) for c in range(cfg.slice_hop, n_frames, cfg.slice_hop)]


def pad_short_mel(mel: Tensor, cfg: MuleConfig) -> Tensor:
    """Pad a mel shorter than one slice to `slice_width` frames: mirrored when the
    track is long enough to mirror, repeating its last frame otherwise."""
    frames = mel.shape[1]
    missing = cfg.slice_width - frames
    if missing <= 0:
        return mel
    mode = "reflect" if missing < frames else "replicate"
    return F.pad(mel.unsqueeze(0), (0, missing), mode=mode).squeeze(0)


def normalised_slices(mel: Tensor, centres: list[int], cfg: MuleConfig) -> Tensor:
    """(n_mels, frames) -> (len(centres), 1, n_mels, slice_width), each slice mean 0, std 1
    (std floored at `std_floor`, so silence stays finite)."""
    index = torch.tensor(centres, device=mel.device)[:, None] + torch.arange(
        -cfg.look_backward, cfg.look_forward, device=mel.device
    )
    slices = mel[:, index].permute(1, 0, 2)  # (n, n_mels, width)
    mean = slices.mean(dim=(1, 2), keepdim=True)
    centred = slices - mean
    std = centred.square().mean(dim=(1, 2), keepdim=True).sqrt().clamp_min(cfg.std_floor)
    return (centred / std).unsqueeze(1)


def slice_starts(centres: list[int], cfg: MuleConfig) -> np.ndarray:
    """Start time in seconds of each slice."""
    frames = np.asarray(centres, dtype=np.float64) - cfg.look_backward
    return frames * cfg.hop_length / cfg.sample_rate
