"""MusicFM's encoder: log-mel frontend, two residual 2-D conv blocks (1/4 time), a 12-layer conformer."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from indexer.models.layers import run_layers
from indexer.models.musicfm.config import AMIN, CONV_DIM, HIDDEN, HOP, N_FFT, N_MELS, SAMPLE_RATE


def htk_mel_filterbank(
    sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS, f_max: float | None = None
) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) HTK-scale triangles, unnormalised (torchaudio's layout: freqs x mels)."""
    f_max = f_max or sample_rate / 2
    freqs = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    mels = np.linspace(0.0, 2595.0 * np.log10(1.0 + f_max / 700.0), n_mels + 2)
    edges = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    slopes = edges[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / np.diff(edges)[:-1]
    up = slopes[:, 2:] / np.diff(edges)[1:]
    return np.maximum(0.0, np.minimum(down, up)).astype(np.float32)


class LogMel(nn.Module):
    """Audio (batch, samples) -> (batch, 128, frames) in dB, the last frame dropped (as MusicFM does)."""

    window: Tensor  # buffers
    fb: Tensor

    def __init__(self, fb: Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True), persistent=False)
        fb = fb if fb is not None else torch.from_numpy(htk_mel_filterbank())
        self.register_buffer("fb", fb.float(), persistent=False)

    def forward(self, audio: Tensor) -> Tensor:
        spec = torch.stft(audio, N_FFT, HOP, window=self.window, center=True, pad_mode="reflect", return_complex=True)
        power = spec.real.square() + spec.imag.square()  # (batch, freqs, frames)
        mel = torch.matmul(power.transpose(-1, -2), self.fb).transpose(-1, -2)
        return 10.0 * torch.log10(torch.clamp(mel, min=AMIN))[..., :-1]


class ResidualBlock(nn.Module):
    """3x3 conv-BN-ReLU-conv-BN with a strided 3x3 conv-BN shortcut, ReLU after the sum."""

    def __init__(self, channels_in: int, channels_out: int, stride: tuple[int, int]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.conv3 = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1)
        self.bn3 = nn.BatchNorm2d(channels_out)

    def forward(self, x: Tensor) -> Tensor:
        main = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(self.bn3(self.conv3(x)) + main)


class ConvSubsampling(nn.Module):
    """(batch, mels, frames) -> (batch, frames / 4, hidden): two stride-2 blocks, then a linear map."""

    def __init__(self, channels: int = CONV_DIM, hidden: int = HIDDEN, n_mels: int = N_MELS) -> None:
        super().__init__()
        self.conv = nn.Sequential(ResidualBlock(1, channels, (2, 2)), ResidualBlock(channels, channels, (2, 2)))
        self.linear = nn.Linear(channels * (n_mels // 4), hidden)

    def forward(self, mel: Tensor) -> Tensor:
        x = self.conv(mel.unsqueeze(1))  # (batch, channels, mels / 4, frames / 4)
        b, c, f, t = x.shape
        return self.linear(x.permute(0, 3, 1, 2).reshape(b, t, c * f))  # channel-major per frame


class MusicFMEncoder(nn.Module):
    """Attribute names as in the published checkpoint (`conv.*`, `conformer.*`), so keys load as they are."""

    def __init__(self, conformer_config: Any, channels: int = CONV_DIM) -> None:  # a Wav2Vec2ConformerConfig
        super().__init__()
        from transformers.models.wav2vec2_conformer.modeling_wav2vec2_conformer import Wav2Vec2ConformerEncoder

        self.conv = ConvSubsampling(channels, conformer_config.hidden_size)
        self.conformer = Wav2Vec2ConformerEncoder(conformer_config)

    @torch.inference_mode()
    def layer_output(self, mel: Tensor, layer: int | str) -> Tensor:
        """(batch, tokens, hidden) after conformer layer `layer` (1-based) or the mean of all layers.

        The last layer includes the encoder's final LayerNorm, as `last_hidden_state` and
        transformers 4's hidden_states[-1] do.
        """
        encoder = self.conformer
        h = self.conv(mel)
        rotary = encoder.embed_positions(h) if encoder.embed_positions is not None else None
        return run_layers(encoder.layers, h, layer, encoder.layer_norm, relative_position_embeddings=rotary)
