"""Detect -> align -> (restore elsewhere) -> paste back, for whole photos.

    from fsr.face.pipeline import FacePipeline
    pipe = FacePipeline("auto", out_size=512, upscale=2)
    faces = pipe.detect(img_rgb)                  # list[Face]; [] when there is no face
    restored = [my_model(f.crop) for f in faces]  # any size, square
    out = pipe.paste(img_rgb, faces, restored)    # (2H, 2W, 3) uint8

Guards: no face gives an empty list (the caller decides what that means); more than
``max_faces`` faces keeps the largest ones and warns; images whose longer side exceeds
``detect_max_side`` are downscaled for detection only, and images whose shorter side is below
``detect_min_side`` are upscaled for detection only, as facexlib's helper does for photos under
512 px, so that a small photo's face is not lost below the detector's smallest face (MTCNN 20
px, dlib-HOG about 40 px). Boxes and landmarks are mapped back; the crops are cut from the
photo as given.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from fsr.face.align import align_face
from fsr.face.detect_base import FaceDetector, as_uint8_image
from fsr.face.paste import FaceParser, paste_faces, upsample_background


@dataclass
class Face:
    """One detected face: box (x1, y1, x2, y2), score, landmarks (5, 2) in image pixels,
    the aligned RGB crop and the (2, 3) affine mapping image -> crop coordinates."""

    box: np.ndarray
    score: float
    landmarks: np.ndarray
    crop: np.ndarray
    affine: np.ndarray

    @property
    def area(self) -> float:
        return float(max(self.box[2] - self.box[0], 0) * max(self.box[3] - self.box[1], 0))


class FacePipeline:
    """Face detection, FFHQ alignment and paste-back around a face restoration model.

    Args:
        detector: a detector object or a name for :func:`create_detector` ('auto', 'mtcnn', ...).
        out_size: side of the aligned crops (128, 256, 512, ...).
        upscale: output photo size / input photo size for :meth:`paste`.
        max_faces: keep at most this many faces (the largest); None keeps all.
        conf_threshold: detector score threshold (None: the detector's default).
        detect_max_side: longer image side above which detection runs on a downscaled copy.
        detect_min_side: shorter image side below which detection runs on a (bilinear) upscaled
            copy, so its shorter side is this (capped by ``detect_max_side``); 0 turns it off.
            256 puts a frame-filling face far above every detector's smallest face at a
            quarter of the pixels of facexlib's 512.
        min_face: drop faces whose box is smaller than this (px, shorter side).
        mask: 'auto' (ParseNet when its weights resolve, else 'ellipse'), 'parse', 'ellipse',
            'square'.
        background: None for bicubic, or a callable img -> upsampled img (e.g. Real-ESRGAN).
    """

    def __init__(self, detector: FaceDetector | str = "auto", out_size: int = 512,
                 upscale: float = 1.0, max_faces: int | None = 50,
                 conf_threshold: float | None = None, detect_max_side: int = 2048,
                 detect_min_side: int = 256,
                 min_face: float = 0.0, mask: str = "auto",
                 background: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if isinstance(detector, str):
            from fsr.face.detectors import create_detector

            detector = create_detector(detector)
        if not hasattr(detector, "detect_faces"):
            raise TypeError(f"detector must have detect_faces(img_bgr, threshold); got {detector!r}")
        if out_size < 16:
            raise ValueError(f"out_size must be >= 16, got {out_size}")
        if upscale <= 0:
            raise ValueError(f"upscale must be > 0, got {upscale}")
        if max_faces is not None and max_faces < 1:
            raise ValueError(f"max_faces must be >= 1 or None, got {max_faces}")
        if detect_max_side < 64:
            raise ValueError(f"detect_max_side must be >= 64, got {detect_max_side}")
        if not 0 <= detect_min_side <= detect_max_side:
            raise ValueError(f"detect_min_side must be in [0, detect_max_side], got "
                             f"{detect_min_side}")
        self.detector, self.out_size, self.upscale = detector, int(out_size), float(upscale)
        self.max_faces, self.conf_threshold = max_faces, conf_threshold
        self.detect_max_side, self.detect_min_side = int(detect_max_side), int(detect_min_side)
        self.min_face = float(min_face)
        self.background = background
        self.mask = self._make_mask(mask)
        self.dropped = 0  # faces dropped by max_faces in the last detect()

    @staticmethod
    def _make_mask(mask: str):
        if mask in ("ellipse", "square"):
            return mask
        if mask in ("parse", "auto"):
            from fsr.assets import AssetError

            try:
                return FaceParser()
            except AssetError:
                if mask == "parse":
                    raise
                return "ellipse"
        raise ValueError(f"mask must be 'auto', 'parse', 'ellipse' or 'square', got {mask!r}")

    def detect_array(self, img_rgb: np.ndarray) -> np.ndarray:
        """Raw (K, 15) detections in full-image coordinates (detection on a resized copy when
        the image is huge or small)."""
        img = as_uint8_image(img_rgb, "image")
        h, w = img.shape[:2]
        scale = min(1.0, self.detect_max_side / max(h, w))
        if min(h, w) < self.detect_min_side:
            scale = min(self.detect_min_side / min(h, w), self.detect_max_side / max(h, w))
        small = img
        if scale != 1.0:
            size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
            small = cv2.resize(img, size, interpolation=cv2.INTER_AREA if scale < 1.0
                               else cv2.INTER_LINEAR)
        dets = np.asarray(self.detector.detect_faces(np.ascontiguousarray(small[..., ::-1]),
                                                     self.conf_threshold), np.float32)
        dets = dets.reshape(-1, 15).copy()
        if small is not img and len(dets):
            sx, sy = w / small.shape[1], h / small.shape[0]
            cols_x, cols_y = [0, 2, 5, 7, 9, 11, 13], [1, 3, 6, 8, 10, 12, 14]
            # Pixel-centre convention: x_full = (x_small + 0.5) * s - 0.5.
            dets[:, cols_x] = (dets[:, cols_x] + 0.5) * sx - 0.5
            dets[:, cols_y] = (dets[:, cols_y] + 0.5) * sy - 0.5
        return dets

    def detect(self, img_rgb: np.ndarray) -> list[Face]:
        """Detect, filter and align every face; largest first when ``max_faces`` cuts."""
        img = as_uint8_image(img_rgb, "image")
        dets = self.detect_array(img)
        sides = np.minimum(dets[:, 2] - dets[:, 0], dets[:, 3] - dets[:, 1])
        dets = dets[sides >= self.min_face]
        self.dropped = 0
        if self.max_faces is not None and len(dets) > self.max_faces:
            areas = (dets[:, 2] - dets[:, 0]) * (dets[:, 3] - dets[:, 1])
            order = np.argsort(-areas, kind="stable")
            self.dropped = len(dets) - self.max_faces
            warnings.warn(f"{len(dets)} faces found; keeping the {self.max_faces} largest "
                          f"(max_faces) and dropping {self.dropped}", stacklevel=2)
            dets = dets[np.sort(order[:self.max_faces])]
        faces = []
        for row in dets:
            landmarks = row[5:15].reshape(5, 2).astype(np.float64)
            crop, affine = align_face(img, landmarks, self.out_size)
            faces.append(Face(row[:4].astype(np.float64), float(row[4]), landmarks, crop, affine))
        return faces

    def paste(self, img_rgb: np.ndarray, faces: Sequence[Face],
              restored: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """Upsample the photo and blend restored crops (default: the faces' own crops) back in."""
        img = as_uint8_image(img_rgb, "image")
        crops = [f.crop for f in faces] if restored is None else list(restored)
        canvas = upsample_background(img, self.upscale, self.background)
        return paste_faces(canvas, crops, [f.affine for f in faces], upscale=self.upscale,
                           crop_size=self.out_size, mask=self.mask)
