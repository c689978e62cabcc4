"""Second head-pose estimator: dlib 68 landmarks fitted to a generic 3D face (weak perspective,
like the primary; ``cv2.solvePnP`` with a pinhole camera on request).

The 3D model is MediaPipe's canonical face mesh (a freely licensed mean face, Apache-2.0)
sampled at :data:`LM68_TO_MESH`: for each iBUG-68 point, the mesh vertex nearest to it.
That table was derived once from data (``tools/derive_lm68_mesh.py``): dlib 68 points and
MediaPipe's 468 landmarks on 136 near-frontal faces (|yaw| < 10, |pitch| < 15) of the
sample photos and franck.mp4 frames; per dlib point, the vertex with the smallest median
distance (median residual 0.014-0.05 interocular distances inside the face, ~0.1 on the jaw
contour, which follows the silhouette). At run time nothing from MediaPipe's network is used,
so the two estimators stay independent.

    pose = pnp_pose(img_rgb)                 # dlib HOG finds the face
    pose = pnp_pose(img_rgb, box=(x0, y0, x1, y1))
"""

from __future__ import annotations

import functools
import math

import numpy as np

from fsr.pose.common import Pose, check_rgb, opencv_to_gl, rotation_to_ypr

# iBUG-68 index -> canonical-mesh vertex (see module docstring for how it was derived)
LM68_TO_MESH: tuple[int, ...] = (
    127, 234, 177, 215, 172, 136, 149, 176, 152, 377, 378, 365, 367, 435, 376, 454, 356,  # jaw
    156, 63, 105, 66, 107, 336, 296, 334, 293, 383,  # brows
    168, 6, 195, 4, 240, 97, 2, 326, 305,  # nose
    33, 160, 158, 155, 153, 144, 382, 385, 387, 263, 373, 380,  # eyes
    61, 74, 37, 0, 267, 304, 291, 321, 314, 17, 84, 181,  # outer lips
    78, 82, 13, 312, 307, 317, 14, 87,  # inner lips
)
# all 68: on 174 sample crops this agreed best with MediaPipe (inner 51 points: pitch off by 6.6 deg)
PNP_POINTS: tuple[int, ...] = tuple(range(68))
# HOG score threshold: dlib's default 0 misses faces turned ~35 degrees in tight crops (their
# side-view sub-detectors score about -0.1 there); a flat or non-face image still gives none
HOG_THRESHOLD = -0.5


@functools.lru_cache(maxsize=1)
def _dlib_models():
    import dlib

    from fsr.assets import resolve

    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(resolve("dlib-sp68")))


def model_points_68() -> np.ndarray:
    """(68, 3) generic 3D face (cm, GL axes) in iBUG-68 order."""
    from fsr.pose.canonical import canonical_mesh

    return canonical_mesh().vertices[list(LM68_TO_MESH)]


def detect_68(img_rgb: np.ndarray, box=None, upsample: int = 1,
              threshold: float = HOG_THRESHOLD) -> np.ndarray | None:
    """dlib 68 landmarks (68, 2) of the best-scoring HOG face, or in ``box`` (x0, y0, x1, y1)."""
    import dlib

    img = check_rgb(img_rgb)
    detector, predictor = _dlib_models()
    if box is None:
        dets, scores, _ = detector.run(img, upsample, threshold)
        if len(dets) == 0:
            return None
        rect = dets[int(np.argmax(scores))]
    else:
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"box must be (x0, y0, x1, y1) with x1 > x0, y1 > y0, got {box}")
        rect = dlib.rectangle(x0, y0, x1, y1)
    shape = predictor(img, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def solve_pose_68(points_2d: np.ndarray, image_size: tuple[int, int],
                  focal: float | None = None, subset=PNP_POINTS) -> Pose:
    """Pose of 68 image points (x, y) against the generic face; ``image_size`` is (H, W).

    By default the camera is weak perspective, as for fsr's primary estimator
    (:mod:`fsr.pose.weak_perspective` says why). With ``focal`` (pixels) it is a pinhole with
    its principal point at the image centre, solved by ``cv2.solvePnP``. ``ok=False`` when the
    solution faces away.
    """
    obj = model_points_68()[list(subset)].astype(np.float64)
    img_pts = np.asarray(points_2d, dtype=np.float64)[list(subset)]
    if focal is None:
        from fsr.pose.weak_perspective import weak_perspective_pose

        return weak_perspective_pose(img_pts, obj, "pnp")
    import cv2

    h, w = image_size
    f = float(focal)
    cam = np.array([[f, 0, w / 2.0], [0, f, h / 2.0], [0, 0, 1]], dtype=np.float64)
    ok, rvec, tvec = cv2.solvePnP(obj, img_pts, cam, None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        return Pose(ok=False, method="pnp")
    rvec, tvec = cv2.solvePnPRefineLM(obj, img_pts, cam, None, rvec, tvec)
    rot_gl = opencv_to_gl(cv2.Rodrigues(rvec)[0])
    yaw, pitch, roll = rotation_to_ypr(rot_gl)
    if tvec[2, 0] <= 0 or rot_gl[2, 2] <= 0 or not all(map(math.isfinite, (yaw, pitch, roll))):
        return Pose(ok=False, method="pnp")  # behind the camera or facing away: a bad fit
    return Pose(yaw, pitch, roll, True, "pnp")


def pnp_pose(img_rgb: np.ndarray, box=None) -> Pose:
    """Head pose from dlib 68 landmarks + PnP; ``ok=False`` when dlib finds no face."""
    img = check_rgb(img_rgb)
    pts = detect_68(img, box=box)
    if pts is None:
        return Pose(ok=False, method="pnp")
    return solve_pose_68(pts, img.shape[:2])
