"""SAM3D: face super-resolution guided by 3D facial priors (Hu et al., ECCV 2020).

A rendered 3D face (the prior, at LR size) goes through ``CondNet`` (1x1 convs) into a
32-channel condition map that modulates every spatial-feature-transform (SFT) layer of the
trunk: 12 SFT residual blocks with channel attention, one more SFT layer, two RCAN residual
groups, a 64->512 conv and a DANet dual-attention head; a global skip, then nearest-neighbour
upsampling + convs to 128x128. The module tree and names equal the authors' released
``SFT_Net_torch`` (``SFT_rcan.py``), so their x4/x8 checkpoints load unchanged, strictly.

Paper vs released code (we follow the code by default):

- The paper also feeds the 3DMM coefficients (identity, expression, texture, illumination,
  pose) through a "feature transform" concatenated with the render; the released code
  conditions on the render only. ``use_coeff=True`` adds that path: an MLP maps the (N, 239)
  coefficient vector to ``coeff_maps`` maps at LR size, concatenated with the render before
  ``CondNet`` (whose first conv then takes 3 + coeff_maps channels).
- The paper's figure draws 8 attention blocks; the code has 12 (``n_sft_blocks``).
- fsr's own option, in neither: ``residual=True`` adds the bicubic upsampling of the input
  to the output (the last conv starts at zero), which the small CPU-trained models use.

Variants for side-by-side benchmarks are in ``VARIANTS``. Example::

    >>> import torch
    >>> net = SAM3D(scale=4).eval()
    >>> lr, render = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    >>> net(lr, render).shape
    torch.Size([1, 3, 128, 128])
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from basicsr.utils.registry import ARCH_REGISTRY
from torch import Tensor, nn

from fsr.archs.sam3d_blocks import DualAttentionHead, ResidualGroup, SFTLayer, SFTResBlock, conv3x3

# The paper's coefficient vector: id 80, exp 64, tex 80, angles 3, SH gamma 9, translation 3.
COEFF_DIM = 239

# Keyword sets for SAM3D(scale=..., **VARIANTS[name]); names are what benchmarks report.
VARIANTS: dict[str, dict] = {
    "sam3d": {},  # the released model: render prior only
    "sam3d-coeff": {"use_coeff": True},  # + the paper's coefficient feature transform
    "sam3d-noprior": {"use_prior": False},  # constant (zero) prior, same params and compute
}


class CoeffTransform(nn.Module):
    """The paper's "feature transform": (N, coeff_dim) coefficients -> (N, maps, size, size).

    An MLP whose output is reshaped to spatial maps, so each map position can learn where a
    coefficient matters. The last layer starts at zero: a fresh coefficient path is a no-op,
    which lets SAM3D(use_coeff=True) start from render-only weights with the same output.
    """

    def __init__(self, coeff_dim: int = COEFF_DIM, maps: int = 3, size: int = 32,
                 hidden: int = 128) -> None:
        super().__init__()
        self.maps, self.size = maps, size
        self.mlp = nn.Sequential(
            nn.Linear(coeff_dim, hidden),
            nn.LeakyReLU(0.1),
            nn.Linear(hidden, maps * size * size),
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, coeff: Tensor) -> Tensor:
        return self.mlp(coeff).view(-1, self.maps, self.size, self.size)


def _hr_branch(scale: int, n_feats: int) -> nn.Sequential:
    # Nearest upsampling + convs (no PixelShuffle); x8 differs from x4 only in the first factor,
    # so both have the same keys: HR_branch.{1,4,6,8}.
    first = {4: 2, 8: 4}[scale]
    return nn.Sequential(
        nn.Upsample(scale_factor=first, mode="nearest"), conv3x3(n_feats, n_feats), nn.ReLU(True),
        nn.Upsample(scale_factor=2, mode="nearest"), conv3x3(n_feats, n_feats), nn.ReLU(True),
        conv3x3(n_feats, n_feats), nn.ReLU(True),
        conv3x3(n_feats, 3),
    )


@ARCH_REGISTRY.register()
class SAM3D(nn.Module):
    """SAM3D generator: (LR face, LR render of its 3D prior) -> HR face.

    Args:
        scale: 4 (32->128) or 8 (16->128).
        n_feats: trunk width (64 in the paper; CondNet, head and condition widths follow it).
        reduction: channel-attention reduction.
        n_resblocks: RCABs per residual group (20).
        n_sft_blocks: SFT residual blocks (12 in the released code, 8 in the paper's figure).
        use_prior: False is the no-prior ablation: the render (and coefficients) are replaced
            by zeros, so CondNet yields one learned constant condition map. Parameter count and
            compute stay identical, and ``forward`` still accepts (and ignores) a render.
            Trained this way it is the "no 3D prior" baseline; with the authors' weights it
            only shows what removing the prior at test time does.
        use_coeff: add the paper's coefficient path (see ``CoeffTransform``).
        coeff_dim, coeff_maps, coeff_hidden: its input size, output maps and MLP width.
        hr_size: HR side the inputs must map to (128); the LR side must be hr_size // scale.
            None accepts any LR size (the net is fully convolutional) unless use_coeff.
        residual: fsr's addition, not in the authors' code: add the bicubic upsampling of the
            LR input to the output, so the network learns only the detail bicubic misses. The
            last conv starts at zero, so a fresh net *is* bicubic and small training budgets
            cannot fall below it. No new parameters: the authors' files still load (keep
            False for them).

    Inputs are RGB in [0, 1], (N, 3, h, w); no normalisation and no output clamp.

    Example::

        >>> net = SAM3D(scale=8, **VARIANTS["sam3d-coeff"])
        >>> lr = render = torch.rand(2, 3, 16, 16)
        >>> net(lr, render, torch.zeros(2, 239)).shape
        torch.Size([2, 3, 128, 128])
    """

    def __init__(self, scale: int = 4, n_feats: int = 64, reduction: int = 16,
                 n_resblocks: int = 20, n_sft_blocks: int = 12, use_prior: bool = True,
                 use_coeff: bool = False, coeff_dim: int = COEFF_DIM, coeff_maps: int = 3,
                 coeff_hidden: int = 128, hr_size: int | None = 128,
                 residual: bool = False) -> None:
        super().__init__()
        if scale not in (4, 8):
            raise ValueError(f"SAM3D supports scale 4 or 8 (the released models), got {scale!r}")
        if hr_size is not None and hr_size % scale:
            raise ValueError(f"hr_size {hr_size} is not divisible by scale {scale}")
        if use_coeff and hr_size is None:
            raise ValueError("use_coeff=True needs hr_size: the coefficient maps have a fixed size")
        self.scale, self.hr_size = scale, hr_size
        self.use_prior, self.use_coeff = use_prior, use_coeff
        self.coeff_dim, self.residual = coeff_dim, residual
        cond_channels, cond_hidden = n_feats // 2, n_feats * 2  # 32 and 128 at n_feats=64

        self.conv0 = conv3x3(3, n_feats)
        # A ModuleList, not a Sequential: the SFT items take (features, condition).
        self.n_sft_blocks = n_sft_blocks
        self.sft_branch = nn.ModuleList(
            [SFTResBlock(n_feats, cond_channels, reduction) for _ in range(n_sft_blocks)]
            + [
                SFTLayer(n_feats, cond_channels),
                ResidualGroup(n_feats, reduction, n_resblocks),
                ResidualGroup(n_feats, reduction, n_resblocks),
                conv3x3(n_feats, 8 * n_feats),
                DualAttentionHead(8 * n_feats, n_feats),
            ]
        )
        self.HR_branch = _hr_branch(scale, n_feats)
        if residual:
            nn.init.zeros_(self.HR_branch[-1].weight)
            nn.init.zeros_(self.HR_branch[-1].bias)
        # Registered in the authors' order, so state-dict key order matches theirs too.
        in_cond = 3 + (coeff_maps if use_coeff else 0)
        self.CondNet = nn.Sequential(
            nn.Conv2d(in_cond, cond_hidden, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(cond_hidden, cond_hidden, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(cond_hidden, cond_hidden, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(cond_hidden, cond_hidden, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(cond_hidden, cond_channels, 1),
        )
        if use_coeff:
            self.coeff_transform = CoeffTransform(coeff_dim, coeff_maps, hr_size // scale,
                                                  coeff_hidden)

    def forward(self, lr: Tensor | list[Tensor] | tuple[Tensor, ...],
                render: Tensor | None = None, coeff: Tensor | None = None) -> Tensor:
        """(N,3,h,w) LR face + (N,3,h,w) render [+ (N, coeff_dim)] -> (N,3,h*scale,w*scale).

        ``forward([lr, render])`` (the authors' call) works too.
        """
        if isinstance(lr, (list, tuple)):
            if render is not None or coeff is not None or not 2 <= len(lr) <= 3:
                raise ValueError("SAM3D takes forward(lr, render[, coeff]) or forward([lr, render[, coeff]])")
            lr, render, coeff = (*lr, None)[:3]
        prior = self._condition_input(lr, render, coeff)

        cond = self.CondNet(prior)
        feat = self.conv0(lr)
        x = feat
        n = self.n_sft_blocks
        for block in self.sft_branch[:n + 1]:  # SFT residual blocks, then the last SFT layer
            x = block(x, cond)
        for block in self.sft_branch[n + 1:]:
            x = block(x)
        out = self.HR_branch(feat + x)
        if self.residual:
            out = out + F.interpolate(lr, scale_factor=self.scale, mode="bicubic",
                                      align_corners=False)
        return out

    def _condition_input(self, lr: Tensor, render: Tensor | None, coeff: Tensor | None) -> Tensor:
        """Validate the inputs; return CondNet's input (render [+ coefficient maps])."""
        _check_image("lr", lr)
        n, _, h, w = lr.shape
        if self.hr_size is not None:
            side = self.hr_size // self.scale
            if (h, w) != (side, side):
                raise ValueError(
                    f"SAM3D x{self.scale} expects {side}x{side} LR input ({self.hr_size}/{self.scale}),"
                    f" got {h}x{w}")
        if render is None:
            if self.use_prior:
                raise ValueError("SAM3D needs a render (the 3D prior); pass forward(lr, render)")
        else:
            _check_image("render", render)
            if render.shape != lr.shape or render.dtype != lr.dtype:
                raise ValueError(f"render {tuple(render.shape)} {render.dtype} must match lr "
                                 f"{tuple(lr.shape)} {lr.dtype}")
        if not self.use_coeff:
            if coeff is not None:
                raise ValueError("coefficients given, but this SAM3D was built with use_coeff=False")
        elif coeff is None:
            if self.use_prior:
                raise ValueError("SAM3D(use_coeff=True) needs coefficients: forward(lr, render, coeff)")
        elif coeff.ndim != 2 or coeff.shape != (n, self.coeff_dim) or not coeff.is_floating_point():
            raise ValueError(f"coeff must be a float (N={n}, {self.coeff_dim}) tensor, got "
                             f"{tuple(coeff.shape)} {coeff.dtype}")

        if not self.use_prior:  # the ablation: a constant prior, same compute
            render = torch.zeros_like(lr)
            coeff = lr.new_zeros(n, self.coeff_dim) if self.use_coeff else None
        if not self.use_coeff:
            return render
        return torch.cat([render, self.coeff_transform(coeff.to(lr.dtype))], dim=1)


def _check_image(name: str, x: Tensor) -> None:
    if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] != 3 or not x.is_floating_point():
        got = f"{tuple(x.shape)} {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a float (N, 3, H, W) RGB tensor in [0, 1], got {got}")


