"""Pure-PyTorch StyleGAN2 building blocks ("clean" design: no compiled/fused ops).

Parameter names and storage follow GFPGAN's clean generator so its checkpoints load unchanged:
weights are stored already scaled (no equalized-lr multiplier at run time), ``StyleConv`` keeps
its bias as ``(1, C, 1, 1)`` next to the noise strength ``weight``.

Up-sampling comes in two flavours, neither of which adds state-dict keys:

- ``'bilinear'`` (default): bilinear x2 then a 3x3 conv, as GFPGAN's clean generator.
- ``'fir'``: transposed conv + [1, 3, 3, 1] FIR blur, as the original StyleGAN2 (and BasicSR's
  ``StyleGAN2Generator``, the layout of ``StyleGAN2_512_Cmul1_FFHQ_B12G4_scratch_800k.pth``); with
  converted weights it reproduces that generator exactly.

Example::

    >>> conv = StyleConv(8, 16, 3, num_style_feat=32, sample_mode='upsample')
    >>> conv(torch.randn(2, 8, 4, 4), torch.randn(2, 32)).shape
    torch.Size([2, 16, 8, 8])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

RESAMPLE_MODES = ("bilinear", "fir")
SQRT2 = 2**0.5


class ArchConfigError(ValueError):
    """An architecture built with kwargs it cannot honour, or fed an input it cannot take."""


def stylegan2_channels(channel_multiplier: float = 2, narrow: float = 1) -> dict[int, int]:
    """Channels per resolution of a StyleGAN2 generator (StyleGAN2 / GFPGAN table).

    >>> stylegan2_channels(1, 1)[512]
    32
    """
    base = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * channel_multiplier,
            128: 128 * channel_multiplier, 256: 64 * channel_multiplier,
            512: 32 * channel_multiplier, 1024: 16 * channel_multiplier}
    return {res: int(ch * narrow) for res, ch in base.items()}


def check_out_size(out_size: int, allowed: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)) -> int:
    """Return log2(out_size), or raise ArchConfigError when it is not an allowed power of two."""
    if not isinstance(out_size, int) or out_size not in allowed:
        raise ArchConfigError(f"out_size must be one of {allowed}, got {out_size!r}")
    return int(math.log2(out_size))


def fir_kernel(taps: tuple[int, ...] = (1, 3, 3, 1)) -> Tensor:
    """Normalised separable 2D FIR kernel (outer product of ``taps``)."""
    k = torch.tensor(taps, dtype=torch.float32)
    k = k[None, :] * k[:, None]
    return k / k.sum()


def upfirdn2d(x: Tensor, kernel: Tensor, up: int = 1, pad: tuple[int, int] = (0, 0)) -> Tensor:
    """Zero-insert up-sampling by ``up``, pad (before, after) on both axes, FIR filter.

    Pure-PyTorch equivalent of StyleGAN2's ``upfirdn2d`` with ``down=1``.
    """
    b, c, h, w = x.shape
    if up > 1:
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, (0, up - 1, 0, 0, 0, up - 1))
        x = x.reshape(b, c, h * up, w * up)
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    weight = torch.flip(kernel, [0, 1]).to(x)[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(x, weight, groups=c)


class NormStyleCode(nn.Module):
    """Pixel-norm of style codes: x / sqrt(mean(x^2) + 1e-8) over the feature dim."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(torch.mean(x**2, dim=1, keepdim=True) + 1e-8)


