"""CodeFormer (Zhou et al., NeurIPS 2022): codebook lookup transformer for blind face restoration.

A VQGAN encoder reads the degraded face; a transformer predicts, for each of the 16x16 latent
positions, which of the learned code vectors the clean face uses; the VQGAN generator decodes
those codes, and controllable feature transformation (``fuse_convs_dict``) blends encoder
features back in with the fidelity weight ``w``: 0 = the codebook's face (quality), 1 = closest
to the input (fidelity).

State-dict compatible with CodeFormer's ``basicsr/archs/codeformer_arch.py`` and so with the
released ``codeformer.pth`` (``params_ema``), built with the official inference kwargs (the
defaults here); the key table is pinned by ``tests/archs/data/codeformer_512_keys.json``.
Images are RGB in [-1, 1] at 512x512. ``w`` and ``adain`` are attributes (what a call uses
unless it passes its own), so a record or a demo slider can set the fidelity.

Example::

    >>> from fsr.archs.checkpoint import load_checkpoint
    >>> net = CodeFormer(w=0.7)                            # official layout, 512x512
    >>> load_checkpoint(net, 'codeformer.pth')             # doctest: +SKIP
    >>> restored, logits, lq_feat = net(lq * 2 - 1)        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import Tensor, nn

from fsr.archs.codeformer_blocks import Codebook, ResBlock, VQGANEncoder, VQGANGenerator
from fsr.archs.gfpgan_clean_arch import check_image_batch
from fsr.archs.stylegan2_blocks import ArchConfigError

__all__ = ["CodeFormer", "FuseSFTBlock", "TransformerSALayer", "adaptive_instance_norm"]


def adaptive_instance_norm(content: Tensor, style: Tensor, eps: float = 1e-5) -> Tensor:
    """``content`` with the per-channel mean and std of ``style`` (unbiased variance + eps).

    >>> c, s = torch.randn(1, 2, 4, 4), torch.randn(1, 2, 4, 4) * 3 + 1
    >>> out = adaptive_instance_norm(c, s)
    >>> torch.allclose(out.mean((2, 3)), s.mean((2, 3)), atol=1e-5)
    True
    """
    def stats(x: Tensor) -> tuple[Tensor, Tensor]:
        flat = x.flatten(2)
        return flat.mean(2)[..., None, None], (flat.var(2) + eps).sqrt()[..., None, None]

    c_mean, c_std = stats(content)
    s_mean, s_std = stats(style)
    return (content - c_mean) / c_std * s_std + s_mean


class TransformerSALayer(nn.Module):
    """Pre-norm self-attention layer with a GELU MLP; the position embedding is added to
    queries and keys only (sequence-first tensors, (hw, b, c))."""

    def __init__(self, embed_dim: int, nhead: int = 8, dim_mlp: int = 2048):
        super().__init__()
        if embed_dim % nhead:
            raise ArchConfigError(f"dim_embd {embed_dim} is not divisible by n_head {nhead}")
        self.self_attn = nn.MultiheadAttention(embed_dim, nhead)
        self.linear1 = nn.Linear(embed_dim, dim_mlp)
        self.linear2 = nn.Linear(dim_mlp, embed_dim)
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)

    def forward(self, tgt: Tensor, query_pos: Tensor | None = None) -> Tensor:
        y = self.norm1(tgt)
        qk = y if query_pos is None else y + query_pos
        tgt = tgt + self.self_attn(qk, qk, value=y, need_weights=False)[0]
        y = self.norm2(tgt)
        return tgt + self.linear2(nn.functional.gelu(self.linear1(y)))


def _sft_branch(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, 1, 1), nn.LeakyReLU(0.2, True),
                         nn.Conv2d(out_ch, out_ch, 3, 1, 1))


class FuseSFTBlock(nn.Module):
    """Controllable feature transformation: ``dec + w * (dec * scale + shift)``, scale and
    shift predicted from the encoder and decoder features together (``encode_enc``)."""

    def __init__(self, in_ch: int, out_ch: int, norm_groups: int = 32):
        super().__init__()
        self.encode_enc = ResBlock(2 * in_ch, out_ch, norm_groups)
        self.scale = _sft_branch(in_ch, out_ch)
        self.shift = _sft_branch(in_ch, out_ch)

    def forward(self, enc_feat: Tensor, dec_feat: Tensor, w: float = 1.0) -> Tensor:
        feat = self.encode_enc(torch.cat([enc_feat, dec_feat], dim=1))
        return dec_feat + w * (dec_feat * self.scale(feat) + self.shift(feat))


@ARCH_REGISTRY.register()
class CodeFormer(nn.Module):
    """VQGAN encoder -> transformer code prediction -> codebook -> VQGAN generator (+ fusion).

    Args (defaults = the official inference model, 94.1 M parameters):
        dim_embd: transformer width (512). n_head: 8. n_layers: 9.
        codebook_size: 1024. latent_size: latent positions (None: (img_size / 2**(levels-1))**2,
            256 for 512 px).
        connect_list: sides whose encoder features are fused into the generator
            (('32', '64', '128', '256')).
        w: default fidelity weight in [0, 1] (0.5, the official script's default).
        adain: match the predicted codes' statistics to the encoder's before decoding (True,
            as the official inference script calls it).
        img_size, nf, ch_mult, res_blocks, attn_resolutions, emb_dim: the VQGAN
            (512, 64, (1, 2, 2, 4, 4, 8), 2, (16,), 256), fixed in the official class.
        norm_groups: GroupNorm groups (32 officially; fewer only for tiny test configs).

    >>> net = CodeFormer(dim_embd=32, n_head=2, n_layers=1, codebook_size=16, img_size=64,
    ...                  nf=4, ch_mult=(1, 2, 2, 4), emb_dim=8, attn_resolutions=(8,),
    ...                  connect_list=('16', '32'), norm_groups=4)
    >>> net(torch.rand(1, 3, 64, 64) * 2 - 1)[0].shape
    torch.Size([1, 3, 64, 64])
    """

    def __init__(self, dim_embd: int = 512, n_head: int = 8, n_layers: int = 9,
                 codebook_size: int = 1024, latent_size: int | None = None,
                 connect_list: Sequence[str] = ("32", "64", "128", "256"),
                 w: float = 0.5, adain: bool = True, img_size: int = 512, nf: int = 64,
                 ch_mult: Sequence[int] = (1, 2, 2, 4, 4, 8), res_blocks: int = 2,
                 attn_resolutions: Sequence[int] = (16,), emb_dim: int = 256,
                 norm_groups: int = 32):
        super().__init__()
        self.img_size = img_size
        self.latent_side = img_size // 2 ** (len(ch_mult) - 1)
        if latent_size is None:
            latent_size = self.latent_side**2
        if latent_size != self.latent_side**2:
            raise ArchConfigError(f"latent_size {latent_size} != {self.latent_side}**2 latent "
                                  f"positions of a {img_size} px input")
        self.w, self.adain = float(w), bool(adain)
        self.connect_list = [str(s) for s in connect_list]
        vqgan = dict(nf=nf, emb_dim=emb_dim, ch_mult=ch_mult, res_blocks=res_blocks,
                     img_size=img_size, attn_resolutions=tuple(attn_resolutions),
                     norm_groups=norm_groups)
        self.encoder = VQGANEncoder(**vqgan)
        self.quantize = Codebook(codebook_size, emb_dim)
        self.generator = VQGANGenerator(**vqgan)

        self.position_emb = nn.Parameter(torch.zeros(latent_size, dim_embd))
        self.feat_emb = nn.Linear(emb_dim, dim_embd)
        self.ft_layers = nn.Sequential(*[TransformerSALayer(dim_embd, n_head, dim_embd * 2)
                                         for _ in range(n_layers)])
        self.idx_pred_layer = nn.Sequential(nn.LayerNorm(dim_embd),
                                            nn.Linear(dim_embd, codebook_size, bias=False))

        channels = {str(img_size // 2**i): nf * m for i, m in enumerate(ch_mult)}
        unknown = [s for s in self.connect_list
                   if s not in channels or s not in self.encoder.fuse_points]
        if unknown:
            raise ArchConfigError(f"connect_list sides {unknown} are not VQGAN levels "
                                  f"({sorted(channels, key=int)})")
        self.fuse_convs_dict = nn.ModuleDict(
            {s: FuseSFTBlock(channels[s], channels[s], norm_groups) for s in self.connect_list})

    def forward(self, x: Tensor, w: float | None = None, adain: bool | None = None,
                code_only: bool = False) -> tuple[Tensor, Tensor, Tensor]:
        """Restore ``x`` ((b, 3, img_size, img_size) in [-1, 1]).

        Returns ``(image, logits, lq_feat)``: logits over the codebook per latent position
        (b, hw, codebook_size) and the encoder's latent. ``code_only`` returns
        ``(logits, lq_feat)`` without decoding (CodeFormer's stage-II training output).
        """
        check_image_batch(x, self.img_size)
        w = self.w if w is None else float(w)
        adain = self.adain if adain is None else adain
        enc_at = {self.encoder.fuse_points[s]: s for s in self.connect_list}
        enc_feats: dict[str, Tensor] = {}
        for i, block in enumerate(self.encoder.blocks):
            x = block(x)
            if i in enc_at:  # detached, as in the official code: fusion trains on its own
                enc_feats[enc_at[i]] = x.detach()
        lq_feat = x

        b = x.shape[0]
        pos = self.position_emb.unsqueeze(1).expand(-1, b, -1)
        query = self.feat_emb(lq_feat.flatten(2).permute(2, 0, 1))  # (hw, b, dim_embd)
        for layer in self.ft_layers:
            query = layer(query, query_pos=pos)
        logits = self.idx_pred_layer(query).permute(1, 0, 2)  # (b, hw, codebook_size)
        if code_only:
            return logits, lq_feat

        # top-1 of the softmax, as the official code picks it (ties resolve the same way)
        top_idx = torch.topk(torch.softmax(logits, dim=2), 1, dim=2)[1][..., 0]
        feat = self.quantize.lookup(top_idx, (self.latent_side, self.latent_side)).detach()
        if adain:
            feat = adaptive_instance_norm(feat, lq_feat)

        gen_at = {self.generator.fuse_points[s]: s for s in self.connect_list}
        for i, block in enumerate(self.generator.blocks):
            feat = block(feat)
            if i in gen_at and w > 0:
                side = gen_at[i]
                feat = self.fuse_convs_dict[side](enc_feats[side], feat, w)
        return feat, logits, lq_feat
