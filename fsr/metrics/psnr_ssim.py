"""PSNR and SSIM with BasicSR's conventions, batched in torch.

Conventions (``basicsr.metrics.psnr_ssim.calculate_psnr`` / ``calculate_ssim``): RGB scaled to
[0, 255], ``crop_border`` pixels dropped on each side (default 0), float64 arithmetic; SSIM
uses an 11x11 Gaussian window (sigma 1.5) in 'valid' mode on each channel, then the mean over
channels. ``test_y_channel=True`` uses the Y of BT.601 YCbCr (16..235) instead, like BasicSR.
Identical images give PSNR ``+inf`` (as BasicSR); pass ``max_db`` to clip it.

    >>> pred, gt = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    >>> psnr(pred, gt).shape, ssim(pred, gt, test_y_channel=True).dtype
    (torch.Size([2]), torch.float64)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fsr.metrics.common import MetricError, check_pair

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
# RGB in [0, 1] -> Y in [16, 235] (BT.601, the MATLAB rgb2ycbcr that BasicSR follows).
_Y_WEIGHTS = (65.481, 128.553, 24.966)


def rgb_to_y(img: Tensor) -> Tensor:
    """``(N, 3, H, W)`` RGB in [0, 1] -> ``(N, 1, H, W)`` Y on the [0, 255] scale (16..235)."""
    w = img.new_tensor(_Y_WEIGHTS).view(1, 3, 1, 1)
    return (img * w).sum(dim=1, keepdim=True) + 16.0


def _prepare(pred: Tensor, gt: Tensor, crop_border: int, test_y_channel: bool,
             min_size: int) -> tuple[Tensor, Tensor]:
    if crop_border < 0:
        raise MetricError(f"crop_border must be >= 0, got {crop_border}")
    pred, gt = check_pair(pred, gt)
    h, w = pred.shape[2:]
    if min(h, w) - 2 * crop_border < min_size:
        raise MetricError(f"need at least {min_size}x{min_size} pixels after crop_border="
                          f"{crop_border}, got {h}x{w} images")
    pred, gt = pred.to(torch.float64), gt.to(torch.float64)
    if crop_border:
        c = crop_border
        pred, gt = pred[..., c:-c, c:-c], gt[..., c:-c, c:-c]
    if test_y_channel:
        return rgb_to_y(pred), rgb_to_y(gt)
    return pred * 255.0, gt * 255.0


def psnr(pred: Tensor, gt: Tensor, crop_border: int = 0, test_y_channel: bool = False,
         max_db: float | None = None) -> Tensor:
    """Per-image PSNR in dB, ``(N,)`` float64; BasicSR's ``calculate_psnr`` on each pair.

    >>> x = torch.full((1, 3, 4, 4), 0.5)
    >>> psnr(x, x).item(), psnr(x, x, max_db=100.0).item()
    (inf, 100.0)
    """
    a, b = _prepare(pred, gt, crop_border, test_y_channel, 1)
    mse = ((a - b) ** 2).mean(dim=(1, 2, 3))
    # 255^2 / 0 -> inf without a warning; log10(inf) = inf, as BasicSR returns.
    out = 10.0 * torch.log10((255.0 * 255.0) / mse)
    if max_db is not None:
        out = out.clamp(max=max_db)
    return out


def gaussian_kernel(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA,
                    dtype: torch.dtype = torch.float64) -> Tensor:
    """``cv2.getGaussianKernel(size, sigma)`` as a 1-D tensor (sums to 1)."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return (k / k.sum()).to(dtype)


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA,
                    dtype: torch.dtype = torch.float64) -> Tensor:
    """BasicSR's 2-D SSIM window: the outer product of :func:`gaussian_kernel` with itself."""
    k = gaussian_kernel(size, sigma)
    return torch.outer(k, k).to(dtype)


def _gaussian_valid(x: Tensor, taps: list[float]) -> Tensor:
    """Separable Gaussian over the last two dims, 'valid' mode: a weighted sum of shifted
    slices, rows then columns. Float64 ``F.conv2d`` has no fast CPU kernel (im2col + GEMM);
    this is faster and gives the same values to ~1e-16."""
    n = len(taps)
    h, w = x.shape[-2] - n + 1, x.shape[-1] - n + 1
    rows = x[..., :h, :] * taps[0]
    for i in range(1, n):
        rows.add_(x[..., i:i + h, :], alpha=taps[i])
    out = rows[..., :w] * taps[0]
    for i in range(1, n):
        out.add_(rows[..., i:i + w], alpha=taps[i])
    return out


def _ssim_batch(a: Tensor, b: Tensor, taps: list[float]) -> Tensor:
    """Mean SSIM of ``(N, C, H, W)`` pairs on the [0, 255] scale, ``(N,)`` float64."""
    # the five local means in one pass, every channel of the stack as its own image
    mu_a, mu_b, e_aa, e_bb, e_ab = _gaussian_valid(
        torch.cat([a, b, a * a, b * b, a * b], dim=1), taps).split(a.shape[1], dim=1)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    var_a, var_b, cov = e_aa - mu_a**2, e_bb - mu_b**2, e_ab - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    # mean over channels of per-channel means == mean over everything (equal sizes)
    return ssim_map.mean(dim=(1, 2, 3))


def ssim(pred: Tensor, gt: Tensor, crop_border: int = 0, test_y_channel: bool = False) -> Tensor:
    """Per-image SSIM, ``(N,)`` float64; BasicSR's ``calculate_ssim`` on each pair.

    Images must be at least 11x11 after cropping (the window runs in 'valid' mode). The
    Gaussian is applied separably (rows, then columns): BasicSR's 2-D window's 'valid' result
    to ~1e-15.
    """
    a, b = _prepare(pred, gt, crop_border, test_y_channel, SSIM_WINDOW)
    taps = gaussian_kernel().tolist()
    if a.device.type != "cpu":
        return _ssim_batch(a, b, taps)
    # on a CPU one image at a time: its 15 float64 maps (~2 MB at 128 px) stay in cache, a
    # batch's do not (measured on 2 cores at batch 16: 26 ms/img batched, 5 ms/img this way)
    return torch.cat([_ssim_batch(a[i:i + 1], b[i:i + 1], taps) for i in range(len(a))])


class PSNR(nn.Module):
    """``PSNR(test_y_channel=False, crop_border=0, max_db=None)(pred, gt) -> (N,)`` dB."""

    def __init__(self, crop_border: int = 0, test_y_channel: bool = False,
                 max_db: float | None = None) -> None:
        super().__init__()
        self.crop_border, self.test_y_channel, self.max_db = crop_border, test_y_channel, max_db

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        return psnr(pred, gt, self.crop_border, self.test_y_channel, self.max_db)

    def extra_repr(self) -> str:
        return f"crop_border={self.crop_border}, test_y_channel={self.test_y_channel}"


class SSIM(nn.Module):
    """``SSIM(test_y_channel=False, crop_border=0)(pred, gt) -> (N,)``."""

    def __init__(self, crop_border: int = 0, test_y_channel: bool = False) -> None:
        super().__init__()
        self.crop_border, self.test_y_channel = crop_border, test_y_channel

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        return ssim(pred, gt, self.crop_border, self.test_y_channel)

    def extra_repr(self) -> str:
        return f"crop_border={self.crop_border}, test_y_channel={self.test_y_channel}"


__all__ = ["PSNR", "SSIM", "gaussian_kernel", "gaussian_window", "psnr", "rgb_to_y", "ssim"]
