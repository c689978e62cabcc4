"""Landmark distance (LMD) between restored and ground-truth faces, in pixels of a 512 frame.

Two rows, never confused:

* ``lmd`` (paper): VQFR's ``metric_paper/calculate_landmark_distance.py``. facexlib's
  ``awing_fan`` (AWing FAN, 4 hourglasses, 98 WFLW points; ``alignment_WFLW_4HG.pth``, asset
  ``awing-fan-wflw``) on each whole image: ``cv2.resize`` to 256x256 (bilinear), RGB / 255,
  heatmaps of the last stack, argmax with the quarter-pixel shift toward the larger neighbour,
  times ``W / 64``; then the mean over the 98 points of the Euclidean distance, no
  normalisation. The network is facexlib's own ``FAN`` class; the heatmap decoding is written
  here (facexlib's uses ``np.float``, gone from numpy), keeping the reference's edge rule.
* ``lmd-dlib68`` (fsr's offline stand-in, not the papers' number): dlib's 68-point predictor
  (asset ``dlib-sp68``, iBUG 300-W: research use) in dlib's HOG face box (the partner's box when
  HOG misses, else the whole image), the same mean Euclidean distance over the 68 points.

Both scale the distance to a 512-pixel frame (``* 512 / W``): at 512x512, the size VQFR and
the CelebA-Test protocol score at, that is the script's number; on smaller crops it is the
distance the same error would have at 512.

    lmd = create_metric('lmd')          # needs alignment_WFLW_4HG.pth (docs/metrics.md)
    lmd(pred, gt)                       # (N,) float64 pixels at 512
"""

from __future__ import annotations

import os
import pickle

import cv2
import numpy as np
import torch
from torch import Tensor, nn

from fsr.metrics.common import check_pair, to_uint8_rgb

FRAME = 512  # distances are reported in pixels of a FRAME x FRAME image
AWING_INPUT = 256
AWING_HEATMAP = 64


