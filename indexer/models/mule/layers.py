"""Inference-only building blocks of SF-NFNet-F0.

Convolutions hold plain (already standardised) kernels as buffers: weight
standardisation, the scaled activation's gain and each block's beta are folded
into the kernels once at load time (see `backbone.MuleBackbone.load_checkpoint`),
so a forward pass is just conv -> GELU -> conv ...
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'SAME' padding (before, after) for one axis: extra padding goes after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Module):
    """Conv2d with TensorFlow 'SAME' padding and fixed weights (buffers, no autograd)."""

    weight: Tensor
    bias: Tensor

    def __init__(self, cin: int, cout: int, kernel: tuple[int, int], stride: tuple[int, int] = (1, 1), groups: int = 1):
        super().__init__()
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        self.groups = groups
        self.register_buffer("weight", torch.empty(cout, cin // groups, *kernel))
        self.register_buffer("bias", torch.zeros(cout))

    def forward(self, x: Tensor) -> Tensor:
        (top, bottom) = same_padding(x.shape[-2], self.kernel[0], self.stride[0])
        (left, right) = same_padding(x.shape[-1], self.kernel[1], self.stride[1])
        if top == bottom and left == right:  # symmetric: let the conv pad, no copy
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left), 1, self.groups)
        x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


def standardise_kernel(kernel: Tensor, gain: Tensor, eps: float) -> Tensor:
    """Weight standardisation of a raw (out, in/g, kh, kw) kernel, per output channel,
    with the population variance scaled by fan-in and floored at `eps`, times `gain`."""
    k = kernel.double()
    mean = k.mean(dim=(1, 2, 3), keepdim=True)
    var = k.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
    fan_in = k[0].numel()
    scale = torch.rsqrt(torch.clamp(var * fan_in, min=eps)) * gain.double().view(-1, 1, 1, 1)
    return ((k - mean) * scale).float()


def tf_same_avg_pool(x: Tensor, factor: int) -> Tensor:
    """Average pooling over frequency by `factor` with TF 'SAME' semantics
    (padded cells are not counted)."""
    top, bottom = same_padding(x.shape[-2], factor, factor)
    if top == bottom == 0:
        return F.avg_pool2d(x, (factor, 1), (factor, 1))
    padded = F.pad(x, (0, 0, top, bottom))
    ones = F.pad(torch.ones_like(x[:1, :1]), (0, 0, top, bottom))
    return F.avg_pool2d(padded, (factor, 1), (factor, 1)) / F.avg_pool2d(ones, (factor, 1), (factor, 1))


class SqueezeExcite(nn.Module):
    """Channel gate 2·sigmoid(fc2(relu(fc1(mean)))), here pre-multiplied by the block's
    residual scale (alpha · skip_gain) so the block's tail is one fused multiply-add."""

    scale: Tensor  # a buffer

    def __init__(self, channels: int):
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // 2)
        self.fc2 = nn.Linear(channels // 2, channels)
        self.fc1.requires_grad_(False)
        self.fc2.requires_grad_(False)
        self.register_buffer("scale", torch.ones(()))

    def gate(self, x: Tensor) -> Tensor:
        squeezed = x.mean(dim=(2, 3))
        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(squeezed))))
        return (g * self.scale)[:, :, None, None]
