"""A pure-PyTorch StyleGAN2-style discriminator (no fused ops), for adversarial training.

The design of StyleGAN2's (and GFPGAN's) discriminator: a 1x1 from-RGB conv, residual blocks
that blur ([1, 3, 3, 1] FIR) and halve the resolution down to 4x4, a minibatch-stddev feature,
a 3x3 conv and two linear layers to one logit. Plain convolutions with default init (no
equalized learning rate) and no compiled ops, so it trains on CPU. Channel widths follow the
StyleGAN2 table scaled by ``narrow`` (0.125 at 128 px: 16..64 channels, ~0.4 M parameters).

    >>> d = StyleGAN2DiscriminatorClean(out_size=128, narrow=0.125)
    >>> d(torch.randn(2, 3, 128, 128)).shape
    torch.Size([2, 1])

Inputs are RGB in [-1, 1] (the generator's range).
"""

from __future__ import annotations

import math

import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import Tensor, nn
from torch.nn import functional as F

from fsr.archs.gfpgan_clean_arch import check_image_batch
from fsr.archs.stylegan2_blocks import (
    ArchConfigError,
    check_out_size,
    fir_kernel,
    stylegan2_channels,
    upfirdn2d,
)

__all__ = ["DownResBlock", "StyleGAN2DiscriminatorClean"]


class DownResBlock(nn.Module):
    """conv3x3 -> blur -> conv3x3 stride 2, plus a blurred 1x1 stride-2 skip; sum / sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(in_channels, out_channels, 3, 2, 0)
        self.skip = nn.Conv2d(in_channels, out_channels, 1, 2, 0, bias=False)
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        out = F.leaky_relu(self.conv1(x), 0.2)
        # pads as StyleGAN2: (kernel - stride) + (conv k - 1) split over both sides
        out = F.leaky_relu(self.conv2(upfirdn2d(out, self.fir, pad=(2, 2))), 0.2)
        skip = self.skip(upfirdn2d(x, self.fir, pad=(1, 1)))
        return (out + skip) / math.sqrt(2)


@ARCH_REGISTRY.register()
class StyleGAN2DiscriminatorClean(nn.Module):
    """StyleGAN2-style discriminator for ``out_size`` x ``out_size`` RGB images in [-1, 1].

    Args:
        out_size: input side (16..1024, a power of two).
        channel_multiplier, narrow: StyleGAN2 channel table settings.
        stddev_group: minibatch-stddev group size (batches not divisible use the whole batch).
    """

    def __init__(self, out_size: int = 128, channel_multiplier: float = 1, narrow: float = 1,
                 stddev_group: int = 4) -> None:
        super().__init__()
        log_size = check_out_size(out_size)
        ch = stylegan2_channels(channel_multiplier, narrow)
        if min(ch[2**i] for i in range(2, log_size + 1)) < 1:
            raise ArchConfigError(f"narrow={narrow} leaves the discriminator with no channels")
        self.out_size, self.stddev_group = out_size, stddev_group
        self.from_rgb = nn.Conv2d(3, ch[out_size], 1)
        self.blocks = nn.Sequential(*[DownResBlock(ch[2**i], ch[2**(i - 1)])
                                      for i in range(log_size, 2, -1)])
        self.final_conv = nn.Conv2d(ch[4] + 1, ch[4], 3, 1, 1)
        self.final_linear = nn.Sequential(nn.Linear(ch[4] * 16, ch[4]), nn.LeakyReLU(0.2),
                                          nn.Linear(ch[4], 1))

    def forward(self, x: Tensor) -> Tensor:
        check_image_batch(x, self.out_size)
        out = self.blocks(F.leaky_relu(self.from_rgb(x), 0.2))
        b, c, h, w = out.shape
        group = min(b, self.stddev_group) if b % min(b, self.stddev_group) == 0 else b
        # std of each feature over the group, averaged to one extra map (StyleGAN2)
        stats = out.view(group, -1, c, h, w)
        stats = torch.sqrt(stats.var(0, unbiased=False) + 1e-8).mean(dim=(1, 2, 3))
        stats = stats.view(-1, 1, 1, 1).repeat(group, 1, h, w)
        out = F.leaky_relu(self.final_conv(torch.cat([out, stats], 1)), 0.2)
        return self.final_linear(out.flatten(1))
