"""MusiCNN's network in PyTorch, as the authors' TensorFlow 1 graph computes it at inference.

Input (patches, 187 frames, 96 mel bands) of log-compressed mel power. Batch norm on the one-channel
input; front end: two timbral convolutions (204 filters of 7×38 and 7×67 over time×frequency, the input
zero-padded by 3 frames at each end, "valid") and three temporal ones (51 filters of 128×1, 64×1, 32×1,
"same": TensorFlow puts the odd extra frame of padding at the end), each ReLU, batch norm, max over
frequency; 561 channels per frame. Mid end: three 1-D convolutions over time (64 filters, kernel 7,
padding 3), each ReLU then batch norm, the second and third residual; with the front end, 753 channels.
Back end: max and mean over time, interleaved (max₀, mean₀, max₁, mean₁, …: 1506), batch norm, dense 200,
ReLU, batch norm (`penultimate`, the embedding), dense 50, sigmoid (the tags).

Batch norms use TensorFlow 1's epsilon (1e-3). Max over frequency after a batch norm with scale s is
s·max(ReLU(y)) + shift where s ≥ 0 and s·min(ReLU(y)) + shift where s < 0, and min(ReLU(y)) = ReLU(−max(−y)):
so the filters of negative s run negated (−w, −b give −y bit for bit) and one max over frequency serves
every channel, equal to normalising the whole map first at a fraction of the cost.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from indexer.models.musicnn.config import BN_EPS, EMBEDDING_DIM, N_MELS, TAGS

TIMBRAL = ((7, int(0.4 * N_MELS)), (7, int(0.7 * N_MELS)))  # 7×38, 7×67
TEMPORAL = (128, 64, 32)
FRONT_FILTERS = (int(1.6 * 128), int(1.6 * 32))  # 204 timbral, 51 temporal
MID_FILTERS = 64


def _norm(channels: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(channels, eps=BN_EPS)


def same_padding(kernel: int) -> tuple[int, int]:
    """TensorFlow's "same" padding along one axis: the odd frame goes at the end."""
    total = kernel - 1
    return total // 2, total - total // 2


class FrequencyMax(nn.Module):
    """ReLU(conv) → batch norm → max over frequency, as one convolution and one max (see the module)."""

    def __init__(self, filters: int, kernel: tuple[int, int], pad: tuple[int, int]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, filters, kernel)
        self.norm = _norm(filters)
        self.pad = pad  # frames of zeros before and after, in time

    def forward(self, x: Tensor) -> Tensor:  # (N, 1, T, F) -> (N, filters, T)
        norm = self.norm
        assert norm.running_var is not None and norm.running_mean is not None  # inference statistics, loaded
        assert self.conv.bias is not None
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        shift = norm.bias - norm.running_mean * scale
        sign = torch.where(scale >= 0, 1.0, -1.0).to(scale.dtype)
        y = F.conv2d(F.pad(x, (0, 0, *self.pad)), self.conv.weight * sign[:, None, None, None], self.conv.bias * sign)
        top = y.amax(dim=3)  # (N, filters, T): the max of y, or of −y for the filters run negated
        return torch.relu(top * sign[None, :, None]) * scale[None, :, None] + shift[None, :, None]


class MusiCNN(nn.Module):
    def __init__(self, tags: int = TAGS) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1, eps=BN_EPS)
        timbral, temporal = FRONT_FILTERS
        self.front = nn.ModuleList(
            [FrequencyMax(timbral, k, (3, 3)) for k in TIMBRAL]
            + [FrequencyMax(temporal, (k, 1), same_padding(k)) for k in TEMPORAL]
        )
        front = 2 * timbral + len(TEMPORAL) * temporal  # 561
        self.mid = nn.ModuleList([nn.Conv1d(c, MID_FILTERS, 7, padding=3) for c in (front, MID_FILTERS, MID_FILTERS)])
        self.mid_norms = nn.ModuleList([_norm(MID_FILTERS) for _ in range(3)])
        pooled = 2 * (front + 3 * MID_FILTERS)  # 1506
        self.pool_norm = _norm(pooled)
        self.dense = nn.Linear(pooled, EMBEDDING_DIM)
        self.dense_norm = _norm(EMBEDDING_DIM)
        self.tagger = nn.Linear(EMBEDDING_DIM, tags)

    def forward(self, mel: Tensor) -> tuple[Tensor, Tensor]:
        """(penultimate (N, 200), tag probabilities (N, tags)) of (N, 187, 96) log-mel patches."""
        x = self.input_norm(mel[:, None])
        front = torch.cat([block(x) for block in self.front], dim=1)  # (N, 561, T)
        features, h = [front], front
        for i, (conv, norm) in enumerate(zip(self.mid, self.mid_norms, strict=True)):
            out = norm(torch.relu(conv(h)))
            h = out if i == 0 else out + h
            features.append(h)
        stacked = torch.cat(features, dim=1)  # (N, 753, T)
        pooled = torch.stack([stacked.amax(dim=2), stacked.mean(dim=2)], dim=2).flatten(1)  # interleaved
        penultimate = self.dense_norm(torch.relu(self.dense(self.pool_norm(pooled))))
        return penultimate, torch.sigmoid(self.tagger(penultimate))
