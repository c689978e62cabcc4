"""AdaFace's IR-50 face-recognition backbone (Kim et al., "AdaFace: Quality Adaptive Margin for
Face Recognition", CVPR 2022), the network the NTIRE 2025 Real-World Face Restoration challenge
scores identity with (``adaface_ir50_ms1mv2.ckpt``).

The "IR" (improved residual) ResNet of ArcFace/InsightFace at 112x112: a 3x3 stem, four stages of
pre-activation basic units (BN, 3x3 conv, BN, PReLU, strided 3x3 conv, BN; identity or 1x1
projection shortcut) with 3, 4, 14 and 3 units for 50 layers, then BN, dropout, a 512x7x7 ->
512 linear and a non-affine BN. ``forward`` returns the L2-normalised embedding and its norm,
as AdaFace does (the norm is the feature-quality proxy). Parameter names follow AdaFace's
``net.Backbone`` so its checkpoints load as they are (``input_layer``, ``body.<i>.res_layer``,
``body.<i>.shortcut_layer``, ``output_layer``).

    >>> net = AdaFaceIR(num_layers=18).eval()
    >>> emb, norm = net(torch.zeros(1, 3, 112, 112))
    >>> tuple(emb.shape), tuple(norm.shape)
    ((1, 512), (1, 1))
"""

from __future__ import annotations

import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import Tensor, nn

# units per stage (channels 64, 128, 256, 512; the first unit of each stage strides by 2)
STAGE_UNITS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 14, 3), 100: (3, 13, 30, 3)}
STAGE_CHANNELS = (64, 128, 256, 512)
EMBEDDING_SIZE = 512


class IRUnit(nn.Module):
    """One pre-activation residual unit; the stride sits on the second 3x3 convolution."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        if in_ch == out_ch:  # a 1x1 max-pool with a stride is plain subsampling
            self.shortcut_layer = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_ch),
            nn.Conv2d(in_ch, out_ch, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.PReLU(out_ch),
            nn.Conv2d(out_ch, out_ch, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_ch))

    def forward(self, x: Tensor) -> Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


@ARCH_REGISTRY.register()
class AdaFaceIR(nn.Module):
    """IR-``num_layers`` (18, 34, 50, 100) for 112x112 BGR input in [-1, 1].

    Returns ``(embedding / |embedding|, |embedding|)``: ``(N, 512)`` and ``(N, 1)``.
    """

    def __init__(self, num_layers: int = 50) -> None:
        super().__init__()
        if num_layers not in STAGE_UNITS:
            raise ValueError(f"AdaFaceIR: num_layers must be one of {sorted(STAGE_UNITS)}, "
                             f"got {num_layers}")
        self.input_layer = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False),
                                         nn.BatchNorm2d(64), nn.PReLU(64))
        units, in_ch = [], 64
        for n, ch in zip(STAGE_UNITS[num_layers], STAGE_CHANNELS, strict=True):
            for i in range(n):
                units.append(IRUnit(in_ch, ch, 2 if i == 0 else 1))
                in_ch = ch
        self.body = nn.Sequential(*units)
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(512), nn.Dropout(0.4), nn.Flatten(),
            nn.Linear(512 * 7 * 7, EMBEDDING_SIZE), nn.BatchNorm1d(EMBEDDING_SIZE, affine=False))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.ndim != 4 or tuple(x.shape[1:]) != (3, 112, 112):
            raise ValueError(f"AdaFaceIR: expected (N, 3, 112, 112), got {tuple(x.shape)}")
        emb = self.output_layer(self.body(self.input_layer(x)))
        norm = torch.norm(emb, 2, 1, True)
        return emb / norm, norm


__all__ = ["AdaFaceIR", "IRUnit"]
