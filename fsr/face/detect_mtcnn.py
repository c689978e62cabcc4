"""MTCNN (Zhang et al. 2016) in plain PyTorch, loading facenet-pytorch's P/R/O-Net state dicts.

    from fsr.face.detect_mtcnn import MTCNNDetector
    det = MTCNNDetector()                      # weights via fsr.assets (mtcnn-pnet/rnet/onet)
    det.detect_faces(img_bgr, 0.9).shape       # -> (6, 15): (K, 15), facexlib's layout

Pipeline: an image pyramid (scale factor 0.709 from 12/min_face down to a 12-px image) through
the fully-convolutional P-Net, per-scale and global NMS, box regression, squared boxes; R-Net on
24x24 crops re-scores and regresses; O-Net on 48x48 crops gives the final score, box and the
five landmarks. Crops outside the image are zero-padded (the original MTCNN does this too),
resampling is area averaging as in the original code. Coordinates are 0-based continuous.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

from fsr.face.detect_base import FaceDetector, empty_detections, nms, pack_detections
from fsr.face.detectors import DETECTORS


class PNet(nn.Module):
    """Proposal net: 12x12 receptive field, stride 2; outputs (box deltas, face prob)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)  # face / not-face logits
        self.conv4_2 = nn.Conv2d(32, 4, 1)  # box deltas

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = nn.functional.max_pool2d(self.prelu1(self.conv1(x)), 2, 2, ceil_mode=True)
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), torch.softmax(self.conv4_1(x), dim=1)


def _flatten_hwc_transposed(x: torch.Tensor) -> torch.Tensor:
    # The weights come from a TF/Caffe port whose dense layers read features in (W, H, C)
    # order; flattening any other way scrambles the dense input.
    return x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)


class RNet(nn.Module):
    """Refine net on 24x24 crops; outputs (box deltas, face prob)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool = nn.functional.max_pool2d
        x = pool(self.prelu1(self.conv1(x)), 3, 2, ceil_mode=True)
        x = pool(self.prelu2(self.conv2(x)), 3, 2, ceil_mode=True)
        x = self.prelu4(self.dense4(_flatten_hwc_transposed(self.prelu3(self.conv3(x)))))
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), dim=1)


class ONet(nn.Module):
    """Output net on 48x48 crops; outputs (box deltas, 5 landmarks as x1..x5,y1..y5, face prob)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pool = nn.functional.max_pool2d
        x = pool(self.prelu1(self.conv1(x)), 3, 2, ceil_mode=True)
        x = pool(self.prelu2(self.conv2(x)), 3, 2, ceil_mode=True)
        x = pool(self.prelu3(self.conv3(x)), 2, 2, ceil_mode=True)
        x = self.prelu5(self.dense5(_flatten_hwc_transposed(self.prelu4(self.conv4(x)))))
        return self.dense6_2(x), self.dense6_3(x), torch.softmax(self.dense6_1(x), dim=1)


def load_mtcnn_nets(paths: dict[str, str] | None = None) -> tuple[PNet, RNet, ONet]:
    """Build the three nets and load their state dicts (default: resolved through fsr.assets)."""
    if paths is None:
        from fsr.assets import resolve

        paths = {a.rsplit("-", 1)[1]: resolve(a) for a in DETECTORS["mtcnn"].assets}
    nets = (PNet(), RNet(), ONet())
    for key, net in zip(("pnet", "rnet", "onet"), nets, strict=True):
        state = torch.load(paths[key], map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
        net.eval().requires_grad_(False)
    return nets


def _normalise(batch: np.ndarray) -> torch.Tensor:
    """uint8/float (N, H, W, 3) RGB -> (N, 3, H, W) float in about [-1, 1] as MTCNN was trained."""
    t = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
    return (t.permute(0, 3, 1, 2) - 127.5) * (1.0 / 128.0)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Grow each (x1, y1, x2, y2) box to a square around its centre."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    cx, cy = boxes[:, 0] + w / 2, boxes[:, 1] + h / 2
    return np.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], axis=1)


