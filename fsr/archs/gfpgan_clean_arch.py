"""GFPGAN v1 "clean" (U-Net encoder + SFT-modulated StyleGAN2 decoder), pure PyTorch.

State-dict compatible with GFPGAN's ``gfpganv1_clean_arch.py`` and so with the official
``GFPGANv1.3.pth`` / ``GFPGANv1.4.pth`` (``params_ema``), built with the official inference kwargs
(the defaults here). The key table is pinned by ``tests/archs/data/gfpganv1_clean_512_c2_keys.json``.

Images are RGB normalised to [-1, 1] (GFPGAN's mean 0.5 / std 0.5), at ``out_size``.

Example::

    >>> from fsr.archs.checkpoint import load_checkpoint
    >>> net = GFPGANv1Clean()                        # v1.3 / v1.4 layout, 512x512
    >>> load_checkpoint(net, 'GFPGANv1.4.pth')       # doctest: +SKIP
    >>> restored, rgbs = net(lq * 2 - 1, return_rgb=False)  # doctest: +SKIP
"""

from __future__ import annotations

import os

from basicsr.utils.registry import ARCH_REGISTRY
from torch import Tensor, nn
from torch.nn import functional as F

from fsr.archs.stylegan2_blocks import ArchConfigError, check_out_size, stylegan2_channels
from fsr.archs.stylegan2_clean_arch import StyleGAN2GeneratorCSFT, load_stylegan2_clean

__all__ = ["GFPGANv1Clean", "ResampleResBlock", "check_image_batch"]


def check_image_batch(x: Tensor, size: int, name: str = "input") -> None:
    """Raise ArchConfigError unless ``x`` is a float (b, 3, size, size) tensor."""
    if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] != 3 or not x.is_floating_point():
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ArchConfigError(f"{name} must be a float (b, 3, {size}, {size}) tensor, got {got}")
    if tuple(x.shape[2:]) != (size, size):
        raise ArchConfigError(f"{name} must be {size}x{size}, got {x.shape[2]}x{x.shape[3]}")


class ResampleResBlock(nn.Module):
    """Residual block that halves (``'down'``) or doubles (``'up'``) the resolution bilinearly.

    Keys ``conv1`` (3x3, in->in), ``conv2`` (3x3, in->out), ``skip`` (1x1, no bias): GFPGAN's
    ``ResBlock`` layout.
    """

    def __init__(self, in_channels: int, out_channels: int, mode: str = "down"):
        super().__init__()
        if mode not in ("down", "up"):
            raise ArchConfigError(f"mode must be 'down' or 'up', got {mode!r}")
        self.scale_factor = 0.5 if mode == "down" else 2.0
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        out = F.leaky_relu(self.conv1(x), 0.2)
        out = F.interpolate(out, scale_factor=self.scale_factor, mode="bilinear", align_corners=False)
        out = F.leaky_relu(self.conv2(out), 0.2)
        x = F.interpolate(x, scale_factor=self.scale_factor, mode="bilinear", align_corners=False)
        return out + self.skip(x)


def sft_head(channels: int, out_channels: int) -> nn.Sequential:
    """conv3x3 -> LeakyReLU(0.2) -> conv3x3: one scale or shift map (keys ``0``, ``2``)."""
    return nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), nn.LeakyReLU(0.2),
                         nn.Conv2d(channels, out_channels, 3, 1, 1))


