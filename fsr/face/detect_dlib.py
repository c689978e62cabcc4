"""dlib face detectors (HOG + linear SVM, CNN MMOD) with 5 facexlib-order landmarks.

    from fsr.face.detect_dlib import DlibHogDetector
    det = DlibHogDetector()                    # landmarks from the 68-point predictor
    det.detect_faces(img_bgr).shape  # -> (3, 15)

Landmarks. facexlib's five points are the two eye centres, the nose tip and the two mouth
corners. dlib's 68-point model (asset ``dlib-sp68``, preferred) has all of them: eye centres are
the means of points 36-41 and 42-47, the nose tip is point 30, the mouth corners are 48 and 54.
dlib's 5-point model (``dlib-sp5``) has only eye corners and the point under the nose, so with
``landmarks='sp5'`` the eye centres are the corner means and the nose tip and mouth corners are
estimated from a mean face layout (:data:`SP5_LAYOUT`) fitted to the three known points.

Scores. dlib returns an SVM/MMOD margin m (0 is dlib's own operating point); the score here is
``sigmoid(2 m)``, monotone and 0.5 at dlib's default threshold. facexlib's FaceRestoreHelper asks
for 0.97 (m > 1.74), which drops many real faces: wrap the detector with
:func:`fsr.face.detectors.for_face_restore_helper` to keep the detector's own threshold.
"""

from __future__ import annotations

import numpy as np

from fsr.face.align import similarity_lstsq
from fsr.face.detect_base import FaceDetector, empty_detections, pack_detections
from fsr.face.detectors import DETECTORS

# Median positions from dlib's 68-point predictor on the 71 HOG detections (margin > 0.3) in the
# 63 photos of tests/face/data/face_counts.json (tools/dlib_sp5_layout.py), in a frame whose
# origin is the eye midpoint, x along the eye line, unit = inter-ocular distance (IOD); mouth
# corners symmetrised. Estimate error there: nose tip median 0.06 IOD, mouth corners 0.10.
SP5_LAYOUT = {
    "eye_left": (-0.5, 0.0), "eye_right": (0.5, 0.0), "nose_tip": (0.0, 0.571),
    "nose_base": (0.0, 0.792), "mouth_left": (-0.456, 1.079), "mouth_right": (0.456, 1.079),
}


def margin_to_score(margin: np.ndarray | float) -> np.ndarray:
    """Map a dlib detection margin to (0, 1): sigmoid(2 m), 0.5 at dlib's threshold 0."""
    return 1.0 / (1.0 + np.exp(-2.0 * np.asarray(margin, np.float64)))


def five_from_68(p68: np.ndarray) -> np.ndarray:
    """(68, 2) iBUG points -> (5, 2) facexlib points (eye centres, nose tip, mouth corners)."""
    p68 = np.asarray(p68, np.float64)
    return np.stack([p68[36:42].mean(0), p68[42:48].mean(0), p68[30], p68[48], p68[54]])


def five_from_sp5(p5: np.ndarray) -> np.ndarray:
    """(5, 2) dlib sp5 points (image-right eye corners 0-1, image-left 2-3, nose base 4) ->
    (5, 2) facexlib points, nose tip and mouth corners estimated from :data:`SP5_LAYOUT`."""
    p5 = np.asarray(p5, np.float64)
    eye_l, eye_r, base = p5[2:4].mean(0), p5[0:2].mean(0), p5[4]
    lay = SP5_LAYOUT
    canon = np.array([lay["eye_left"], lay["eye_right"], lay["nose_base"]])
    m = similarity_lstsq(canon, np.stack([eye_l, eye_r, base]))
    to_img = lambda q: m[:, :2] @ np.asarray(q, np.float64) + m[:, 2]  # noqa: E731
    # The nose tip moves with the nose base under yaw: carry the base's fit residual over.
    tip = to_img(lay["nose_tip"]) + (base - to_img(lay["nose_base"]))
    return np.stack([eye_l, eye_r, tip, to_img(lay["mouth_left"]), to_img(lay["mouth_right"])])