def decode_awing_heatmaps(heatmaps: np.ndarray) -> np.ndarray:
    """``(B, N, 64, 64)`` heatmaps -> ``(B, N, 2)`` (x, y) in heatmap units, as facexlib's and
    VQFR's ``calculate_points``: argmax, +-0.25 toward the larger horizontal / vertical
    neighbour, +0.5. Their edge rule is kept: when any point of the batch sits in the last
    (first) heatmap row, every point's lower (upper) neighbour is read at flat index 4095 (0).

    >>> h = np.zeros((1, 1, 64, 64)); h[0, 0, 10, 20] = 1; h[0, 0, 10, 21] = 0.5
    >>> decode_awing_heatmaps(h).tolist()
    [[[20.75, 10.5]]]
    """
    b, n, h, w = heatmaps.shape
    flat = heatmaps.reshape(b * n, h * w)
    idx = flat.argmax(axis=1)
    rows = np.arange(b * n)
    preds = np.stack((idx % w, idx // w), axis=1).astype(np.float64)
    x_up = flat[rows, np.minimum(idx + 1, h * w - 1)]
    x_down = flat[rows, idx - 1]  # idx 0 wraps to the last element, as numpy's -1 does there
    y_up = flat[rows, h * w - 1] if ((idx + w) >= h * w).any() else flat[rows, idx + w]
    y_down = flat[rows, 0] if ((idx - w) <= 0).any() else flat[rows, idx - w]
    preds += 0.25 * np.sign(np.stack((x_up - x_down, y_up - y_down), axis=1))
    return (preds + 0.5).reshape(b, n, 2)


def mean_point_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(B, N, 2), (B, N, 2) -> (B,)``: mean over points of the Euclidean distance."""
    return np.sqrt(((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2).sum(-1)).mean(-1)


def load_awing_fan(weights: str | os.PathLike | None = None) -> nn.Module:
    """facexlib's ``FAN(num_modules=4, num_landmarks=98)`` with ``alignment_WFLW_4HG.pth``
    (``{'state_dict': ...}``, strict; default ``resolve('awing-fan-wflw')``), eval mode."""
    from facexlib.alignment.awing_arch import FAN

    from fsr.metrics.common import MetricError

    if weights is None:
        from fsr.assets import resolve

        weights = resolve("awing-fan-wflw")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError) as exc:
        raise MetricError(f"{weights}: not a torch checkpoint of tensors "
                          f"({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})"
                          ) from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    net = FAN(num_modules=4, num_landmarks=98, device="cpu")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise MetricError(f"{weights}: not an AWing FAN (4 HG, 98 points) state dict "
                          f"({str(exc).splitlines()[0][:160]})") from None
    return net.eval().requires_grad_(False)


class AWingLandmarks(nn.Module):
    """98 WFLW points of whole face images, as VQFR's ``FAN.get_landmarks`` (batched)."""

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.net = load_awing_fan(weights)

    def forward(self, images: list[np.ndarray]) -> np.ndarray:
        """uint8 RGB ``(H, W, 3)`` arrays -> ``(B, 98, 2)`` (x, y) in each image's pixels."""
        inp = np.stack([cv2.resize(im, (AWING_INPUT, AWING_INPUT)) for im in images])
        x = torch.from_numpy(inp).permute(0, 3, 1, 2).float().div_(255.0)
        p = next(self.net.parameters())
        with torch.no_grad():
            heat = self.net(x.to(p))[0][-1][:, :-1].float().cpu().numpy()
        pts = np.concatenate([decode_awing_heatmaps(heat[i:i + 1]) for i in range(len(heat))])
        scale = np.array([[im.shape[1] / AWING_HEATMAP, im.shape[0] / AWING_HEATMAP]
                          for im in images])
        return pts * scale[:, None, :]


class Dlib68Landmarks:
    """dlib's 68 points in the HOG face box (upsampled once below 200 px, as the identity
    metrics detect); ``boxes`` of a pair: the partner's box when one side has none."""

    def __init__(self, sp68: str | os.PathLike | None = None) -> None:
        import dlib

        from fsr.assets import resolve

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(sp68 or resolve("dlib-sp68")))

    def detect(self, img: np.ndarray):
        found = self.detector(img, 1 if min(img.shape[:2]) < 200 else 0)
        return max(found, key=lambda r: r.area()) if len(found) else None

    def points(self, img: np.ndarray, box) -> np.ndarray:
        if box is None:
            box = self.dlib.rectangle(0, 0, img.shape[1] - 1, img.shape[0] - 1)
        shape = self.predictor(img, box)
        return np.array([[p.x, p.y] for p in shape.parts()], np.float64)

    def pair(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        box_a, box_b = self.detect(a), self.detect(b)
        return self.points(a, box_a or box_b), self.points(b, box_b or box_a)


class LandmarkDistance(nn.Module):
    """``(pred, gt) -> (N,)`` float64 mean landmark distance in pixels of a 512 frame.

    Args:
        backend: 'awing' (VQFR's LMD) or 'dlib68' (fsr's offline stand-in).
        weights: the backend's file (default: its ``fsr.assets`` row).
    """

    def __init__(self, backend: str = "awing", weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        from fsr.metrics.common import MetricError

        if backend not in ("awing", "dlib68"):
            raise MetricError(f"landmark backend must be 'awing' or 'dlib68', got {backend!r}")
        self.backend = backend
        self.awing = AWingLandmarks(weights) if backend == "awing" else None
        self._dlib = [] if backend == "awing" else [Dlib68Landmarks(weights)]
        self.model_name = "awing-fan-wflw" if backend == "awing" else "dlib-sp68"

    def landmarks(self, pred: list[np.ndarray], gt: list[np.ndarray]
                  ) -> tuple[np.ndarray, np.ndarray]:
        """``(N, P, 2)`` points of uint8 RGB pairs, in each image's pixels."""
        if self.awing is not None:
            both = self.awing(list(pred) + list(gt))
            return both[: len(pred)], both[len(pred):]
        pairs = [self._dlib[0].pair(a, b) for a, b in zip(pred, gt, strict=True)]
        return np.stack([p for p, _ in pairs]), np.stack([g for _, g in pairs])

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        pred, gt = check_pair(pred, gt, min_size=16)
        a, b = self.landmarks(to_uint8_rgb(pred), to_uint8_rgb(gt))
        return torch.from_numpy(mean_point_distance(a, b) * (FRAME / pred.shape[-1]))

    def extra_repr(self) -> str:
        return f"backend={self.backend!r}, model_name={self.model_name!r}"


__all__ = ["AWingLandmarks", "Dlib68Landmarks", "FRAME", "LandmarkDistance",
           "decode_awing_heatmaps", "load_awing_fan", "mean_point_distance"]