class ModulatedConv2d(nn.Module):
    """Style-modulated (and optionally demodulated) conv without bias.

    Keys: ``weight`` (1, out, in, k, k), ``modulation.weight`` (in, style), ``modulation.bias``.
    ``sample_mode`` is None or ``'upsample'`` (x2, see the module docstring for ``resample``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, num_style_feat: int,
                 demodulate: bool = True, sample_mode: str | None = None,
                 resample: str = "bilinear", eps: float = 1e-8):
        super().__init__()
        if sample_mode not in (None, "upsample"):
            raise ArchConfigError(f"sample_mode must be None or 'upsample', got {sample_mode!r}")
        if resample not in RESAMPLE_MODES:
            raise ArchConfigError(f"resample must be one of {RESAMPLE_MODES}, got {resample!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.demodulate, self.eps = kernel_size, demodulate, eps
        self.sample_mode, self.resample = sample_mode, resample
        self.padding = kernel_size // 2

        self.modulation = nn.Linear(num_style_feat, in_channels, bias=True)
        # std 1/sqrt(fan_in) and bias 1: the style starts as a near-identity channel scaling
        nn.init.normal_(self.modulation.weight, std=1 / math.sqrt(num_style_feat))
        nn.init.constant_(self.modulation.bias, 1.0)
        self.weight = nn.Parameter(
            torch.randn(1, out_channels, in_channels, kernel_size, kernel_size)
            / math.sqrt(in_channels * kernel_size**2))
        if sample_mode == "upsample" and resample == "fir":
            # blur after the stride-2 transposed conv; not persistent: no extra checkpoint key
            self.register_buffer("fir", fir_kernel() * 4, persistent=False)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        b, c, h, w = x.shape
        style = self.modulation(style).view(b, 1, c, 1, 1)
        weight = self.weight * style  # (b, out, in, k, k)
        if self.demodulate:
            demod = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + self.eps)
            weight = weight * demod.view(b, self.out_channels, 1, 1, 1)
        k = self.kernel_size

        if self.sample_mode == "upsample" and self.resample == "fir":
            # grouped transposed conv wants (b*in, out, k, k)
            weight = weight.transpose(1, 2).reshape(b * c, self.out_channels, k, k)
            out = F.conv_transpose2d(x.reshape(1, b * c, h, w), weight, stride=2, groups=b)
            out = out.view(b, self.out_channels, *out.shape[2:])
            pad = (self.fir.shape[0] - 2) - (k - 1)
            return upfirdn2d(out, self.fir, pad=((pad + 1) // 2 + 1, pad // 2 + 1))

        if self.sample_mode == "upsample":
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            h, w = x.shape[2:]
        weight = weight.reshape(b * self.out_channels, c, k, k)
        out = F.conv2d(x.reshape(1, b * c, h, w), weight, padding=self.padding, groups=b)
        return out.view(b, self.out_channels, *out.shape[2:])

    def extra_repr(self) -> str:
        return (f"in={self.in_channels}, out={self.out_channels}, k={self.kernel_size}, "
                f"demodulate={self.demodulate}, sample_mode={self.sample_mode}, resample={self.resample}")


class StyleConv(nn.Module):
    """Modulated conv -> x sqrt(2) -> + noise * ``weight`` -> + ``bias`` -> LeakyReLU(0.2)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, num_style_feat: int,
                 demodulate: bool = True, sample_mode: str | None = None, resample: str = "bilinear"):
        super().__init__()
        self.modulated_conv = ModulatedConv2d(in_channels, out_channels, kernel_size, num_style_feat,
                                              demodulate=demodulate, sample_mode=sample_mode,
                                              resample=resample)
        self.weight = nn.Parameter(torch.zeros(1))  # noise strength
        self.bias = nn.Parameter(torch.zeros(1, out_channels, 1, 1))

    def forward(self, x: Tensor, style: Tensor, noise: Tensor | None = None) -> Tensor:
        # sqrt(2) keeps the activation variance of StyleGAN2's scaled leaky ReLU
        out = self.modulated_conv(x, style) * SQRT2
        if noise is None:
            b, _, h, w = out.shape
            noise = out.new_empty(b, 1, h, w).normal_()
        out = out + self.weight * noise + self.bias
        return F.leaky_relu(out, 0.2)


class ToRGB(nn.Module):
    """1x1 modulated conv to RGB (no demodulation) + ``bias``, plus the up-sampled skip image."""

    def __init__(self, in_channels: int, num_style_feat: int, upsample: bool = True,
                 resample: str = "bilinear"):
        super().__init__()
        if resample not in RESAMPLE_MODES:
            raise ArchConfigError(f"resample must be one of {RESAMPLE_MODES}, got {resample!r}")
        self.upsample, self.resample = upsample, resample
        self.modulated_conv = ModulatedConv2d(in_channels, 3, 1, num_style_feat, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        if upsample and resample == "fir":
            self.register_buffer("fir", fir_kernel() * 4, persistent=False)

    def forward(self, x: Tensor, style: Tensor, skip: Tensor | None = None) -> Tensor:
        out = self.modulated_conv(x, style) + self.bias
        if skip is not None:
            if self.upsample and self.resample == "fir":
                skip = upfirdn2d(skip, self.fir, up=2, pad=(2, 1))
            elif self.upsample:
                skip = F.interpolate(skip, scale_factor=2, mode="bilinear", align_corners=False)
            out = out + skip
        return out


class ConstantInput(nn.Module):
    """The learned 4x4 constant the synthesis network starts from (key ``weight``)."""

    def __init__(self, num_channel: int, size: int = 4):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, num_channel, size, size))

    def forward(self, batch: int) -> Tensor:
        return self.weight.expand(batch, -1, -1, -1)


def style_mlp(num_style_feat: int, num_mlp: int) -> nn.Sequential:
    """Mapping network z -> w: PixelNorm, then ``num_mlp`` x (Linear, LeakyReLU(0.2)).

    Linear layers sit at odd indices (1, 3, 5, ...), which is the clean checkpoint layout.
    """
    layers: list[nn.Module] = [NormStyleCode()]
    for _ in range(num_mlp):
        linear = nn.Linear(num_style_feat, num_style_feat, bias=True)
        nn.init.kaiming_normal_(linear.weight, a=0.2, mode="fan_in", nonlinearity="leaky_relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers)
