"""Self-supervised training terms for the MMRB + StyleGAN2 restorer (docs/mmrb.md).

- :func:`redegradation_loss`: degrade the restored face with the *same* sampled degradation
  that produced the input and ask it to match the input. A restoration that invents content
  the input cannot support ("excessive fantasy") does not degrade back to the input. The term
  needs no ground truth, only the degradation's parameters: known for synthetic pairs, to be
  estimated for real LQ faces.
- :func:`feature_stats_loss`: match per-channel mean and standard deviation of features
  (e.g. VGG or discriminator features) of the output and of the target: a cheap distribution
  term that pulls the output statistics towards the target's.
- :func:`make_degradation` builds the differentiable degradation callable from sampled
  parameters (blur kernel, scale, noise, optional JPEG through :func:`straight_through`).
  It works on [0, 1] images like ``fsr.data.degradations``; feed it ``(restored + 1) / 2``
  when the network works in [-1, 1].

Example::

    degrade = make_degradation(kernel, scale=4.0, noise=noise_lr, out_size=128)
    lq = degrade(gt)
    restored = net(lq * 2 - 1)[0]
    self_supervised_loss((restored + 1) / 2, lq, degrade)['total'].backward()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = ["Degradation", "SelfSupError", "feature_stats_loss", "make_degradation",
           "redegradation_loss", "self_supervised_loss", "straight_through"]

Degradation = Callable[[Tensor], Tensor]


class SelfSupError(ValueError):
    """Inputs of a self-supervised loss that do not fit together."""


def _check_pair(a: Tensor, b: Tensor, what: str) -> None:
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)) or a.shape != b.shape:
        sa = tuple(a.shape) if isinstance(a, Tensor) else type(a).__name__
        sb = tuple(b.shape) if isinstance(b, Tensor) else type(b).__name__
        raise SelfSupError(f"{what}: shapes differ, {sa} vs {sb}")


def redegradation_loss(restored: Tensor, lq: Tensor, degrade: Degradation,
                       criterion: str = "l1") -> Tensor:
    """Mean ``criterion`` distance between ``degrade(restored)`` and ``lq``.

    ``degrade`` must replay the exact degradation (same kernel, scale, noise, JPEG quality)
    that turned the ground truth into ``lq``; gradients flow into ``restored`` through it.
    It is 0 when ``restored`` is the ground truth and ``degrade`` is deterministic.

    >>> gt = torch.rand(1, 3, 16, 16)
    >>> blur = make_degradation(torch.ones(3, 3) / 9, scale=1.0)
    >>> redegradation_loss(gt, blur(gt), blur).item()
    0.0
    """
    if criterion not in ("l1", "l2", "charbonnier"):
        raise SelfSupError(f"criterion must be 'l1', 'l2' or 'charbonnier', got {criterion!r}")
    redegraded = degrade(restored)
    _check_pair(redegraded, lq, "degrade(restored) vs lq")
    diff = redegraded - lq
    if criterion == "l1":
        return diff.abs().mean()
    if criterion == "l2":
        return diff.pow(2).mean()
    return torch.sqrt(diff.pow(2) + 1e-6).mean() - 1e-3  # 0 at diff == 0


def _channel_stats(feat: Tensor, eps: float = 1e-6) -> tuple[Tensor, Tensor]:
    flat = feat.flatten(2)  # (b, c, h*w)
    return flat.mean(-1), (flat.var(-1, unbiased=False) + eps).sqrt()


def feature_stats_loss(feats: Tensor | Sequence[Tensor],
                       target_feats: Tensor | Sequence[Tensor]) -> Tensor:
    """Sum over layers of L1(mean) + L1(std) of per-channel feature statistics.

    Takes one (b, c, h, w) tensor or a list of them (e.g. several VGG layers); the target
    is usually detached. 0 when the statistics agree.
    """
    feats = [feats] if isinstance(feats, Tensor) else list(feats)
    target_feats = [target_feats] if isinstance(target_feats, Tensor) else list(target_feats)
    if not feats or len(feats) != len(target_feats):
        raise SelfSupError(f"need the same number (>0) of feature maps, got {len(feats)} "
                           f"and {len(target_feats)}")
    total = feats[0].new_zeros(())
    for f, t in zip(feats, target_feats, strict=True):
        if f.ndim != 4 or f.shape[:2] != t.shape[:2] or t.ndim != 4:
            raise SelfSupError(f"feature maps must be (b, c, h, w) with equal b, c, got "
                               f"{tuple(f.shape)} and {tuple(t.shape)}")
        (fm, fs), (tm, ts) = _channel_stats(f), _channel_stats(t)
        total = total + F.l1_loss(fm, tm) + F.l1_loss(fs, ts)
    return total


def self_supervised_loss(restored: Tensor, lq: Tensor, degrade: Degradation,
                         feats: Sequence[Tensor] | Tensor | None = None,
                         target_feats: Sequence[Tensor] | Tensor | None = None,
                         redeg_weight: float = 1.0, feat_weight: float = 0.1) -> dict[str, Tensor]:
    """Weighted sum of the two terms; returns ``{'redeg', 'feat' (if given), 'total'}``."""
    out = {"redeg": redegradation_loss(restored, lq, degrade)}
    total = redeg_weight * out["redeg"]
    if (feats is None) != (target_feats is None):
        raise SelfSupError("give both feats and target_feats, or neither")
    if feats is not None:
        out["feat"] = feature_stats_loss(feats, target_feats)
        total = total + feat_weight * out["feat"]
    out["total"] = total
    return out


def straight_through(fn: Degradation) -> Degradation:
    """Wrap a shape-preserving, non-differentiable step (e.g. JPEG) so gradients pass as identity.

    >>> jpeg = straight_through(lambda x: torch.round(x * 31) / 31)   # any non-diff step
    """
    def wrapped(x: Tensor) -> Tensor:
        y = fn(x.detach())
        _check_pair(y, x, "straight_through(fn) must keep the shape")
        return x + (y.to(x) - x).detach()

    return wrapped


def make_degradation(kernel: Tensor, scale: float, noise: Tensor | None = None,
                     jpeg: Degradation | None = None, out_size: int | None = None,
                     clip: bool = True) -> Degradation:
    """Differentiable ``y = up(jpeg(clip(down_scale(x * kernel) + noise)))``, fixed parameters.

    The GFPGAN model of ``fsr.data.degradations.blind`` with its sampled parameters passed in
    (borders: reflect-101 here vs OpenCV's reflect there, which only touches k//2 border pixels).

    Args:
        kernel: blur kernel (k, k), or (b, k, k) for one per sample; odd k.
        scale: down-sampling factor r > 0: the image is resized bilinearly (as
            cv2.INTER_LINEAR) to round(size / r); r < 1 up-samples (GFPGAN's r is in [0.8, 8]).
        noise: additive noise at the down-sampled size, broadcastable to it (sampled once,
            so every call adds the same noise), or None.
        jpeg: a shape-preserving step on the LR image, e.g. ``straight_through(real_jpeg)``.
        out_size: resize the result back to this size (blind restoration works at out_size).
        clip: clamp to [0, 1] after the noise and at the end, as the data pipeline does.
    """
    if kernel.ndim not in (2, 3) or kernel.shape[-1] != kernel.shape[-2] or kernel.shape[-1] % 2 == 0:
        raise SelfSupError(f"kernel must be (k, k) or (b, k, k) with odd k, got {tuple(kernel.shape)}")
    if not scale > 0:
        raise SelfSupError(f"scale must be > 0, got {scale}")
    k = kernel.shape[-1]

    def degrade(x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise SelfSupError(f"degrade expects (b, c, h, w), got {tuple(x.shape)}")
        b, c, h, w = x.shape
        weight = kernel.to(x)
        if weight.ndim == 2:
            weight = weight.expand(b, k, k)
        elif weight.shape[0] != b:
            raise SelfSupError(f"{weight.shape[0]} kernels for a batch of {b}")
        weight = weight.repeat_interleave(c, 0).unsqueeze(1)  # (b*c, 1, k, k)
        y = F.pad(x.reshape(1, b * c, h, w), [k // 2] * 4, mode="reflect")
        y = F.conv2d(y, weight, groups=b * c).view(b, c, h, w)
        size = (max(1, round(h / scale)), max(1, round(w / scale)))
        if size != (h, w):
            y = F.interpolate(y, size=size, mode="bilinear", align_corners=False)
        if noise is not None:
            y = y + noise.to(y)
        if clip:
            y = y.clamp(0, 1)
        if jpeg is not None:
            y = jpeg(y)
        if out_size is not None and y.shape[-2:] != (out_size, out_size):
            y = F.interpolate(y, size=(out_size, out_size), mode="bilinear", align_corners=False)
        return y.clamp(0, 1) if clip else y

    return degrade