@ARCH_REGISTRY.register()
class GFPGANv1Clean(nn.Module):
    """GFPGAN v1 clean: U-Net -> (w+ codes, multi-scale SFT conditions) -> StyleGAN2 decoder.

    Args (defaults = official v1.3/v1.4 inference):
        out_size: 512. num_style_feat: 512. channel_multiplier: 2.
        decoder_load_path: clean or BasicSR-layout StyleGAN2 checkpoint for the decoder, or None.
        fix_decoder: freeze the decoder (False). num_mlp: 8.
        input_is_latent: encoder codes are w, not z (True).
        different_w: one code per decoder layer, w+ (True).
        narrow: width multiplier of decoder and U-Net (the U-Net is always half as wide) (1).
        sft_half: modulate half of the decoder channels (True).

    >>> import torch
    >>> net = GFPGANv1Clean(out_size=64, num_style_feat=32, num_mlp=2, narrow=0.125)
    >>> net(torch.rand(1, 3, 64, 64) * 2 - 1)[0].shape
    torch.Size([1, 3, 64, 64])
    """

    def __init__(self, out_size: int = 512, num_style_feat: int = 512, channel_multiplier: float = 2,
                 decoder_load_path: str | os.PathLike | None = None, fix_decoder: bool = False,
                 num_mlp: int = 8, input_is_latent: bool = True, different_w: bool = True,
                 narrow: float = 1, sft_half: bool = True):
        super().__init__()
        self.log_size = check_out_size(out_size)
        self.out_size = out_size
        self.input_is_latent, self.different_w = input_is_latent, different_w
        self.num_style_feat = num_style_feat

        # the decoder first: it validates narrow / channel_multiplier
        self.stylegan_decoder = StyleGAN2GeneratorCSFT(
            out_size, num_style_feat=num_style_feat, num_mlp=num_mlp,
            channel_multiplier=channel_multiplier, narrow=narrow, sft_half=sft_half)
        # the U-Net is half as wide as the decoder (GFPGAN's choice): with sft_half its
        # conditions match the modulated half of the decoder channels one to one
        ch = stylegan2_channels(channel_multiplier, narrow * 0.5)
        if min(ch[2**i] for i in range(2, self.log_size + 1)) < 1:
            raise ArchConfigError(f"narrow={narrow} leaves the U-Net with no channels: {ch}")

        self.conv_body_first = nn.Conv2d(3, ch[out_size], 1)
        self.conv_body_down = nn.ModuleList()
        in_ch = ch[out_size]
        for i in range(self.log_size, 2, -1):
            self.conv_body_down.append(ResampleResBlock(in_ch, ch[2 ** (i - 1)], "down"))
            in_ch = ch[2 ** (i - 1)]
        self.final_conv = nn.Conv2d(in_ch, ch[4], 3, 1, 1)

        self.conv_body_up = nn.ModuleList()
        self.toRGB = nn.ModuleList()
        self.condition_scale = nn.ModuleList()
        self.condition_shift = nn.ModuleList()
        in_ch = ch[4]
        for i in range(3, self.log_size + 1):
            out_ch = ch[2**i]
            self.conv_body_up.append(ResampleResBlock(in_ch, out_ch, "up"))
            sft_ch = out_ch if sft_half else out_ch * 2
            self.condition_scale.append(sft_head(out_ch, sft_ch))
            self.condition_shift.append(sft_head(out_ch, sft_ch))
            self.toRGB.append(nn.Conv2d(out_ch, 3, 1))
            in_ch = out_ch

        num_codes = self.stylegan_decoder.num_latent if different_w else 1
        self.final_linear = nn.Linear(ch[4] * 4 * 4, num_codes * num_style_feat)

        if decoder_load_path:
            load_stylegan2_clean(self.stylegan_decoder, decoder_load_path, strict=True)
        if fix_decoder:
            self.stylegan_decoder.requires_grad_(False)

    def forward(self, x: Tensor, return_latents: bool = False, return_rgb: bool = True,
                randomize_noise: bool = True) -> tuple[Tensor, list[Tensor]]:
        """Restore ``x`` ((b, 3, out_size, out_size) in [-1, 1]).

        Returns ``(image, out_rgbs)``: ``out_rgbs`` are the U-Net's 1x1 RGB projections at
        8, 16, ..., out_size (used for pyramid losses), empty when ``return_rgb=False``.
        ``return_latents`` is accepted for GFPGAN compatibility and, as there, has no effect.
        """
        check_image_batch(x, self.out_size)
        feat = F.leaky_relu(self.conv_body_first(x), 0.2)
        skips = []
        for down in self.conv_body_down:
            feat = down(feat)
            skips.insert(0, feat)
        feat = F.leaky_relu(self.final_conv(feat), 0.2)

        codes = self.final_linear(feat.flatten(1))
        if self.different_w:
            codes = codes.view(codes.size(0), -1, self.num_style_feat)

        conditions, out_rgbs = [], []
        for i, up in enumerate(self.conv_body_up):
            feat = up(feat + skips[i])
            conditions += [self.condition_scale[i](feat), self.condition_shift[i](feat)]
            if return_rgb:
                out_rgbs.append(self.toRGB[i](feat))

        image, _ = self.stylegan_decoder([codes], conditions, input_is_latent=self.input_is_latent,
                                         randomize_noise=randomize_noise)
        return image, out_rgbs