def authors_state_dict_to_sam3d(state_dict: Mapping[str, Tensor], net: SAM3D) -> dict[str, Tensor]:
    """Adapt an authors' SAM3D state dict to ``net``: drop ``module.``; fill a coefficient path.

    For ``use_coeff=True`` the coefficient maps get zero input weights in ``CondNet.0`` and
    ``coeff_transform`` keeps its zero-output init, so the model's output equals the authors'.
    Keys are not checked here; loading strictly does that.

    Example::

        >>> coeff_net = SAM3D(scale=8, use_coeff=True)
        >>> sd = authors_state_dict_to_sam3d(SAM3D(scale=8).state_dict(), coeff_net)
        >>> coeff_net.load_state_dict(sd, strict=True)
        <All keys matched successfully>
    """
    sd = {k.removeprefix("module."): v for k, v in state_dict.items()}
    if net.use_coeff:
        target = net.state_dict()
        w = sd.get("CondNet.0.weight")
        if isinstance(w, Tensor) and w.ndim == 4 and w.shape[1] == 3:
            extra = w.new_zeros(w.shape[0], target["CondNet.0.weight"].shape[1] - 3, *w.shape[2:])
            sd["CondNet.0.weight"] = torch.cat([w, extra], dim=1)
        for k, v in target.items():
            if k.startswith("coeff_transform."):
                sd.setdefault(k, v)
    return sd


def load_sam3d_authors(path: str | Path, scale: int, **kwargs) -> SAM3D:
    """Load the authors' released SAM3D checkpoint (a raw state dict) into ``SAM3D(scale)``.

    x4 and x8 files have the same keys and shapes, so ``scale`` must be told. ``kwargs`` go
    to SAM3D (e.g. ``**VARIANTS["sam3d-coeff"]``). Every key and shape must match (missing
    ``num_batches_tracked`` excepted), else a ``CheckpointError`` (a ValueError) names them.
    Returns the model in eval mode.

    Example::

        >>> from fsr.assets import resolve
        >>> net = load_sam3d_authors(resolve("sam3d-x8-authors"), scale=8)  # doctest: +SKIP
    """
    from fsr.archs.checkpoint import load_checkpoint, read_state_dict

    net = SAM3D(scale=scale, **kwargs)
    state, _, _ = read_state_dict(path)  # torch.load(weights_only=True), clear errors
    load_checkpoint(net, authors_state_dict_to_sam3d(state, net), strict=True)
    return net.eval()
