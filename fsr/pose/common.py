"""Pose type, angle convention, yaw buckets and input checks shared by both estimators.

Angle convention (degrees, one for every estimator in fsr):

* camera frame: x to image right, y to image top, z towards the viewer (OpenGL-like);
  the face frame is the same for a frontal face (MediaPipe's canonical model: x to the
  subject's left, y up, z out of the nose).
* ``R = Ry(yaw) @ Rx(-pitch) @ Rz(roll)`` maps face to camera coordinates.
* yaw > 0: the nose points to image right, i.e. the subject turns to *their* left.
* pitch > 0: the nose points up (the subject looks up).
* roll > 0: the head is rotated counter-clockwise as seen in the image.

    >>> import numpy as np
    >>> ypr = rotation_to_ypr(ypr_to_rotation(30.0, -10.0, 5.0))
    >>> [round(a, 6) for a in ypr]
    [30.0, -10.0, 5.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

DEFAULT_EDGES: tuple[float, ...] = (0.0, 15.0, 30.0, 45.0, math.inf)


class PoseInputError(ValueError):
    """The image given to a pose or prior function is not a usable array."""


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees (convention in this module's docstring); ``ok=False`` = no face."""

    yaw: float = float("nan")
    pitch: float = float("nan")
    roll: float = float("nan")
    ok: bool = False
    method: str = ""

    @property
    def bucket(self) -> str | None:
        return pose_bucket(self.yaw) if self.ok else None


def check_rgb(img: np.ndarray, min_side: int = 2) -> np.ndarray:
    """Return ``img`` as a contiguous HxWx3 uint8 RGB array or raise :class:`PoseInputError`.

    Grey (HxW, HxWx1) is expanded to RGB and an alpha channel (HxWx4) is dropped.
    """
    if not isinstance(img, np.ndarray):
        raise PoseInputError(f"expected a numpy array, got {type(img).__name__}")
    if img.dtype != np.uint8:
        raise PoseInputError(f"expected uint8 RGB, got dtype {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
        raise PoseInputError(f"expected an HxWx3 RGB array, got shape {img.shape}")
    if min(img.shape[:2]) < min_side:
        raise PoseInputError(f"image {img.shape[1]}x{img.shape[0]} is smaller than {min_side} px")
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


def _rx(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def ypr_to_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """3x3 face-to-camera rotation for angles in degrees (see module docstring)."""
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    return _ry(y) @ _rx(-p) @ _rz(r)


def rotation_to_ypr(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a 3x3 face-to-camera rotation (GL camera axes)."""
    rot = np.asarray(rot, dtype=np.float64)[:3, :3]
    # R[:,2] is the nose direction: (cos p sin y, sin p, cos p cos y)
    yaw = math.atan2(rot[0, 2], rot[2, 2])
    pitch = math.asin(float(np.clip(rot[1, 2], -1.0, 1.0)))
    roll = math.atan2(rot[1, 0], rot[1, 1])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def opencv_to_gl(rot_cv: np.ndarray) -> np.ndarray:
    """A face-to-camera rotation in OpenCV camera axes (y down, z forward) -> GL axes."""
    return np.diag([1.0, -1.0, -1.0]) @ np.asarray(rot_cv, dtype=np.float64)


def pose_bucket(yaw: float, edges: tuple[float, ...] = DEFAULT_EDGES) -> str:
    """Label of the ``|yaw|`` bucket: ``pose_bucket(-20.0) == '15-30'``, ``pose_bucket(50) == '45+'``.

    ``edges`` must be increasing and start at 0 (end with ``inf`` for an open last bucket); a
    value on an edge goes to the upper bucket; ``|yaw|`` beyond a finite last edge is an error.
    """
    edges = tuple(float(e) for e in edges)
    if len(edges) < 2 or edges[0] != 0 or any(b <= a for a, b in pairwise(edges)):
        raise ValueError(f"bucket edges must start at 0 and increase, got {edges}")
    if yaw is None or not math.isfinite(yaw):
        raise ValueError(f"yaw must be a finite number, got {yaw}")
    a = abs(float(yaw))
    labels = bucket_labels(edges)
    for (lo, hi), label in zip(pairwise(edges), labels, strict=True):
        if lo <= a < hi:
            return label
    raise ValueError(f"|yaw| = {a:g} is beyond the last bucket edge {edges[-1]:g}")


def bucket_labels(edges: tuple[float, ...] = DEFAULT_EDGES) -> list[str]:
    """['0-15', '15-30', '30-45', '45+'] for the default edges."""

    def fmt(v: float) -> str:
        return f"{v:g}"

    return [
        f"{fmt(lo)}+" if math.isinf(hi) else f"{fmt(lo)}-{fmt(hi)}"
        for lo, hi in pairwise(edges)
    ]
