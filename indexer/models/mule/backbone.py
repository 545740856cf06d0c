"""SF-NFNet-F0, MULE's backbone: (B, 1, 96, 300) normalised log-mel slices -> (B, 1728).

Module paths mirror the published checkpoint's key layout (e.g.
`backbone.slow_stages.2.blocks.1.convs.3`), so a key names its module directly.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from indexer.models.mule.config import STAGE_DEPTHS, STAGE_FREQ_DOWNSAMPLE, MuleConfig
from indexer.models.mule.layers import SameConv2d, SqueezeExcite, tf_same_avg_pool


def _act(x: Tensor, kind: str) -> Tensor:
    # The scaled activation's gain is folded into the next conv's kernel.
    return F.gelu(x) if kind == "gelu" else F.relu(x)


class Stem(nn.Module):
    def __init__(
        self, channels: Sequence[int], kernels: Sequence[tuple[int, int]], strides: Sequence[tuple[int, int]], act: str
    ) -> None:
        super().__init__()
        cins = (1,) + tuple(channels[:-1])
        self.convs = nn.ModuleList(
            SameConv2d(i, o, k, s) for i, o, k, s in zip(cins, channels, kernels, strides, strict=False)
        )
        self.act = act

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs[:-1]:
            x = _act(conv(x), self.act)
        return self.convs[-1](x)


class Block(nn.Module):
    """NFNet bottleneck: 1x1 -> 1x3 (grouped, freq-strided) -> 3x1 (grouped) -> 1x1, squeeze-excite,
    residual scaled by alpha · skip_gain; transition blocks project the skip path."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernels: Sequence[tuple[int, int]],
        freq_down: int,
        group_size: int,
        transition: bool,
        act: str,
    ) -> None:
        super().__init__()
        mid = cout // 2
        groups = mid // group_size
        self.convs = nn.ModuleList(
            [
                SameConv2d(cin, mid, kernels[0]),
                SameConv2d(mid, mid, kernels[1], (freq_down, 1), groups),
                SameConv2d(mid, mid, kernels[2], (1, 1), groups),
                SameConv2d(mid, cout, kernels[3]),
            ]
        )
        self.se = SqueezeExcite(cout)
        self.freq_down = freq_down
        self.skip_conv = SameConv2d(cin, cout, (1, 1)) if transition else None
        self.act = act

    def forward(self, x: Tensor) -> Tensor:
        activated = _act(x, self.act)
        if self.skip_conv is None:
            skip = x
        else:
            pooled = tf_same_avg_pool(activated, self.freq_down) if self.freq_down > 1 else activated
            skip = self.skip_conv(pooled)
        r = activated
        for conv in self.convs[:-1]:
            r = _act(conv(r), self.act)
        r = self.convs[-1](r)
        return torch.addcmul(skip, r, self.se.gate(r))


class Stage(nn.Module):
    def __init__(
        self,
        cin: int,
        cout: int,
        depth: int,
        kernels: Sequence[tuple[int, int]],
        freq_down: int,
        group_size: int,
        act: str,
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            Block(cin if i == 0 else cout, cout, kernels, freq_down if i == 0 else 1, group_size, i == 0, act)
            for i in range(depth)
        )

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return x


class Fusion(nn.Module):
    """Fast path -> time-strided 1xK conv -> 1x1 expansion, concatenated onto the slow path."""

    def __init__(self, fast_channels: int, mid: int, out: int, time_kernel: int, time_stride: int):
        super().__init__()
        self.conv1 = SameConv2d(fast_channels, mid, (1, time_kernel), (1, time_stride))
        self.conv2 = SameConv2d(mid, out, (1, 1))

    def forward(self, slow: Tensor, fast: Tensor) -> Tensor:
        return torch.cat([slow, self.conv2(self.conv1(fast))], dim=1)


class MuleBackbone(nn.Module):
    def __init__(self, cfg: MuleConfig):
        super().__init__()
        act = cfg.scaled_activation
        self.act = act
        self.slow_stem = Stem(cfg.slow_stem_channels, cfg.slow_stem_kernels, cfg.slow_stem_strides, act)
        self.fast_stem = Stem(cfg.fast_stem_channels, cfg.fast_stem_kernels, cfg.fast_stem_strides, act)
        fast_into_fusion = (cfg.fast_stem_channels[-1],) + tuple(cfg.fast_stage_out[:-1])
        self.fusions = nn.ModuleList(
            Fusion(f, m, o, cfg.fusion_time_kernel, cfg.fusion_time_stride)
            for f, m, o in zip(fast_into_fusion, cfg.fusion_input_channels, cfg.fusion_output_channels, strict=False)
        )
        self.slow_stages = nn.ModuleList(
            Stage(i, o, d, cfg.block_kernels, fd, cfg.slow_group_size, act)
            for i, o, d, fd in zip(
                cfg.slow_stage_in, cfg.slow_stage_out, STAGE_DEPTHS, STAGE_FREQ_DOWNSAMPLE, strict=False
            )
        )
        self.fast_stages = nn.ModuleList(
            Stage(i, o, d, cfg.block_kernels, fd, cfg.fast_group_size, act)
            for i, o, d, fd in zip(
                cfg.fast_stage_in, cfg.fast_stage_out, STAGE_DEPTHS, STAGE_FREQ_DOWNSAMPLE, strict=False
            )
        )
        self.output_gain = cfg.activation_gain
        self.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        slow = self.slow_stem(x)
        fast = self.fast_stem(x)
        for fusion, slow_stage, fast_stage in zip(self.fusions, self.slow_stages, self.fast_stages, strict=False):
            slow = slow_stage(fusion(slow, fast))
            fast = fast_stage(fast)
        pooled = torch.cat([slow.mean(dim=(2, 3)), fast.mean(dim=(2, 3))], dim=1)
        return _act(pooled, self.act) * self.output_gain
