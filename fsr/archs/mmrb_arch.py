"""MMRB + StyleGAN2 prior for pose-varied blind face restoration (after arXiv 2205.14377).

Only the paper's abstract is public, so the design below is ours; docs/mmrb.md gives the
reasons and the ablations. In short:

- :class:`MMRB`, a plug-and-play mixed multi-path residual block: a 1x1 "preserve" path and
  3x3 paths with dilations 1, 2, 3, each wider path adding the finer path's output (the
  receptive field grows gradually), per-channel softmax attention over the paths, a 1x1 fusion,
  a spatial gate and a residual with a learnable per-channel scale.
- An asymmetric codec: a deep encoder (MMRBs at every scale, then a down-sampling block) and a
  light decoder (one conv per scale); the StyleGAN2 prior does the heavy decoding.
- The encoder's 4x4 feature gives w+ codes; the decoder features give SFT (1 + scale, shift)
  maps that modulate half of the prior's channels at 8..out_size.

Images are RGB in [-1, 1] (the range the StyleGAN2 prior was trained in). For blind
restoration the input is the LQ face resized to ``out_size``; with ``in_size < out_size``
(face SR, e.g. 32 -> 128) the network takes the small input and upsamples it bicubically first.

Example::

    >>> net = MMRBStyleGAN2(**MMRB_CONFIGS['mmrb-sg2-128-small'])
    >>> img, rgbs = net(torch.rand(2, 3, 128, 128) * 2 - 1)
    >>> img.shape
    torch.Size([2, 3, 128, 128])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import Tensor, nn
from torch.nn import functional as F

from fsr.archs.checkpoint import CheckpointError, LoadReport
from fsr.archs.gfpgan_clean_arch import ResampleResBlock, check_image_batch
from fsr.archs.stylegan2_blocks import ArchConfigError, check_out_size, stylegan2_channels
from fsr.archs.stylegan2_clean_arch import StyleGAN2GeneratorCSFT, load_stylegan2_clean

__all__ = ["MMRB", "MMRBStyleGAN2", "MMRB_CONFIGS", "PlainResBlock", "PriorLoadReport"]

logger = logging.getLogger(__name__)

# Named configs. The "small" ones train on 2 CPU cores (see docs/mmrb.md for measured sizes and
# speed); the "prior" ones keep the prior at the public FFHQ checkpoint's width so load_prior fits.
_SMALL = dict(num_style_feat=128, num_mlp=8, channel_multiplier=1, narrow=0.25,
              prior_narrow=0.125, enc_blocks=2, latent_channels=16)
MMRB_CONFIGS: dict[str, dict] = {
    "mmrb-sg2-128-small": dict(out_size=128, **_SMALL),
    "mmrb-sg2-128-small-sr32": dict(out_size=128, in_size=32, **_SMALL),
    "mmrb-sg2-256-small": dict(out_size=256, **_SMALL),
    "mmrb-sg2-256-prior": dict(out_size=256, num_style_feat=512, num_mlp=8, channel_multiplier=1,
                               narrow=0.5, prior_narrow=1, enc_blocks=2, latent_channels=64),
    "mmrb-sg2-512-prior": dict(out_size=512, num_style_feat=512, num_mlp=8, channel_multiplier=1,
                               narrow=0.5, prior_narrow=1, enc_blocks=2, latent_channels=64),
}


class MMRB(nn.Module):
    """Mixed multi-path residual block; same in/out channels, any resolution (plug-and-play).

    Paths (each to ``branch_channels``): 1x1 "preserve" (no spatial mixing, keeps the pixel's own
    evidence) and 3x3 convs with ``dilations``; path k adds path k-1's output, so features are
    gathered from gradually wider context. A per-channel softmax over paths (selective-kernel
    style, from the pooled path sum) weights them; a 1x1 conv fuses the weighted concatenation;
    a 7x7 spatial gate from channel mean/max emphasises weak local texture; the result is added
    to the input times a learnable per-channel ``scale`` (small at init: starts near identity).

    >>> MMRB(16)(torch.randn(1, 16, 8, 8)).shape
    torch.Size([1, 16, 8, 8])
    """

    def __init__(self, channels: int, dilations: Sequence[int] = (1, 2, 3), branch_ratio: float = 0.5,
                 reduction: int = 4, res_scale: float = 0.1, spatial_attention: bool = True,
                 path_attention: bool = True):
        super().__init__()
        if channels < 1 or not dilations or min(dilations) < 1:
            raise ArchConfigError(f"MMRB needs channels >= 1 and dilations >= 1, got {channels}, "
                                  f"{tuple(dilations)}")
        cb = max(1, int(channels * branch_ratio))
        self.num_paths = 1 + len(dilations)
        self.preserve = nn.Conv2d(channels, cb, 1)
        self.paths = nn.ModuleList(nn.Conv2d(channels, cb, 3, padding=d, dilation=d) for d in dilations)
        hidden = max(4, cb // reduction)
        # path_attention=False (ablation): the paths are averaged with equal weights
        self.attn_squeeze = nn.Linear(cb, hidden) if path_attention else None
        self.attn_expand = nn.Linear(hidden, self.num_paths * cb) if path_attention else None
        self.fuse = nn.Conv2d(self.num_paths * cb, channels, 1)
        self.spatial = nn.Conv2d(2, 1, 7, padding=3) if spatial_attention else None
        self.scale = nn.Parameter(torch.full((1, channels, 1, 1), float(res_scale)))

    def forward(self, x: Tensor) -> Tensor:
        feats = [F.leaky_relu(self.preserve(x), 0.2)]
        prev = None
        for conv in self.paths:
            y = F.leaky_relu(conv(x), 0.2)
            prev = y if prev is None else y + prev  # mixed: wider paths build on finer ones
            feats.append(prev)
        stack = torch.stack(feats, 1)  # (b, paths, cb, h, w)
        b, n, cb = stack.shape[:3]
        if self.attn_squeeze is None:
            stack = stack / n
        else:
            desc = stack.sum(1).mean((2, 3))  # (b, cb)
            logits = self.attn_expand(F.leaky_relu(self.attn_squeeze(desc), 0.2)).view(b, n, cb)
            stack = stack * logits.softmax(1)[..., None, None]
        out = self.fuse(stack.flatten(1, 2))
        if self.spatial is not None:
            pooled = torch.cat([out.mean(1, keepdim=True), out.amax(1, keepdim=True)], 1)
            out = out * torch.sigmoid(self.spatial(pooled))
        return x + self.scale * out


class PlainResBlock(nn.Module):
    """Ablation stand-in for :class:`MMRB`: conv3x3 -> LeakyReLU -> conv3x3, same scaled residual."""

    def __init__(self, channels: int, res_scale: float = 0.1):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.scale = nn.Parameter(torch.full((1, channels, 1, 1), float(res_scale)))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.scale * self.conv2(F.leaky_relu(self.conv1(x), 0.2))


@dataclass
class PriorLoadReport:
    """What :meth:`MMRBStyleGAN2.load_prior` loaded into the prior."""

    report: LoadReport
    layout: str  # 'clean' or 'basicsr' (converted)
    num_prior_tensors: int

    def __str__(self) -> str:
        r = self.report
        lines = [f"prior: loaded {r.num_loaded}/{self.num_prior_tensors} tensors from {r.source} "
                 f"[{r.key or 'raw'}] ({self.layout} layout"
                 f"{', converted to clean' if self.layout == 'basicsr' else ''})"]
        for name, items in (("not in checkpoint (kept at init)", r.missing),
                            ("shape mismatch (kept at init)", r.mismatched),
                            ("in checkpoint, not in this prior (ignored)", r.unexpected)):
            if items:
                more = f", ... (+{len(items) - 4})" if len(items) > 4 else ""
                lines.append(f"  {len(items)} {name}: {', '.join(items[:4])}{more}")
        return "\n".join(lines)


@ARCH_REGISTRY.register()
class MMRBStyleGAN2(nn.Module):
    """Asymmetric MMRB codec + SFT-conditioned StyleGAN2 prior (blind face restoration / SR).

    Args:
        out_size: output size, 128 / 256 / 512 (16..1024 accepted).
        in_size: input size (default ``out_size``); smaller values are bicubic-upsampled first.
        num_style_feat, num_mlp, channel_multiplier: the prior's StyleGAN2 settings.
        narrow: codec width multiplier (codec = StyleGAN2 table at ``narrow / 2``).
        prior_narrow: prior width multiplier (default ``narrow``); 1 with channel_multiplier 1
            and num_style_feat 512 matches the public FFHQ prior.
        enc_blocks: MMRBs per encoder scale, an int or one per scale from ``out_size`` to 8.
        use_mmrb: False swaps every MMRB for a :class:`PlainResBlock` (ablation).
        latent_channels: the 4x4 feature is reduced to this many channels before the w+ linear.
        dilations, branch_ratio: MMRB settings. sft_half: modulate half of the prior channels.
        path_attention: False averages each MMRB's paths with equal weights instead of its
            per-channel softmax over them (the path-weight ablation).
        prior_resample: ``'fir'`` (default; what the public BasicSR-trained prior uses) or
            ``'bilinear'``. fix_prior: freeze the prior.
        input_skip: fsr's addition, in neither paper: return the (upsampled) input plus
            ``prior_gain`` times the prior's image, ``prior_gain`` a learned scalar that starts
            at 0. A fresh network returns its input, as SAM3D's ``residual=True`` returns
            bicubic, so training can only move away from the input where the loss gains: the
            "keep the original facial features" the paper asks of MMRB, enforced by the start.
        prior_weight: how much of the prior's change to the input is kept at inference, like
            GFPGAN's ``weight`` and CodeFormer's fidelity ``w``: the output is
            ``x + prior_weight * (restored - x)`` (with ``input_skip``, the prior's image term
            scaled). 1 is the network as trained, 0 returns the (upsampled) input. Not a
            parameter: the same checkpoint serves every weight.
    """

    def __init__(self, out_size: int = 512, in_size: int | None = None, num_style_feat: int = 512,
                 num_mlp: int = 8, channel_multiplier: float = 1, narrow: float = 1,
                 prior_narrow: float | None = None, enc_blocks: int | Sequence[int] = 2,
                 use_mmrb: bool = True, latent_channels: int = 64,
                 dilations: Sequence[int] = (1, 2, 3), branch_ratio: float = 0.5,
                 sft_half: bool = True, prior_resample: str = "fir", fix_prior: bool = False,
                 input_skip: bool = False, prior_weight: float = 1.0,
                 path_attention: bool = True):
        super().__init__()
        if not (isinstance(prior_weight, (int, float)) and 0.0 <= prior_weight <= 1.0):
            raise ArchConfigError(f"prior_weight must be a number in [0, 1], got {prior_weight!r}")
        self.prior_weight = float(prior_weight)
        self.log_size = check_out_size(out_size, (16, 32, 64, 128, 256, 512, 1024))
        self.out_size, self.in_size = out_size, in_size or out_size
        if not isinstance(self.in_size, int) or not 4 <= self.in_size <= out_size:
            raise ArchConfigError(f"in_size must be an int in [4, out_size={out_size}], got {in_size!r}")
        self.num_style_feat, self.use_mmrb = num_style_feat, use_mmrb
        levels = [2**i for i in range(self.log_size, 2, -1)]  # encoder scales out_size .. 8
        blocks = [enc_blocks] * len(levels) if isinstance(enc_blocks, int) else list(enc_blocks)
        if len(blocks) != len(levels) or min(blocks) < 0:
            raise ArchConfigError(f"enc_blocks needs one count >= 0 per scale {levels}, got {enc_blocks}")

        self.prior = StyleGAN2GeneratorCSFT(
            out_size, num_style_feat=num_style_feat, num_mlp=num_mlp,
            channel_multiplier=channel_multiplier,
            narrow=narrow if prior_narrow is None else prior_narrow,
            sft_half=sft_half, resample=prior_resample)
        ch = stylegan2_channels(channel_multiplier, narrow * 0.5)
        if min(ch[r] for r in [*levels, 4]) < 1 or latent_channels < 1:
            raise ArchConfigError(f"narrow={narrow} leaves the codec with no channels: {ch}")

        def block(c: int) -> nn.Module:
            return MMRB(c, dilations, branch_ratio, path_attention=path_attention) if use_mmrb \
                else PlainResBlock(c)

        # deep encoder: MMRBs at every scale, then a down-sampling residual block
        self.conv_first = nn.Conv2d(3, ch[out_size], 3, 1, 1)
        self.enc_blocks = nn.ModuleList(nn.Sequential(*[block(ch[r]) for _ in range(n)])
                                        for r, n in zip(levels, blocks, strict=True))
        self.enc_down = nn.ModuleList(ResampleResBlock(ch[r], ch[r // 2], "down") for r in levels)
        self.final_conv = nn.Conv2d(ch[4], latent_channels, 3, 1, 1)
        num_codes = self.prior.num_latent
        self.final_linear = nn.Linear(latent_channels * 16, num_codes * num_style_feat)

        # light decoder: per scale one up-sampling conv, the encoder skip, one SFT head
        self.dec_in = nn.Conv2d(latent_channels, ch[4], 3, 1, 1)
        self.dec_up = nn.ModuleList()
        self.sft_heads = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        for r in reversed(levels):  # 8 .. out_size
            prior_ch = self.prior.channels[r]
            sft_ch = prior_ch // 2 if sft_half else prior_ch
            self.dec_up.append(nn.Conv2d(ch[r // 2], ch[r], 3, 1, 1))
            head = nn.Sequential(nn.Conv2d(ch[r], ch[r], 3, 1, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(ch[r], 2 * sft_ch, 3, 1, 1))
            # zero last conv: SFT starts as the identity (scale 1, shift 0), so an initialised
            # prior starts unmodified and the encoder learns how far to move it
            nn.init.zeros_(head[2].weight)
            nn.init.zeros_(head[2].bias)
            self.sft_heads.append(head)
            self.to_rgbs.append(nn.Conv2d(ch[r], 3, 1))
        if fix_prior:
            self.prior.requires_grad_(False)
        self.input_skip = input_skip
        if input_skip:
            self.prior_gain = nn.Parameter(torch.zeros(()))

    def encode(self, x: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """Return (w+ codes (b, num_latent, num_style_feat), SFT conditions, decoder features)."""
        feat = F.leaky_relu(self.conv_first(x), 0.2)
        skips = []
        for blocks, down in zip(self.enc_blocks, self.enc_down, strict=True):
            feat = blocks(feat)
            skips.append(feat)
            feat = down(feat)
        feat = F.leaky_relu(self.final_conv(feat), 0.2)
        codes = self.final_linear(feat.flatten(1)).view(feat.size(0), -1, self.num_style_feat)

        feat = F.leaky_relu(self.dec_in(feat), 0.2)
        conditions, dec_feats = [], []
        for up, head, skip in zip(self.dec_up, self.sft_heads, reversed(skips), strict=True):
            feat = F.interpolate(feat, scale_factor=2, mode="bilinear", align_corners=False)
            feat = F.leaky_relu(up(feat), 0.2) + skip
            scale, shift = head(feat).chunk(2, dim=1)
            conditions += [1 + scale, shift]
            dec_feats.append(feat)
        return codes, conditions, dec_feats

    def forward(self, x: Tensor, return_rgb: bool = True,
                randomize_noise: bool = True) -> tuple[Tensor, list[Tensor]]:
        """Restore ``x`` ((b, 3, in_size, in_size) in [-1, 1]) -> ``(image, out_rgbs)``.

        ``out_rgbs``: 1x1 RGB projections of the decoder features at 8..out_size (for pyramid
        losses), empty when ``return_rgb=False``.
        """
        check_image_batch(x, self.in_size)
        if self.in_size != self.out_size:
            x = F.interpolate(x, size=(self.out_size,) * 2, mode="bicubic", align_corners=False)
        codes, conditions, dec_feats = self.encode(x)
        image, _ = self.prior([codes], conditions, input_is_latent=True,
                              randomize_noise=randomize_noise)
        if self.input_skip:
            image = x + (self.prior_weight * self.prior_gain) * image
        elif self.prior_weight != 1.0:
            image = x + self.prior_weight * (image - x)
        rgbs = [to_rgb(f) for to_rgb, f in zip(self.to_rgbs, dec_feats, strict=True)] if return_rgb else []
        return image, rgbs

    def load_prior(self, path_or_state: str | os.PathLike | Mapping) -> PriorLoadReport:
        """Initialise the prior from a StyleGAN2 checkpoint (clean or BasicSR layout).

        Loads every tensor whose name and shape fit (a 512 FFHQ prior fills a 256 or 128 prior
        of the same width up to its resolution) and reports the rest; raises CheckpointError
        when nothing fits.
        """
        report, layout = load_stylegan2_clean(self.prior, path_or_state, strict=False)
        result = PriorLoadReport(report, layout, len(self.prior.state_dict()))
        if report.num_loaded == 0:
            raise CheckpointError(f"no prior tensor fits: {result}")
        logger.info("%s", result)
        return result
