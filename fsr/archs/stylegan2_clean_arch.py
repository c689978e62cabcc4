"""StyleGAN2 generator, clean (pure PyTorch), state-dict compatible with GFPGAN's clean design.

``StyleGAN2GeneratorClean`` has exactly the keys and shapes of GFPGAN's
``gfpgan/archs/stylegan2_clean_arch.py`` generator (pinned by
``tests/archs/data/stylegan2_clean_512_c1_keys.json``), so clean checkpoints load with
``strict=True``. ``StyleGAN2GeneratorCSFT`` adds spatial feature transforms (SFT) between the two
convs of each resolution, as GFPGAN's decoder.

The public FFHQ prior ``StyleGAN2_512_Cmul1_FFHQ_B12G4_scratch_800k.pth`` is *not* in the clean
layout: it was saved from BasicSR's ``StyleGAN2Generator`` (equalized-lr weights, fused
leaky-ReLU bias ``*.activate.bias``, MLP linears at ``style_mlp.1..8``). :func:`load_stylegan2_clean`
detects that layout and converts it (same rules as GFPGAN's clean-conversion script); build the
generator with ``resample='fir'`` to reproduce the BasicSR generator exactly, or keep the default
``'bilinear'`` (GFPGAN clean behaviour, close but not identical images).

Example::

    >>> g = StyleGAN2GeneratorClean(out_size=512, num_style_feat=512, num_mlp=8, channel_multiplier=1)
    >>> path = 'StyleGAN2_512_Cmul1_FFHQ_B12G4_scratch_800k.pth'
    >>> report, layout = load_stylegan2_clean(g, path)  # doctest: +SKIP
    >>> layout  # doctest: +SKIP
    'basicsr'
    >>> g([torch.randn(1, 512)])[0].shape  # roughly in [-1, 1]
    torch.Size([1, 3, 512, 512])
"""

from __future__ import annotations

import math
import os
import random
import re
from collections.abc import Mapping, Sequence

import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import Tensor, nn

from fsr.archs.checkpoint import CheckpointError, LoadReport, load_checkpoint, read_state_dict
from fsr.archs.stylegan2_blocks import (
    SQRT2,
    ArchConfigError,
    ConstantInput,
    StyleConv,
    ToRGB,
    check_out_size,
    style_mlp,
    stylegan2_channels,
)

__all__ = ["StyleGAN2GeneratorClean", "StyleGAN2GeneratorCSFT", "basicsr_stylegan2_to_clean",
           "is_basicsr_stylegan2", "load_stylegan2_clean"]