class _DlibDetector(FaceDetector):
    """Shared landmark handling for the two dlib detectors."""

    def __init__(self, upsample: int = 1, landmarks: str = "sp68",
                 landmark_path: str | None = None) -> None:
        import dlib

        if landmarks not in ("sp68", "sp5"):
            raise ValueError(f"landmarks must be 'sp68' or 'sp5', got {landmarks!r}")
        if not 0 <= upsample <= 3:
            raise ValueError(f"upsample must be in 0..3, got {upsample}")
        if landmark_path is None:
            from fsr.assets import resolve

            landmark_path = resolve("dlib-" + landmarks)
        self.upsample, self.landmarks = upsample, landmarks
        self.predictor = dlib.shape_predictor(str(landmark_path))

    def _points(self, img_rgb: np.ndarray, rect) -> np.ndarray:
        shape = self.predictor(img_rgb, rect)
        pts = np.array([(p.x, p.y) for p in shape.parts()], np.float64)
        if len(pts) == 68:
            return five_from_68(pts)
        if len(pts) == 5:
            return five_from_sp5(pts)
        raise ValueError(f"shape predictor gave {len(pts)} points; expected 5 or 68")

    def _pack(self, img_rgb: np.ndarray, rects, margins) -> np.ndarray:
        if len(rects) == 0:
            return empty_detections()
        # dlib rectangles are inclusive pixel ranges; +1 gives the exclusive right/bottom edge.
        boxes = np.array([(r.left(), r.top(), r.right() + 1, r.bottom() + 1) for r in rects],
                         np.float64)
        points = np.stack([self._points(img_rgb, r) for r in rects])
        return pack_detections(boxes, margin_to_score(np.asarray(margins)), points)

    @staticmethod
    def _margin_for(conf_threshold: float) -> float:
        p = float(np.clip(conf_threshold, 1e-6, 1 - 1e-6))
        return float(np.log(p / (1 - p)) / 2.0)


class DlibHogDetector(_DlibDetector):
    """dlib's HOG + linear-SVM frontal face detector (built into dlib; no weight file).

    ``upsample=1`` doubles the image first so faces down to about 40 px are found.
    """

    name = "dlib-hog"
    default_threshold = DETECTORS["dlib-hog"].threshold

    def __init__(self, upsample: int = 1, landmarks: str = "sp68",
                 landmark_path: str | None = None) -> None:
        import dlib

        super().__init__(upsample, landmarks, landmark_path)
        self.detector = dlib.get_frontal_face_detector()

    def _detect(self, img_rgb: np.ndarray, conf_threshold: float) -> np.ndarray:
        rects, margins, _ = self.detector.run(img_rgb, self.upsample,
                                              self._margin_for(conf_threshold))
        return self._pack(img_rgb, rects, margins)


class DlibCnnDetector(_DlibDetector):
    """dlib's CNN MMOD face detector (asset ``dlib-mmod``): more pose-tolerant, slow on CPU.

    Its memory grows with the pixels it scans (measured: a 2560x1912 photo upsampled once took
    over 14 GB), so images whose upsampled size exceeds ``max_pixels`` are first downscaled to
    fit; boxes are mapped back and landmarks are found on the full-resolution image.
    """

    name = "dlib-cnn"
    default_threshold = DETECTORS["dlib-cnn"].threshold

    def __init__(self, upsample: int = 1, landmarks: str = "sp68",
                 landmark_path: str | None = None, model_path: str | None = None,
                 max_pixels: float = 3e6) -> None:
        import dlib

        super().__init__(upsample, landmarks, landmark_path)
        if model_path is None:
            from fsr.assets import resolve

            model_path = resolve(DETECTORS["dlib-cnn"].assets[0])
        self.detector = dlib.cnn_face_detection_model_v1(str(model_path))
        self.max_pixels = float(max_pixels)

    def _detect(self, img_rgb: np.ndarray, conf_threshold: float) -> np.ndarray:
        import cv2
        import dlib

        h, w = img_rgb.shape[:2]
        scale = min(1.0, (self.max_pixels / (h * w * 4 ** self.upsample)) ** 0.5)
        small = img_rgb
        if scale < 1.0:
            size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
            small = cv2.resize(img_rgb, size, interpolation=cv2.INTER_AREA)
        found = self.detector(small, self.upsample)
        sx, sy = w / small.shape[1], h / small.shape[0]

        def full(r):  # pixel-centre mapping back to the full-resolution image
            return dlib.rectangle(int(round((r.left() + 0.5) * sx - 0.5)),
                                  int(round((r.top() + 0.5) * sy - 0.5)),
                                  int(round((r.right() + 0.5) * sx - 0.5)),
                                  int(round((r.bottom() + 0.5) * sy - 0.5)))

        rects = [full(d.rect) if scale < 1.0 else d.rect for d in found]
        return self._pack(img_rgb, rects, [d.confidence for d in found])
