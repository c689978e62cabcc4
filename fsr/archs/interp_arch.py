"""Interpolation baselines: ``Bicubic`` and ``Lanczos`` (no weights), registered in ARCH_REGISTRY.

Both map (N, C, h, w) in [0, 1] to (N, C, round(h*s), round(w*s)) clamped to [0, 1], and are
differentiable. ``scale`` < 1 downsamples (with antialiasing), which is how LR inputs are made.

- ``Bicubic``: ``torch.nn.functional.interpolate(mode='bicubic', align_corners=False)``, the
  resize the SR field trains and evaluates with. Upsampling uses Keys' cubic with a=-0.75
  (equal to OpenCV ``INTER_CUBIC``); downsampling adds ``antialias=True``, which in torch is
  PIL's antialiased bicubic (a=-0.5, kernel widened by the scale).
- ``Lanczos``: an exact torch port of PIL's ``Image.LANCZOS`` (Lanczos-3, antialiased when
  downsampling, weights renormalised at the borders), applied as two matrix products. Chosen
  over OpenCV's ``INTER_LANCZOS4`` because it is the Lanczos of PIL/torchvision pipelines and
  needs no uint8 round trip; it equals PIL on float ('F' mode) images to ~1e-6.

Example::

    >>> net = ARCH_REGISTRY.get('Bicubic')(scale=4)
    >>> net(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 3, 128, 128])
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from basicsr.utils.registry import ARCH_REGISTRY
from torch import Tensor, nn

__all__ = ["Bicubic", "Lanczos", "resize_bicubic", "resize_lanczos", "lanczos_weights"]


def _check_input(x: Tensor) -> None:
    if not isinstance(x, Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"expected an image batch of shape (N, C, H, W), got {shape}")
    if not x.is_floating_point():
        raise ValueError(f"expected a float tensor in [0, 1], got dtype {x.dtype}")


def _out_size(x: Tensor, scale: float | None, size: tuple[int, int] | None) -> tuple[int, int]:
    if (scale is None) == (size is None):
        raise ValueError("give exactly one of scale or size")
    if size is not None:
        h, w = int(size[0]), int(size[1])
    else:
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        h, w = round(x.shape[-2] * scale), round(x.shape[-1] * scale)
    if h < 1 or w < 1:
        raise ValueError(f"output size must be at least 1x1, got {h}x{w}")
    return h, w


def resize_bicubic(
    x: Tensor, scale: float | None = None, size: tuple[int, int] | None = None
) -> Tensor:
    """Torch bicubic resize of an (N, C, H, W) batch, antialiased when shrinking; not clamped.

    >>> resize_bicubic(torch.rand(1, 3, 128, 128), scale=1 / 4).shape
    torch.Size([1, 3, 32, 32])
    """
    _check_input(x)
    h, w = _out_size(x, scale, size)
    shrink = h < x.shape[-2] or w < x.shape[-1]
    return F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False, antialias=shrink)


def _lanczos3(t: Tensor) -> Tensor:
    # sinc(t) * sinc(t/3) on [-3, 3), zero outside: PIL's lanczos_filter
    return torch.where((t >= -3) & (t < 3), torch.sinc(t) * torch.sinc(t / 3), torch.zeros_like(t))


@lru_cache(maxsize=64)
def _lanczos_weights_f64(in_size: int, out_size: int) -> Tensor:
    scale = in_size / out_size
    filterscale = max(scale, 1.0)  # widen the kernel when shrinking (antialias)
    support = 3.0 * filterscale
    centers = (torch.arange(out_size, dtype=torch.float64) + 0.5) * scale
    # PIL rounds the window ends with (int)(v + 0.5), i.e. truncation toward zero
    lo = torch.trunc(centers - support + 0.5).clamp(min=0)
    hi = torch.trunc(centers + support + 0.5).clamp(max=in_size)
    src = torch.arange(in_size, dtype=torch.float64)
    w = _lanczos3((src[None, :] - centers[:, None] + 0.5) / filterscale)
    w = torch.where((src[None, :] >= lo[:, None]) & (src[None, :] < hi[:, None]), w, 0.0)
    total = w.sum(1, keepdim=True)
    return torch.where(total != 0, w / total, w)


def lanczos_weights(in_size: int, out_size: int, dtype=torch.float32, device=None) -> Tensor:
    """The (out_size, in_size) matrix that resizes one axis like PIL's LANCZOS.

    >>> lanczos_weights(8, 32).sum(1).allclose(torch.ones(32))
    True
    """
    return _lanczos_weights_f64(int(in_size), int(out_size)).to(dtype=dtype, device=device)


def resize_lanczos(
    x: Tensor, scale: float | None = None, size: tuple[int, int] | None = None
) -> Tensor:
    """PIL-exact Lanczos-3 resize of an (N, C, H, W) batch (separable); not clamped.

    >>> resize_lanczos(torch.rand(1, 3, 16, 16), scale=8).shape
    torch.Size([1, 3, 128, 128])
    """
    _check_input(x)
    h, w = _out_size(x, scale, size)
    wh = lanczos_weights(x.shape[-2], h, x.dtype, x.device)
    ww = lanczos_weights(x.shape[-1], w, x.dtype, x.device)
    # PIL resizes width first, then height; the products commute up to rounding
    return wh @ (x @ ww.T)


class _Interp(nn.Module):
    def __init__(self, scale: float = 4) -> None:
        super().__init__()
        if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        self.scale = scale

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


@ARCH_REGISTRY.register()
class Bicubic(_Interp):
    """Torch bicubic up/down-sampling by ``scale``, output clamped to [0, 1].

    >>> Bicubic(scale=8)(torch.rand(1, 3, 16, 16)).shape
    torch.Size([1, 3, 128, 128])
    """

    def forward(self, x: Tensor) -> Tensor:
        return resize_bicubic(x, scale=self.scale).clamp(0, 1)


@ARCH_REGISTRY.register()
class Lanczos(_Interp):
    """PIL-exact Lanczos-3 up/down-sampling by ``scale``, output clamped to [0, 1].

    >>> Lanczos(scale=4)(torch.rand(1, 3, 32, 32)).shape
    torch.Size([1, 3, 128, 128])
    """

    def forward(self, x: Tensor) -> Tensor:
        return resize_lanczos(x, scale=self.scale).clamp(0, 1)
