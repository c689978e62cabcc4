"""ArcFace ResNet with IR blocks, state-dict compatible with GFPGAN's ``ResNetArcFace``.

GFPGAN's identity network (``arcface_resnet18.pth``) is ``ResNetArcFace(block='IRBlock',
layers=(2, 2, 2, 2), use_se=False)``: input ``(N, 1, 128, 128)`` grey in [-1, 1], output a
512-D embedding (not normalised). Module names and shapes here follow that checkpoint:
``conv1, bn1, prelu, layer{1..4}.{i}.{bn0, conv1, bn1, prelu, conv2, bn2, downsample.{0,1},
se.fc.{0,1,2}}, bn4, fc5, bn5``.

    >>> net = ResNetArcFace().eval()
    >>> net(torch.zeros(2, 1, 128, 128)).shape
    torch.Size([2, 512])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)


class SEBlock(nn.Module):
    """Squeeze-and-excitation: channel gates from the global average (``fc.0``, ``fc.2``)."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction), nn.PReLU(),
                                nn.Linear(channels // reduction, channels), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        gate = self.fc(x.mean(dim=(2, 3)))
        return x * gate[:, :, None, None]


class IRBlock(nn.Module):
    """Improved residual block: BN -> conv -> BN -> PReLU -> conv(stride) -> BN (-> SE) + skip,
    then the block's PReLU (the same PReLU is applied twice, as in the original)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, use_se: bool = False) -> None:
        super().__init__()
        self.bn0 = nn.BatchNorm2d(c_in)
        self.conv1 = _conv3x3(c_in, c_in)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.prelu = nn.PReLU()
        self.conv2 = _conv3x3(c_in, c_out, stride)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(c_out))
        self.se = SEBlock(c_out) if use_se else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.prelu(self.bn1(self.conv1(self.bn0(x))))
        out = self.bn2(self.conv2(out))
        if self.se is not None:
            out = self.se(out)
        skip = x if self.downsample is None else self.downsample(x)
        return self.prelu(out + skip)


class ResNetArcFace(nn.Module):
    """ArcFace ResNet; ``layers=(2, 2, 2, 2)`` is GFPGAN's ResNet-18 variant."""

    def __init__(self, layers: tuple[int, ...] = (2, 2, 2, 2), use_se: bool = False,
                 input_size: int = 128, embedding_dim: int = 512) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.prelu = nn.PReLU()
        self.maxpool = nn.MaxPool2d(2, 2)
        widths, c_in = (64, 128, 256, 512), 64
        for i, (width, n) in enumerate(zip(widths, layers, strict=True)):
            blocks = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(IRBlock(c_in, width, stride, use_se))
                c_in = width
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.bn4 = nn.BatchNorm2d(512)
        self.dropout = nn.Dropout()
        side = input_size // 16  # maxpool + three stride-2 stages
        self.fc5 = nn.Linear(512 * side * side, embedding_dim)
        self.bn5 = nn.BatchNorm1d(embedding_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.prelu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(self.bn4(x))
        return self.bn5(self.fc5(torch.flatten(x, 1)))
