"""Building blocks of SAM3D: SFT layers, RCAN groups and the DANet dual-attention head.

Attribute names follow the authors' released ``SFT_rcan.py`` exactly (``SFT_scale_conv0``,
``conv_du``, ``conv5a``, ``sa``/``sc``, ...) because they are the keys of their checkpoints.

Example::

    >>> import torch
    >>> sft = SFTLayer(n_feats=64, cond_channels=32)
    >>> sft(torch.rand(1, 64, 8, 8), torch.rand(1, 32, 8, 8)).shape
    torch.Size([1, 64, 8, 8])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def conv3x3(in_channels: int, out_channels: int, bias: bool = True) -> nn.Conv2d:
    """3x3 convolution that keeps the spatial size."""
    return nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias)


class ChannelAttention(nn.Module):
    """RCAN channel attention: x * sigmoid(MLP(global average of x)), MLP as 1x1 convs."""

    def __init__(self, channels: int = 64, reduction: int = 16) -> None:
        super().__init__()
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels // reduction, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x * self.conv_du(F.adaptive_avg_pool2d(x, 1))


class SFTLayer(nn.Module):
    """Spatial feature transform: x * scale(cond) + shift(cond) (no "+1" on the scale)."""

    def __init__(self, n_feats: int = 64, cond_channels: int = 32) -> None:
        super().__init__()
        self.SFT_scale_conv0 = nn.Conv2d(cond_channels, cond_channels, 1)
        self.SFT_scale_conv1 = nn.Conv2d(cond_channels, n_feats, 1)
        self.SFT_shift_conv0 = nn.Conv2d(cond_channels, cond_channels, 1)
        self.SFT_shift_conv1 = nn.Conv2d(cond_channels, n_feats, 1)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        scale = self.SFT_scale_conv1(F.leaky_relu(self.SFT_scale_conv0(cond), 0.01))
        shift = self.SFT_shift_conv1(F.leaky_relu(self.SFT_shift_conv0(cond), 0.01))
        return x * scale + shift


class SFTResBlock(nn.Module):
    """x + conv(ReLU(SFT(CA(ReLU(SFT(x, c))), c))): the paper's spatial attention block."""

    def __init__(self, n_feats: int = 64, cond_channels: int = 32, reduction: int = 16) -> None:
        super().__init__()
        self.sft0 = SFTLayer(n_feats, cond_channels)
        self.conv0 = ChannelAttention(n_feats, reduction)  # named conv0 in the checkpoints
        self.sft1 = SFTLayer(n_feats, cond_channels)
        self.conv1 = conv3x3(n_feats, n_feats)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        h = F.relu(self.sft0(x, cond))
        h = self.conv0(h)
        h = F.relu(self.sft1(h, cond))
        return x + self.conv1(h)


class RCAB(nn.Module):
    """Residual channel attention block: x + CA(conv(ReLU(conv(x))))."""

    def __init__(self, n_feats: int = 64, reduction: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv3x3(n_feats, n_feats),
            nn.ReLU(inplace=True),
            conv3x3(n_feats, n_feats),
            ChannelAttention(n_feats, reduction),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResidualGroup(nn.Module):
    """RCAN residual group: ``n_blocks`` RCABs then a 3x3 conv, with a group skip."""

    def __init__(self, n_feats: int = 64, reduction: int = 16, n_blocks: int = 20) -> None:
        super().__init__()
        blocks: list[nn.Module] = [RCAB(n_feats, reduction) for _ in range(n_blocks)]
        self.body = nn.Sequential(*blocks, conv3x3(n_feats, n_feats))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class PositionAttention(nn.Module):
    """DANet position attention (SAGAN style): gamma * V softmax(Q^T K)^T + x; gamma starts at 0."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.query_conv = nn.Conv2d(channels, channels // 8, 1)
        self.key_conv = nn.Conv2d(channels, channels // 8, 1)
        self.value_conv = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        query = self.query_conv(x).flatten(2).transpose(1, 2)  # (N, HW, C/8)
        key = self.key_conv(x).flatten(2)  # (N, C/8, HW)
        attention = torch.softmax(torch.bmm(query, key), dim=-1)  # (N, HW, HW), rows = queries
        value = self.value_conv(x).flatten(2)  # (N, C, HW)
        out = torch.bmm(value, attention.transpose(1, 2)).view(n, c, h, w)
        return self.gamma * out + x


class ChannelSelfAttention(nn.Module):
    """DANet channel attention: gamma * softmax(max(E) - E) X + x with E = X X^T; gamma starts at 0."""

    def __init__(self) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        flat = x.reshape(n, c, -1)
        energy = torch.bmm(flat, flat.transpose(1, 2))  # (N, C, C)
        # DANet's form: subtracting from the row max favours dissimilar channels
        energy = energy.max(dim=-1, keepdim=True)[0].expand_as(energy) - energy
        out = torch.bmm(torch.softmax(energy, dim=-1), flat).view(n, c, h, w)
        return self.gamma * out + x


class TolerantBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d that loads state dicts lacking ``num_batches_tracked`` (old torch) under strict=True.

    torch fills the key only when the state dict carries no version metadata; this also covers
    dicts whose metadata says version 2 but whose counter was dropped. The counter only matters
    for ``momentum=None``, so 0 is a safe value.
    """

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        if self.track_running_stats and prefix + "num_batches_tracked" not in state_dict:
            state_dict[prefix + "num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


def _conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        conv3x3(in_channels, out_channels, bias=False),
        TolerantBatchNorm2d(out_channels),
        nn.ReLU(),
    )


def _dropout_conv1x1(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Dropout2d(0.1), nn.Conv2d(in_channels, out_channels, 1))


class DualAttentionHead(nn.Module):
    """DANet head: position- and channel-attention branches summed, then dropout + 1x1 conv.

    ``conv6``/``conv7`` (per-branch outputs, DANet's auxiliary heads) are kept because the
    authors' checkpoints hold them, but SAM3D's forward never uses them.
    """

    def __init__(self, in_channels: int = 512, out_channels: int = 64) -> None:
        super().__init__()
        inter = in_channels // 4
        self.conv5a = _conv_bn_relu(in_channels, inter)
        self.conv5c = _conv_bn_relu(in_channels, inter)
        self.sa = PositionAttention(inter)
        self.sc = ChannelSelfAttention()
        self.conv51 = _conv_bn_relu(inter, inter)
        self.conv52 = _conv_bn_relu(inter, inter)
        self.conv6 = _dropout_conv1x1(inter, out_channels)  # unused
        self.conv7 = _dropout_conv1x1(inter, out_channels)  # unused
        self.conv8 = _dropout_conv1x1(inter, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        position = self.conv51(self.sa(self.conv5a(x)))
        channel = self.conv52(self.sc(self.conv5c(x)))
        return self.conv8(position + channel)