def apply_sft(feat: Tensor, scale: Tensor, shift: Tensor, sft_half: bool) -> Tensor:
    """``feat * scale + shift``; with ``sft_half`` only on the second half of the channels."""
    if not sft_half:
        return feat * scale + shift
    keep, mod = torch.split(feat, feat.size(1) // 2, dim=1)
    return torch.cat([keep, mod * scale + shift], dim=1)


@ARCH_REGISTRY.register()
class StyleGAN2GeneratorClean(nn.Module):
    """StyleGAN2 generator (mapping MLP + modulated-conv synthesis), clean pure-PyTorch version.

    Args:
        out_size: output resolution, a power of two in 16..1024.
        num_style_feat: width of z / w. num_mlp: layers of the mapping MLP.
        channel_multiplier: StyleGAN2 width factor for resolutions >= 64 (GFPGAN prior: 1).
        narrow: width multiplier for every resolution (0.25 -> a quarter of the channels).
        resample: ``'bilinear'`` (GFPGAN clean) or ``'fir'`` (original StyleGAN2 up-sampling).

    >>> g = StyleGAN2GeneratorClean(32, num_style_feat=16, num_mlp=2, narrow=1 / 32)
    >>> g([torch.randn(2, 16)])[0].shape
    torch.Size([2, 3, 32, 32])
    """

    def __init__(self, out_size: int, num_style_feat: int = 512, num_mlp: int = 8,
                 channel_multiplier: float = 2, narrow: float = 1, resample: str = "bilinear"):
        super().__init__()
        self.log_size = check_out_size(out_size)
        self.out_size = out_size
        channels = stylegan2_channels(channel_multiplier, narrow)
        if min(channels[2**i] for i in range(2, self.log_size + 1)) < 1:
            raise ArchConfigError(
                f"narrow={narrow}, channel_multiplier={channel_multiplier} leaves a resolution "
                f"with no channels: {channels}")
        if num_style_feat < 1 or num_mlp < 0:
            raise ArchConfigError(f"bad num_style_feat={num_style_feat} / num_mlp={num_mlp}")
        self.channels = channels
        self.num_style_feat = num_style_feat
        self.num_layers = (self.log_size - 2) * 2 + 1  # style convs, i.e. noise inputs
        self.num_latent = self.log_size * 2 - 2  # w vectors consumed (convs + to_rgbs)

        self.style_mlp = style_mlp(num_style_feat, num_mlp)
        self.constant_input = ConstantInput(channels[4], size=4)
        self.style_conv1 = StyleConv(channels[4], channels[4], 3, num_style_feat, resample=resample)
        self.to_rgb1 = ToRGB(channels[4], num_style_feat, upsample=False, resample=resample)

        self.style_convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.noises = nn.Module()  # fixed noise maps, used with randomize_noise=False
        for idx in range(self.num_layers):
            res = 2 ** ((idx + 5) // 2)
            self.noises.register_buffer(f"noise{idx}", torch.randn(1, 1, res, res))
        in_ch = channels[4]
        for i in range(3, self.log_size + 1):
            out_ch = channels[2**i]
            self.style_convs.append(StyleConv(in_ch, out_ch, 3, num_style_feat,
                                              sample_mode="upsample", resample=resample))
            self.style_convs.append(StyleConv(out_ch, out_ch, 3, num_style_feat, resample=resample))
            self.to_rgbs.append(ToRGB(out_ch, num_style_feat, upsample=True, resample=resample))
            in_ch = out_ch

    def make_noise(self) -> list[Tensor]:
        """Fresh noise maps, one per style conv."""
        device = self.constant_input.weight.device
        return [torch.randn(1, 1, 2 ** ((i + 5) // 2), 2 ** ((i + 5) // 2), device=device)
                for i in range(self.num_layers)]

    def get_latent(self, z: Tensor) -> Tensor:
        """Map z (b, num_style_feat) to w."""
        return self.style_mlp(z)

    def mean_latent(self, num_latent: int) -> Tensor:
        """Average w of ``num_latent`` random z: the truncation centre."""
        z = torch.randn(num_latent, self.num_style_feat, device=self.constant_input.weight.device)
        return self.style_mlp(z).mean(0, keepdim=True)

    def _latents(self, styles: Sequence[Tensor] | Tensor, input_is_latent: bool, truncation: float,
                 truncation_latent: Tensor | None, inject_index: int | None) -> Tensor:
        """Turn z / w / w+ inputs into a (b, num_latent, num_style_feat) w+ tensor."""
        if isinstance(styles, Tensor):
            styles = [styles]
        if len(styles) not in (1, 2):
            raise ArchConfigError(f"styles must hold 1 code (or 2 for mixing), got {len(styles)}")
        for s in styles:
            if s.shape[-1] != self.num_style_feat or s.ndim not in (2, 3):
                raise ArchConfigError(f"style codes must be (b, {self.num_style_feat}) or "
                                      f"(b, n, {self.num_style_feat}), got {tuple(s.shape)}")
        if not input_is_latent:
            styles = [self.style_mlp(s) for s in styles]
        if truncation < 1:
            if truncation_latent is None:
                raise ArchConfigError("truncation < 1 needs truncation_latent (see mean_latent)")
            styles = [truncation_latent + truncation * (s - truncation_latent) for s in styles]
        if len(styles) == 1:
            if styles[0].ndim == 3:  # w+: one code per layer, e.g. from an encoder
                if styles[0].shape[1] != self.num_latent:
                    raise ArchConfigError(f"w+ needs {self.num_latent} codes, got {styles[0].shape[1]}")
                return styles[0]
            return styles[0].unsqueeze(1).repeat(1, self.num_latent, 1)
        if inject_index is None:
            inject_index = random.randint(1, self.num_latent - 1)
        first = styles[0].unsqueeze(1).repeat(1, inject_index, 1)
        second = styles[1].unsqueeze(1).repeat(1, self.num_latent - inject_index, 1)
        return torch.cat([first, second], 1)

    def synthesize(self, latent: Tensor, noise: Sequence[Tensor | None] | None = None,
                   randomize_noise: bool = True, conditions: Sequence[Tensor] = (),
                   sft_half: bool = False) -> Tensor:
        """Synthesis network on w+ ``latent``; ``conditions`` = [scale8, shift8, scale16, ...]."""
        if noise is None:
            noise = ([None] * self.num_layers if randomize_noise else
                     [getattr(self.noises, f"noise{i}") for i in range(self.num_layers)])
        out = self.style_conv1(self.constant_input(latent.shape[0]), latent[:, 0], noise=noise[0])
        skip = self.to_rgb1(out, latent[:, 1])
        i = 1
        for level, to_rgb in enumerate(self.to_rgbs):
            out = self.style_convs[2 * level](out, latent[:, i], noise=noise[i])
            if 2 * level + 1 < len(conditions):  # conditions may cover only the coarse levels
                out = apply_sft(out, conditions[2 * level], conditions[2 * level + 1], sft_half)
            out = self.style_convs[2 * level + 1](out, latent[:, i + 1], noise=noise[i + 1])
            skip = to_rgb(out, latent[:, i + 2], skip)
            i += 2
        return skip

    def forward(self, styles: Sequence[Tensor] | Tensor, input_is_latent: bool = False,
                noise: Sequence[Tensor | None] | None = None, randomize_noise: bool = True,
                truncation: float = 1, truncation_latent: Tensor | None = None,
                inject_index: int | None = None,
                return_latents: bool = False) -> tuple[Tensor, Tensor | None]:
        """Generate images; returns ``(image, latent if return_latents else None)`` like GFPGAN."""
        latent = self._latents(styles, input_is_latent, truncation, truncation_latent, inject_index)
        image = self.synthesize(latent, noise, randomize_noise)
        return image, (latent if return_latents else None)


@ARCH_REGISTRY.register()
class StyleGAN2GeneratorCSFT(StyleGAN2GeneratorClean):
    """Clean StyleGAN2 generator whose features are modulated by spatial conditions (SFT).

    ``conditions`` alternate scale and shift maps from 8x8 upwards; with ``sft_half`` they act
    on the second half of the channels only (the first half keeps the pure prior features).
    Same state dict as :class:`StyleGAN2GeneratorClean`.
    """

    def __init__(self, out_size: int, num_style_feat: int = 512, num_mlp: int = 8,
                 channel_multiplier: float = 2, narrow: float = 1, sft_half: bool = False,
                 resample: str = "bilinear"):
        super().__init__(out_size, num_style_feat, num_mlp, channel_multiplier, narrow, resample)
        if sft_half and any(self.channels[2**i] % 2 for i in range(3, self.log_size + 1)):
            raise ArchConfigError(f"sft_half needs even channel counts, got {self.channels}")
        self.sft_half = sft_half

    def forward(self, styles: Sequence[Tensor] | Tensor, conditions: Sequence[Tensor],
                input_is_latent: bool = False, noise: Sequence[Tensor | None] | None = None,
                randomize_noise: bool = True, truncation: float = 1,
                truncation_latent: Tensor | None = None, inject_index: int | None = None,
                return_latents: bool = False) -> tuple[Tensor, Tensor | None]:
        latent = self._latents(styles, input_is_latent, truncation, truncation_latent, inject_index)
        image = self.synthesize(latent, noise, randomize_noise, conditions, self.sft_half)
        return image, (latent if return_latents else None)


# --- checkpoint layouts -------------------------------------------------------------------------

_NOISE_STRENGTH = re.compile(r"^(style_conv1|style_convs\.\d+)\.weight$")
_MLP = re.compile(r"^style_mlp\.(\d+)\.(weight|bias)$")


def is_basicsr_stylegan2(state: Mapping[str, Tensor]) -> bool:
    """True for BasicSR's (non-clean) ``StyleGAN2Generator`` layout: fused-activation biases."""
    return any(k.endswith(".activate.bias") for k in state)


def basicsr_stylegan2_to_clean(state: Mapping[str, Tensor], lr_mlp: float = 0.01) -> dict[str, Tensor]:
    """Convert a BasicSR ``StyleGAN2Generator`` state dict to the clean layout.

    Folds the equalized-lr scales into the stored weights, moves the fused leaky-ReLU's
    ``sqrt(2)`` gain into weights/biases (leaky ReLU is positively homogeneous), renames
    ``style_mlp.i`` -> ``style_mlp.(2i-1)`` and ``*.activate.bias`` (C,) -> ``*.bias`` (1, C, 1, 1).
    ``lr_mlp`` must be the value the checkpoint was trained with (BasicSR/GFPGAN: 0.01).
    """
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        value = value.detach().float()
        mlp = _MLP.match(key)
        if mlp:
            idx, var = int(mlp.group(1)), mlp.group(2)
            if var == "weight":
                value = value * (lr_mlp / math.sqrt(value.shape[1])) * SQRT2
            else:
                value = value * lr_mlp * SQRT2
            out[f"style_mlp.{2 * idx - 1}.{var}"] = value
        elif key.endswith("modulation.weight"):  # EqualLinear, lr_mul 1
            out[key] = value / math.sqrt(value.shape[1])
        elif key.endswith("modulated_conv.weight"):
            _, _, c_in, kh, kw = value.shape
            out[key] = value / math.sqrt(c_in * kh * kw)
        elif key.endswith(".activate.bias"):
            out[key.replace(".activate.bias", ".bias")] = (value * SQRT2).view(1, -1, 1, 1)
        elif _NOISE_STRENGTH.match(key):
            out[key] = value * SQRT2
        else:  # constant_input, to_rgb biases, modulation biases, noise maps
            out[key] = value
    return out


def load_stylegan2_clean(model: StyleGAN2GeneratorClean,
                         path_or_state: str | os.PathLike | Mapping, strict: bool = True,
                         lr_mlp: float = 0.01) -> tuple[LoadReport, str]:
    """Load a clean- or BasicSR-layout StyleGAN2 checkpoint into ``model``.

    Returns ``(LoadReport, layout)`` with layout ``'clean'`` or ``'basicsr'`` (converted).
    ``strict=False`` loads what fits (e.g. the 8..256 layers of a 512 prior into a 256 model) and
    lists the rest in the report. Raises :class:`fsr.archs.checkpoint.CheckpointError`.
    """
    state, used_key, _ = read_state_dict(path_or_state)
    layout = "clean"
    if is_basicsr_stylegan2(state):
        state, layout = basicsr_stylegan2_to_clean(state, lr_mlp), "basicsr"
    elif not any(k.startswith(("style_conv1.", "constant_input.")) for k in state):
        raise CheckpointError("not a StyleGAN2 generator state dict (no style_conv1/constant_input "
                              f"keys; first keys: {list(state)[:4]})")
    source = "<state dict>" if isinstance(path_or_state, Mapping) else str(path_or_state)
    try:
        report = load_checkpoint(model, state, strict=strict)
    except CheckpointError as err:  # name the file and layout, not the converted dict
        raise CheckpointError(str(err).replace("<state dict>", f"{source} ({layout} layout)",
                                               1)) from None
    report.key, report.source = used_key, source
    return report, layout
