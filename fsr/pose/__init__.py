"""Head pose (yaw, pitch, roll in degrees) from two independent estimators, and yaw buckets.

    from fsr.pose import estimate_pose, pose_bucket
    pose = estimate_pose(img_rgb)                 # MediaPipe landmarks, weak perspective
    pose2 = estimate_pose(img_rgb, method="pnp")  # dlib 68 points, weak perspective too
    pose.ok, pose_bucket(pose.yaw)                # (True, '15-30')

Convention (:mod:`fsr.pose.common`): yaw > 0 = nose towards image right (the subject turns
to their left), pitch > 0 = looking up, roll > 0 = counter-clockwise in the image.
"""

from __future__ import annotations

import numpy as np

from fsr.pose.common import (
    DEFAULT_EDGES,
    Pose,
    PoseInputError,
    bucket_labels,
    check_rgb,
    pose_bucket,
    rotation_to_ypr,
    ypr_to_rotation,
)

METHODS = ("mediapipe", "mediapipe-matrix", "pnp")
MIN_SIDE = 128  # smaller inputs are upsampled (bicubic) so the detectors see a usable face
UPSAMPLE_SIDE = 256


def prepare_for_estimator(img_rgb: np.ndarray, min_side: int = MIN_SIDE,
                          target_side: int = UPSAMPLE_SIDE) -> tuple[np.ndarray, float]:
    """Checked RGB image, bicubic-upsampled so its shorter side is ``target_side`` when it is
    below ``min_side``; returns (image, scale factor applied)."""
    import cv2

    img = check_rgb(img_rgb)
    h, w = img.shape[:2]
    if min(h, w) >= min_side:
        return img, 1.0
    s = target_side / min(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(img, size, interpolation=cv2.INTER_CUBIC), s


def estimate_pose(img_rgb: np.ndarray, method: str = "mediapipe", box=None) -> Pose:
    """Head pose of the (largest) face in an RGB uint8 image.

    ``method``: 'mediapipe' (primary: MediaPipe's landmarks, weak perspective),
    'mediapipe-matrix' (MediaPipe's own transformation matrix, a 63-degree camera; reads
    about 0.9x the primary's yaw on crops) or 'pnp' (dlib 68 points, weak perspective;
    ``box`` (x0, y0, x1, y1) skips dlib's detector). No face -> ``Pose(ok=False)``; a bad
    array -> ValueError.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    img, s = prepare_for_estimator(img_rgb)
    if method in ("mediapipe", "mediapipe-matrix"):
        from fsr.pose.mediapipe_pose import mediapipe_pose

        return mediapipe_pose(img, matrix=method == "mediapipe-matrix")
    from fsr.pose.pnp import pnp_pose

    if box is not None:
        box = tuple(float(v) * s for v in box)
    return pnp_pose(img, box=box)


__all__ = [
    "DEFAULT_EDGES", "METHODS", "Pose", "PoseInputError", "bucket_labels", "check_rgb",
    "estimate_pose", "pose_bucket", "prepare_for_estimator", "rotation_to_ypr", "ypr_to_rotation",
]
