"""Input checks and conversions shared by the metrics.

Every metric takes RGB images as float tensors ``(N, 3, H, W)`` in ``[0, 1]``; a wrong shape,
dtype or range is one :class:`MetricError` (a ``ValueError``) raised before any computation.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from fsr.metrics.errors import MetricError

# Values a little outside [0, 1] are normal for network outputs (they get clamped, as BasicSR's
# tensor2img does); values far outside mean the caller passed [0, 255] or [-1, 1] images.
RANGE_SLACK = 0.1


def check_images(img: Tensor, name: str = "images", min_size: int = 1) -> Tensor:
    """Validate one batch ``(N, 3, H, W)`` of RGB images in [0, 1] and return it clamped.

    >>> check_images(torch.rand(2, 3, 8, 8)).shape
    torch.Size([2, 3, 8, 8])
    """
    if not isinstance(img, Tensor):
        raise MetricError(f"{name}: expected a torch.Tensor, got {type(img).__name__}")
    if img.ndim != 4 or img.shape[1] != 3:
        raise MetricError(f"{name}: expected shape (N, 3, H, W), got {tuple(img.shape)}")
    if not img.is_floating_point():
        raise MetricError(f"{name}: expected a float tensor in [0, 1], got {img.dtype}")
    if img.shape[0] == 0:
        raise MetricError(f"{name}: empty batch")
    if min(img.shape[2:]) < min_size:
        raise MetricError(f"{name}: images must be at least {min_size}x{min_size}, got "
                          f"{img.shape[2]}x{img.shape[3]}")
    lo, hi = float(img.detach().min()), float(img.detach().max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise MetricError(f"{name}: contains NaN or inf")
    if lo < -RANGE_SLACK or hi > 1 + RANGE_SLACK:
        raise MetricError(f"{name}: expected values in [0, 1], got [{lo:.3g}, {hi:.3g}] "
                          "(divide [0, 255] images by 255; map [-1, 1] with (x + 1) / 2)")
    return img.clamp(0, 1)


def check_pair(pred: Tensor, gt: Tensor, min_size: int = 1) -> tuple[Tensor, Tensor]:
    """Validate a full-reference pair: both :func:`check_images`, same shape."""
    pred = check_images(pred, "pred", min_size)
    gt = check_images(gt, "gt", min_size)
    if pred.shape != gt.shape:
        raise MetricError(f"pred and gt differ in shape: {tuple(pred.shape)} vs {tuple(gt.shape)}")
    return pred, gt.to(pred.device)


def to_uint8_rgb(img: Tensor) -> list[np.ndarray]:
    """``(N, 3, H, W)`` in [0, 1] -> N contiguous ``(H, W, 3)`` uint8 RGB arrays (rounded)."""
    # fsr.imageio.to_uint8's formula, kept in torch: the cast runs on the metric's device and
    # one byte per sample crosses to the host (a half-precision input also rounds as before)
    arr = (img.detach().clamp(0, 1) * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1)
    return [np.ascontiguousarray(a) for a in arr.cpu().numpy()]
