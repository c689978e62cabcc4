"""The "Deg" of face-restoration tables, exactly as VQFR's ``metric_paper/calculate_cos_dist.py``
computes it (PMRF and bfrxlib copy that script): the angle between ArcFace embeddings of the
restored and the ground-truth face.

The reference, line by line, and what fsr does for each step:

* ``cv2.imread(path, 0)``: the saved PNG read as 8-bit grey by OpenCV. fsr rounds the image to
  8 bits, encodes it as a PNG in memory and decodes it with ``cv2.imdecode(...,
  IMREAD_GRAYSCALE)``: the same decoder and grey conversion as the script on a PNG file.
* ``cv2.resize(image, (128, 128), interpolation=cv2.INTER_LINEAR)`` on the uint8 grey image.
* ``(x - 127.5) / 127.5`` in float32, shape ``(1, 128, 128)``.
* ``resnet_face18(use_se=False)`` from ronghuaiyang/arcface-pytorch with ``resnet18_110.pth``
  (asset ``arcface-resnet18-110``; a ``DataParallel`` state dict, ``module.`` keys). Its layout
  is GFPGAN's ``ResNetArcFace`` (:mod:`fsr.metrics.arcface_arch`), in eval mode.
* ``arccos(dot(a, b) / (|a| |b|)) / pi * 180`` in degrees, and pairs under 1 degree are
  *left out of the mean* (the script's ``identical_count``). fsr returns NaN for those pairs,
  so the benchmark's finite mean is the script's "Result dist"; ``last_identical`` counts them
  and :func:`deg_mean` is the script's summary for a plain array.

    metric = create_metric('identity-deg')      # needs resnet18_110.pth (see docs/metrics.md)
    metric(pred, gt)                            # (N,) float64 degrees, NaN under 1 degree
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import torch
from torch import Tensor, nn

from fsr.metrics.arcface_arch import ResNetArcFace
from fsr.metrics.common import check_pair, to_uint8_rgb

DEG_SIZE = 128
IDENTICAL_DEGREES = 1.0  # the script's ``if dist < 1``: such pairs are not averaged


def load_resnet_face18(weights: str | os.PathLike | None = None) -> ResNetArcFace:
    """arcface-pytorch's ``resnet_face18(use_se=False)`` with ``resnet18_110.pth`` (default:
    ``resolve('arcface-resnet18-110')``), eval mode. Raw, ``module.`` and ``params`` layouts load
    (:func:`fsr.archs.checkpoint.load_checkpoint`, strict)."""
    from fsr.archs.checkpoint import load_checkpoint

    if weights is None:
        from fsr.assets import resolve

        weights = resolve("arcface-resnet18-110")
    net = ResNetArcFace(layers=(2, 2, 2, 2), use_se=False)
    load_checkpoint(net, weights, strict=True)
    return net.eval().requires_grad_(False)


def vqfr_grey_input(images: list[np.ndarray]) -> Tensor:
    """uint8 RGB ``(H, W, 3)`` arrays -> the script's ``(N, 1, 128, 128)`` float32 input.

    >>> vqfr_grey_input([np.full((64, 64, 3), 255, np.uint8)]).unique().tolist()
    [1.0]
    """
    out = []
    for rgb in images:
        ok, png = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]),
                               [cv2.IMWRITE_PNG_COMPRESSION, 0])
        grey = cv2.imdecode(png, cv2.IMREAD_GRAYSCALE)
        grey = cv2.resize(grey, (DEG_SIZE, DEG_SIZE), interpolation=cv2.INTER_LINEAR)
        x = grey[np.newaxis].astype(np.float32)
        x -= 127.5
        x /= 127.5
        out.append(x)
    return torch.from_numpy(np.stack(out))


def angle_degrees(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise ``arccos(cos(a, b))`` in degrees, as the script's ``cosin_metric`` + ``arccos``
    (float32 embeddings, float64 arithmetic; clipped so rounding cannot give NaN).

    >>> angle_degrees(np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]])).round(6).tolist()
    [90.0]
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def deg_mean(degrees) -> tuple[float, int]:
    """The script's summary: mean over pairs at or above 1 degree, and how many were under.

    >>> deg_mean([0.5, 30.0, 40.0])
    (35.0, 1)
    """
    vals = np.asarray(degrees, np.float64).ravel()
    identical = vals < IDENTICAL_DEGREES
    kept = vals[~identical & np.isfinite(vals)]
    return (float(kept.mean()) if kept.size else float("nan")), int(identical.sum())


class VQFRDeg(nn.Module):
    """``(pred, gt) -> (N,)`` float64: VQFR's Deg per pair; NaN where under 1 degree.

    Args:
        weights: ``resnet18_110.pth`` (default: the ``arcface-resnet18-110`` asset).
        keep_identical: return the angle of pairs under 1 degree too (not the script's mean).
    """

    def __init__(self, weights: str | os.PathLike | None = None,
                 keep_identical: bool = False) -> None:
        super().__init__()
        self.net = load_resnet_face18(weights)
        self.keep_identical = keep_identical
        self.model_name = "arcface-resnet18-110"
        self.statistic = "degrees"  # what identity-floor tables compute from embed()
        self.last_identical = 0

    def embed(self, img: Tensor) -> Tensor:
        """``(N, 512)`` float32 embeddings of RGB ``(N, 3, H, W)`` in [0, 1]."""
        p = next(self.net.parameters())
        with torch.no_grad():
            return self.net(vqfr_grey_input(to_uint8_rgb(img)).to(p))

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        pred, gt = check_pair(pred, gt, min_size=16)
        both = self.embed(torch.cat([gt, pred])).cpu().numpy()
        deg = angle_degrees(both[len(gt):], both[: len(gt)])
        identical = deg < IDENTICAL_DEGREES
        self.last_identical = int(identical.sum())
        if not self.keep_identical:
            deg = np.where(identical, np.nan, deg)
        return torch.from_numpy(deg)

    def extra_repr(self) -> str:
        return f"model_name={self.model_name!r}, keep_identical={self.keep_identical}"


__all__ = ["IDENTICAL_DEGREES", "VQFRDeg", "angle_degrees", "deg_mean", "load_resnet_face18",
           "vqfr_grey_input"]
