"""The metric table: the single source of truth for every metric fsr reports.

One row per name: its mode ('FR' full-reference (pred, gt) -> (N,), 'NR' no-reference
img -> (N,), 'set' feature sets -> float), whether lower is better, its value range, the
``fsr.assets`` names its weights come from, a description, and the class that implements it
(``"module:Class"``, imported only when the metric is built) with fixed keyword arguments.
Importing this module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

INF = float("inf")


@dataclass(frozen=True)
class MetricSpec:
    """One metric. ``kwargs`` are passed to ``factory``; callers may override them."""

    name: str
    mode: Literal["FR", "NR", "set"]
    lower_better: bool
    value_range: tuple[float, float]
    assets: tuple[str, ...]
    description: str
    factory: str
    kwargs: dict[str, Any] = field(default_factory=dict)


_PSNR_SSIM = ("BasicSR calculate_psnr/calculate_ssim conventions: RGB on [0, 255], crop_border 0, "
              "float64")
_ID = ("ArcFace ResNet-18 (GFPGAN's arcface_resnet18.pth, grey 128x128 whole crop) when "
       "'arcface-resnet18' resolves, else dlib's ResNet (HOG box + 5-point alignment); the metric's "
       ".model_name says which, never compare across models")

_ROWS = [
    MetricSpec("psnr", "FR", False, (0.0, INF), (),
               f"PSNR in dB, {_PSNR_SSIM}; identical images give +inf (max_db=... clips)",
               "fsr.metrics.psnr_ssim:PSNR"),
    MetricSpec("psnr-y", "FR", False, (0.0, INF), (),
               f"PSNR in dB on the Y of BT.601 YCbCr (16..235), {_PSNR_SSIM}",
               "fsr.metrics.psnr_ssim:PSNR", {"test_y_channel": True}),
    MetricSpec("ssim", "FR", False, (-1.0, 1.0), (),
               f"SSIM, 11x11 Gaussian window sigma 1.5, 'valid', per channel then mean; {_PSNR_SSIM}",
               "fsr.metrics.psnr_ssim:SSIM"),
    MetricSpec("ssim-y", "FR", False, (-1.0, 1.0), (),
               f"SSIM on the Y of BT.601 YCbCr; {_PSNR_SSIM}",
               "fsr.metrics.psnr_ssim:SSIM", {"test_y_channel": True}),
    MetricSpec("lpips", "FR", True, (0.0, INF), ("lpips-alex",),
               "LPIPS v0.1, AlexNet trunk (pyiqa's default); heads from the lpips package",
               "fsr.metrics.lpips_model:LPIPS", {"net": "alex"}),
    MetricSpec("lpips-vgg", "FR", True, (0.0, INF), ("lpips-vgg",),
               "LPIPS v0.1, VGG16 trunk (what most face-restoration papers report)",
               "fsr.metrics.lpips_model:LPIPS", {"net": "vgg"}),
    MetricSpec("identity", "FR", False, (-1.0, 1.0),
               ("arcface-resnet18", "dlib-resnet", "dlib-sp5"),
               f"cosine similarity of face embeddings of pred and gt: {_ID}",
               "fsr.metrics.identity:IdentitySimilarity"),
    MetricSpec("identity-deg", "FR", True, (0.0, 180.0),
               ("arcface-resnet18", "dlib-resnet", "dlib-sp5"),
               f"angle in degrees between face embeddings ('Deg'): {_ID}",
               "fsr.metrics.identity:IdentitySimilarity", {"degrees": True}),
    MetricSpec("niqe", "NR", True, (0.0, INF), (),
               "NIQE via BasicSR calculate_niqe (its bundled pristine params; Y channel, "
               "96x96 blocks); for real-LQ sets without ground truth",
               "fsr.metrics.niqe:NIQE"),
    MetricSpec("fid", "set", True, (0.0, INF), ("fid-inception",),
               "FID on TF-FID Inception-v3 pool features (299x299 TF bilinear, (x-128)/128); "
               "pytorch-fid/BasicSR sqrtm route; reference stats cached as .npz",
               "fsr.metrics.fid:FID"),
    MetricSpec("kid", "set", True, (-INF, INF), ("fid-inception",),
               "KID: unbiased MMD^2, cubic polynomial kernel, mean over 100 subsets of <= 1000 "
               "(StyleGAN2-ADA / clean-fid); unbiased, so small negatives happen",
               "fsr.metrics.fid:KID"),
]

METRICS: dict[str, MetricSpec] = {row.name: row for row in _ROWS}
