"""The photo of a demo request: read with the app's guards, its faces detected once for every
method, and drawn with their number and pose.

    >>> pose_text(-0.4, 12.6, 3.2)
    'yaw +0°, pitch +13°, roll +3°'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np


class DemoError(ValueError):
    """Something the user can fix (no face, bad file, no method...): one line for the page."""


def _deg(v: float) -> str:
    return f"{int(round(v)):+d}"  # never '-0'


def pose_text(yaw, pitch, roll) -> str:
    if yaw is None:
        return "pose unknown"
    return f"yaw {_deg(yaw)}°, pitch {_deg(pitch)}°, roll {_deg(roll)}°"


def annotate(img: np.ndarray, faces: list[dict]) -> np.ndarray:
    """The photo with each face's box, and its number and yaw/pitch/roll under the box."""
    import cv2

    out = np.ascontiguousarray(img.copy())
    thick = max(1, round(max(img.shape[:2]) / 500))
    for f in faces:
        x1, y1, x2, y2 = (int(round(v)) for v in f["box"])
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 0), thick + 1)
        text = f"#{f['index']}" + (f" {f['native_px']}px" if f.get("native_px") else "") + \
            (f" {f['tag']}" if f.get("tag") else "") + ("" if f["yaw"] is None else
                                   f" y{_deg(f['yaw'])} p{_deg(f['pitch'])} r{_deg(f['roll'])}")
        # font sized so the label is about as wide as the box (readable, not overlapping)
        (w1, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, thick)
        font = min(max((x2 - x1) * 1.1 / w1, 0.35), 3.0)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font, thick)
        ty = y2 + th + base + 2
        if ty + base > out.shape[0]:  # no room under the box: write above it
            ty = max(y1 - base - 2, th)
        cv2.rectangle(out, (x1, ty - th - 2), (x1 + tw + 2, ty + base), (0, 0, 0), -1)
        cv2.putText(out, text, (x1 + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 255, 0), thick,
                    cv2.LINE_AA)
    return out


class DetectOnce:
    """A detector that remembers its last answer, so one photo is detected once for all the
    methods of a request (FacePipeline, which restore() builds, accepts a detector object)."""

    def __init__(self, detector) -> None:
        self.detector, self.name = detector, getattr(detector, "name", "detector")
        self._key, self._dets, self.calls = None, None, 0

    def detect_faces(self, img_bgr: np.ndarray, conf_threshold: float | None = None, **_):
        import hashlib

        key = (img_bgr.shape, hashlib.sha1(np.ascontiguousarray(img_bgr)).digest(), conf_threshold)
        if key != self._key:
            self._dets = self.detector.detect_faces(img_bgr, conf_threshold)
            self._key = key
            self.calls += 1
        return self._dets.copy()


@lru_cache(maxsize=4)
def get_detector(name: str):
    """The named detector, built once per process (its weights load once)."""
    from fsr.face.detectors import DetectorUnavailable, create_detector

    try:
        return create_detector(name)
    except (DetectorUnavailable, ValueError) as err:  # no weights / unknown name
        raise DemoError(str(err).splitlines()[0]) from None


def read_photo(image, what: str, max_pixels: int) -> np.ndarray:
    from fsr.imageio import ImageReadError, read_image

    if image is None:
        raise DemoError(f"no {what}: upload an image or pick an example")
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise DemoError(f"{what}: expected an HxWx3 uint8 RGB array, got {image.dtype} "
                            f"{image.shape}")
        if image.shape[0] * image.shape[1] > max_pixels:
            h, w = image.shape[:2]
            raise DemoError(f"{what}: {w}x{h} = {w * h / 1e6:.1f} MP exceeds the limit of "
                            f"{max_pixels / 1e6:.1f} MP")
        return image
    try:
        return read_image(image, max_pixels=max_pixels)
    except ImageReadError as err:
        # the upload's temporary path means nothing to the user: keep the file name only
        raise DemoError(f"{what}: {str(err).replace(str(image), Path(str(image)).name)}") from None
