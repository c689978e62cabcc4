"""VQGAN building blocks of CodeFormer: encoder, codebook, generator (official key names).

The layout follows CodeFormer's ``basicsr/archs/vqgan_arch.py`` (itself from Unleashing
Transformers) so that ``encoder.blocks.<i>``, ``quantize.embedding`` and ``generator.blocks.<i>``
of the released checkpoint land where they belong; :mod:`fsr.archs.codeformer_arch` builds the
transformer and the fusion modules on top.

    >>> import torch
    >>> enc = VQGANEncoder(nf=8, emb_dim=16, ch_mult=(1, 2, 4), res_blocks=1,
    ...                    img_size=32, attn_resolutions=(8,), norm_groups=4)
    >>> enc(torch.rand(1, 3, 32, 32)).shape
    torch.Size([1, 16, 8, 8])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from fsr.archs.stylegan2_blocks import ArchConfigError

__all__ = ["AttnBlock", "Codebook", "Downsample", "ResBlock", "Upsample", "VQGANEncoder",
           "VQGANGenerator", "group_norm"]


def group_norm(channels: int, groups: int = 32) -> nn.GroupNorm:
    """GroupNorm(groups, eps 1e-6, affine): VQGAN's only normalisation."""
    if channels % groups:
        raise ArchConfigError(f"{channels} channels do not split into {groups} norm groups")
    return nn.GroupNorm(groups, channels, eps=1e-6, affine=True)


class ResBlock(nn.Module):
    """norm -> swish -> conv3x3, twice, plus the input (1x1 ``conv_out`` when widths differ)."""

    def __init__(self, in_channels: int, out_channels: int | None = None, norm_groups: int = 32):
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        self.norm1 = group_norm(in_channels, norm_groups)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.norm2 = group_norm(out_channels, norm_groups)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        self.conv_out = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (x if self.conv_out is None else self.conv_out(x))


class AttnBlock(nn.Module):
    """Single-head spatial self-attention over all positions (1x1 q, k, v, proj_out)."""

    def __init__(self, channels: int, norm_groups: int = 32):
        super().__init__()
        self.norm = group_norm(channels, norm_groups)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        y = self.norm(x)
        q = self.q(y).flatten(2).transpose(1, 2)  # (b, hw, c)
        k = self.k(y).flatten(2)  # (b, c, hw)
        v = self.v(y).flatten(2)
        attn = torch.softmax(torch.bmm(q, k) * c**-0.5, dim=2)  # (b, hw_query, hw_key)
        out = torch.bmm(v, attn.transpose(1, 2)).view(b, c, h, w)
        return x + self.proj_out(out)


class Downsample(nn.Module):
    """Stride-2 conv3x3 after zero-padding right and bottom by one (VQGAN's asymmetric pad)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 2, 0)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    """Nearest x2, then conv3x3."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Codebook(nn.Module):
    """The learned code vectors (key ``embedding.weight``, (codebook_size, emb_dim))."""

    def __init__(self, codebook_size: int, emb_dim: int):
        super().__init__()
        self.embedding = nn.Embedding(codebook_size, emb_dim)

    def lookup(self, indices: Tensor, hw: tuple[int, int]) -> Tensor:
        """Code vectors of ``indices`` (b, h*w) as a (b, emb_dim, h, w) feature map."""
        feat = self.embedding(indices)  # (b, hw, c)
        return feat.transpose(1, 2).reshape(indices.shape[0], -1, *hw)


def _levels(ch_mult: Sequence[int]) -> int:
    if len(ch_mult) < 1 or any(int(m) < 1 for m in ch_mult):
        raise ArchConfigError(f"ch_mult must be positive integers, got {list(ch_mult)}")
    return len(ch_mult)


class VQGANEncoder(nn.Module):
    """conv -> per level: res blocks (+attention at ``attn_resolutions``), downsample ->
    res, attn, res -> norm -> conv to ``emb_dim``. ``fuse_points`` maps a side (str) to the
    index of the block whose output CodeFormer's fusion reads: the last res block of a level.
    """

    def __init__(self, nf: int, emb_dim: int, ch_mult: Sequence[int], res_blocks: int,
                 img_size: int, attn_resolutions: Sequence[int], norm_groups: int = 32):
        super().__init__()
        levels = _levels(ch_mult)
        if img_size % 2 ** (levels - 1):
            raise ArchConfigError(f"img_size {img_size} is not divisible by 2**{levels - 1}")
        blocks: list[nn.Module] = [nn.Conv2d(3, nf, 3, 1, 1)]
        self.fuse_points: dict[str, int] = {}
        ch, res = nf, img_size
        for level, mult in enumerate(ch_mult):
            for _ in range(res_blocks):
                blocks.append(ResBlock(ch, nf * mult, norm_groups))
                ch = nf * mult
                self.fuse_points[str(res)] = len(blocks) - 1
                if res in attn_resolutions:
                    blocks.append(AttnBlock(ch, norm_groups))
            if level != levels - 1:
                blocks.append(Downsample(ch))
                res //= 2
        blocks += [ResBlock(ch, ch, norm_groups), AttnBlock(ch, norm_groups),
                   ResBlock(ch, ch, norm_groups), group_norm(ch, norm_groups),
                   nn.Conv2d(ch, emb_dim, 3, 1, 1)]
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return x


class VQGANGenerator(nn.Module):
    """conv from ``emb_dim`` -> res, attn, res -> per level (coarse to fine): res blocks
    (+attention), upsample -> norm -> conv to RGB. ``fuse_points``: the block after which
    CodeFormer fuses encoder features at each side: the first res block of a level, or at a
    level with attention the last res block (CodeFormer's table: 16->6, 32->9, ..., 512->21).
    """

    def __init__(self, nf: int, emb_dim: int, ch_mult: Sequence[int], res_blocks: int,
                 img_size: int, attn_resolutions: Sequence[int], norm_groups: int = 32):
        super().__init__()
        levels = _levels(ch_mult)
        ch = nf * ch_mult[-1]
        res = img_size // 2 ** (levels - 1)
        blocks: list[nn.Module] = [nn.Conv2d(emb_dim, ch, 3, 1, 1), ResBlock(ch, ch, norm_groups),
                                   AttnBlock(ch, norm_groups), ResBlock(ch, ch, norm_groups)]
        self.fuse_points: dict[str, int] = {}
        for level in reversed(range(levels)):
            for j in range(res_blocks):
                blocks.append(ResBlock(ch, nf * ch_mult[level], norm_groups))
                ch = nf * ch_mult[level]
                if j == 0 or res in attn_resolutions:
                    self.fuse_points[str(res)] = len(blocks) - 1
                if res in attn_resolutions:
                    blocks.append(AttnBlock(ch, norm_groups))
            if level != 0:
                blocks.append(Upsample(ch))
                res *= 2
        blocks += [group_norm(ch, norm_groups), nn.Conv2d(ch, 3, 3, 1, 1)]
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return x
