"""What every face detector shares: the facexlib output format, input checks, NMS.

Every detector is an object with ``detect_faces(img_bgr, conf_threshold) -> (K, 15) float32``,
rows ``[x1, y1, x2, y2, score, lx, ly, rx, ry, nx, ny, mlx, mly, mrx, mry]`` sorted by score,
exactly what facexlib's ``RetinaFace.detect_faces`` returns, so one can stand in for
``FaceRestoreHelper.face_det``. The five points are, in image terms: the eye on the image's left,
the eye on the image's right, the nose tip, the mouth corner on the left, on the right (the
FFHQ template's order). Coordinates are pixels of the input image (landmarks with OpenCV's
pixel-centre convention, which alignment relies on; box edges are each detector's own rough
face extent); scores are in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch

NUM_COLUMNS = 15


class FaceDetectionError(ValueError):
    """Bad input to a detector (wrong shape/dtype); one-line message."""


def as_uint8_image(img: np.ndarray, what: str = "image") -> np.ndarray:
    """Check an ``(H, W, 3)`` image and return it as contiguous uint8 (floats are clipped)."""
    if not isinstance(img, np.ndarray):
        raise FaceDetectionError(f"{what} must be a numpy array, got {type(img).__name__}")
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise FaceDetectionError(f"{what} must be (H, W, 3), got shape {tuple(img.shape)}")
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise FaceDetectionError(f"{what} is empty: shape {tuple(img.shape)}")
    img = img[..., :3]
    if img.dtype != np.uint8:
        if img.dtype == np.uint16:
            img = np.round(img.astype(np.float32) * (255.0 / 65535.0))
        img = np.clip(img, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


def empty_detections() -> np.ndarray:
    return np.zeros((0, NUM_COLUMNS), np.float32)


def pack_detections(boxes: np.ndarray, scores: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Stack boxes (K, 4), scores (K,), points (K, 5, 2) into (K, 15) sorted by score."""
    if len(boxes) == 0:
        return empty_detections()
    rows = np.concatenate([np.asarray(boxes, np.float32).reshape(-1, 4),
                           np.asarray(scores, np.float32).reshape(-1, 1),
                           np.asarray(points, np.float32).reshape(-1, 10)], axis=1)
    return rows[np.argsort(-rows[:, 4], kind="stable")]


def box_iou(a: torch.Tensor, b: torch.Tensor, mode: str = "union") -> torch.Tensor:
    """IoU (or intersection over the smaller area, ``mode='min'``) of boxes (N,4) x (M,4).

    Example:
        >>> box_iou(torch.tensor([[0., 0, 2, 2]]), torch.tensor([[1., 1, 3, 3]]))
        tensor([[0.1429]])
    """
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    if mode == "min":
        denom = torch.minimum(area_a[:, None], area_b[None, :])
    elif mode == "union":
        denom = area_a[:, None] + area_b[None, :] - inter
    else:
        raise ValueError(f"mode must be 'union' or 'min', got {mode!r}")
    return inter / denom.clamp(min=1e-9)


def nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float,
        mode: str = "union") -> torch.Tensor:
    """Greedy non-maximum suppression in plain torch; returns kept indices, best first.

    A box is dropped when its overlap (IoU, or intersection/min-area for ``mode='min'``, the
    MTCNN paper's last-stage variant) with an already kept box exceeds ``threshold``.

    Example:
        >>> b = torch.tensor([[0., 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]])
        >>> nms(b, torch.tensor([0.9, 0.8, 0.7]), 0.5)
        tensor([0, 2])
    """
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.long)
    order = torch.argsort(scores, descending=True, stable=True)
    boxes = boxes[order]
    keep = []
    alive = torch.ones(len(order), dtype=torch.bool)
    # One IoU row per kept box: O(N) memory, never the N x N matrix.
    for i in range(len(order)):
        if not alive[i]:
            continue
        keep.append(i)
        if i + 1 < len(order):
            overlap = box_iou(boxes[i:i + 1], boxes[i + 1:], mode)[0]
            alive[i + 1:] &= overlap <= threshold
    return order[torch.tensor(keep, dtype=torch.long)]


class FaceDetector:
    """Base class: subclasses implement :meth:`_detect` on an RGB uint8 image.

    ``default_threshold`` is the score threshold used when ``conf_threshold`` is None.
    facexlib's ``FaceRestoreHelper`` passes 0.97: fine for RetinaFace and MTCNN, whose face
    scores are probabilities; dlib's calibrated scores are lower (see ``detect_dlib``).
    """

    name = "base"
    default_threshold = 0.5

    def detect_faces(self, img_bgr: np.ndarray, conf_threshold: float | None = None,
                     **_unused) -> np.ndarray:
        """Detect faces in a BGR uint8 image (facexlib's convention); (K, 15) float32."""
        img = as_uint8_image(img_bgr, "detector input")
        thr = self.default_threshold if conf_threshold is None else float(conf_threshold)
        dets = self._detect(np.ascontiguousarray(img[..., ::-1]), thr)
        return dets[dets[:, 4] >= thr] if len(dets) else dets

    def detect_rgb(self, img_rgb: np.ndarray, conf_threshold: float | None = None) -> np.ndarray:
        """Same as :meth:`detect_faces` for an RGB image (what :func:`fsr.imageio.read_image` gives)."""
        img = as_uint8_image(img_rgb, "detector input")
        return self.detect_faces(np.ascontiguousarray(img[..., ::-1]), conf_threshold)

    def _detect(self, img_rgb: np.ndarray, conf_threshold: float) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