def _regress(boxes: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """Apply MTCNN's box deltas (fractions of the box size, one per edge)."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return boxes[:, :4] + deltas * np.stack([w, h, w, h], axis=1)


def _crops(img: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Cut integer-rounded boxes out of ``img`` (zero outside), resized to size x size."""
    h, w = img.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.float32)
    for i, (x1, y1, x2, y2) in enumerate(np.round(boxes[:, :4]).astype(np.int64)):
        bw, bh = max(x2 - x1, 1), max(y2 - y1, 1)
        patch = np.zeros((bh, bw, 3), np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
        if sx2 > sx1 and sy2 > sy1:
            patch[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = img[sy1:sy2, sx1:sx2]
        interp = cv2.INTER_AREA if bw >= size else cv2.INTER_LINEAR
        out[i] = cv2.resize(patch, (size, size), interpolation=interp)
    return out


class MTCNNDetector(FaceDetector):
    """MTCNN face detector with 5 landmarks; scores are O-Net face probabilities.

    Args:
        min_face: smallest face side (px) the pyramid looks for.
        thresholds: P-, R-, O-Net score thresholds (the paper's 0.6, 0.7, 0.7).
        factor: pyramid scale step.
        weights: optional dict {'pnet': path, 'rnet': path, 'onet': path}.
    """

    name = "mtcnn"
    default_threshold = DETECTORS["mtcnn"].threshold

    def __init__(self, min_face: int = 20, thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
                 factor: float = 0.709, weights: dict[str, str] | None = None,
                 batch_size: int = 256) -> None:
        if min_face < 12:
            raise ValueError(f"min_face must be >= 12 (P-Net's window), got {min_face}")
        if not 0.1 < factor < 1.0:
            raise ValueError(f"factor must be in (0.1, 1), got {factor}")
        self.min_face, self.thresholds, self.factor = min_face, thresholds, factor
        self.batch_size = batch_size
        self.pnet, self.rnet, self.onet = load_mtcnn_nets(weights)

    def _run(self, net: nn.Module, crops: np.ndarray) -> list[np.ndarray]:
        outs = []
        for i in range(0, len(crops), self.batch_size):
            outs.append([o.numpy() for o in net(_normalise(crops[i:i + self.batch_size]))])
        return [np.concatenate(parts) for parts in zip(*outs, strict=True)]

    def _stage1(self, img: np.ndarray) -> np.ndarray:
        """P-Net over the pyramid -> (N, 5) squared candidate boxes with scores."""
        h, w = img.shape[:2]
        scale = 12.0 / self.min_face
        found = []
        while min(h, w) * scale >= 12:
            sh, sw = int(np.ceil(h * scale)), int(np.ceil(w * scale))
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            level = cv2.resize(img, (sw, sh), interpolation=interp)
            deltas, prob = self.pnet(_normalise(level[None]))
            prob, deltas = prob[0, 1], deltas[0]
            ys, xs = torch.nonzero(prob >= self.thresholds[0], as_tuple=True)
            if len(ys):
                # Each P-Net output cell sees a 12x12 window at stride 2 of this level.
                x1, y1 = xs.float() * 2 / scale, ys.float() * 2 / scale
                boxes = torch.stack([x1, y1, x1 + 12 / scale, y1 + 12 / scale], dim=1)
                scores = prob[ys, xs]
                keep = nms(boxes, scores, 0.5)
                d = deltas[:, ys, xs].T[keep]
                found.append(torch.cat([boxes[keep], scores[keep, None], d], dim=1).numpy())
            scale *= self.factor
        if not found:
            return np.zeros((0, 5), np.float32)
        cand = np.concatenate(found)
        keep = nms(torch.from_numpy(cand[:, :4]), torch.from_numpy(cand[:, 4]), 0.7).numpy()
        cand = cand[keep]
        return np.concatenate([_square(_regress(cand[:, :4], cand[:, 5:9])), cand[:, 4:5]], 1)

    @torch.inference_mode()
    def _detect(self, img_rgb: np.ndarray, conf_threshold: float) -> np.ndarray:
        if min(img_rgb.shape[:2]) < 12:
            return empty_detections()
        cand = self._stage1(img_rgb)
        if len(cand) == 0:
            return empty_detections()
        # Stage 2: R-Net re-scores and refines.
        deltas, prob = self._run(self.rnet, _crops(img_rgb, cand, 24))
        ok = prob[:, 1] > self.thresholds[1]
        cand, deltas, scores = cand[ok], deltas[ok], prob[ok, 1]
        if len(cand) == 0:
            return empty_detections()
        keep = nms(torch.from_numpy(cand[:, :4]), torch.from_numpy(scores), 0.7).numpy()
        cand = _square(_regress(cand[keep, :4], deltas[keep]))
        # Stage 3: O-Net gives final scores, boxes and landmarks.
        deltas, points, prob = self._run(self.onet, _crops(img_rgb, cand, 48))
        ok = prob[:, 1] > max(self.thresholds[2], min(conf_threshold, 1.0))
        cand, deltas, points, scores = cand[ok], deltas[ok], points[ok], prob[ok, 1]
        if len(cand) == 0:
            return empty_detections()
        size = (cand[:, 2:4] - cand[:, 0:2])[:, None, :]  # (K, 1, 2) box w, h
        pts = np.stack([points[:, :5], points[:, 5:]], axis=2) * size + cand[:, None, 0:2]
        boxes = _regress(cand, deltas)
        keep = nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.7, mode="min").numpy()
        return pack_detections(boxes[keep], scores[keep], pts[keep])
