"""Head pose from 2D landmarks under weak (scaled orthographic) perspective.

MediaPipe's own facial transformation matrix assumes a pinhole camera with a 63-degree field
of view across whatever image it is given. On an aligned face crop that puts the camera about
25 cm from the face (15 cm of face across half of a 63-degree view), so the nose, 7.5 cm nearer
than the cheeks, is magnified ~1.4x and a turn is explained with less rotation: on the sample
crops its yaw is 0.89x this fit's, and on face-profiling renders it reads 0.65 of the geometric
turn where this fit reads 0.83-0.86 (docs/profiling.md, ``bench/studies/pose_camera.py``). A
crop is a small window of a photo taken from portrait distance, the weak-perspective case; it
is also the camera the field's pose labels are defined with (3DDFA's fits behind 300W-LP and
AFLW2000-3D).

The fit: image points ``x_i ~ s * P R X_i + t`` with ``P`` the orthographic projection and
``X_i`` MediaPipe's canonical face; an affine fit gives the start, the nearest rotation
follows, then Levenberg-Marquardt on (rotation vector, log scale, t).

    >>> import numpy as np
    >>> from fsr.pose.common import ypr_to_rotation
    >>> from fsr.pose.weak_perspective import fit_weak_perspective, project
    >>> model = np.random.default_rng(0).normal(size=(50, 3))
    >>> pts = project(model, ypr_to_rotation(30.0, -10.0, 5.0), 40.0, (128.0, 128.0))
    >>> [round(a, 3) for a in fit_weak_perspective(pts, model).ypr]
    [30.0, -10.0, 5.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsr.pose.common import Pose, rotation_to_ypr


@dataclass(frozen=True)
class WeakPerspectiveFit:
    """``rotation``: 3x3 model-to-camera (GL axes); ``scale``: pixels per model unit;
    ``translation``: image position (x, y) of the model origin; ``rms``: residual in pixels."""

    rotation: np.ndarray
    scale: float
    translation: np.ndarray
    rms: float

    @property
    def ypr(self) -> tuple[float, float, float]:
        return rotation_to_ypr(self.rotation)


def project(model: np.ndarray, rotation: np.ndarray, scale: float, translation) -> np.ndarray:
    """Image points (N, 2), x right and y down, of ``model`` (N, 3, GL axes) under weak
    perspective: ``scale * (R X)[:, :2]`` with y flipped, plus ``translation``."""
    cam = np.asarray(model, dtype=np.float64) @ np.asarray(rotation, dtype=np.float64).T
    return scale * cam[:, :2] * np.array([1.0, -1.0]) + np.asarray(translation, dtype=np.float64)


def _nearest_rotation(affine: np.ndarray) -> tuple[np.ndarray, float]:
    """Rotation whose first two rows are nearest the 2x3 ``affine`` rows, and its scale."""
    u, sig, vt = np.linalg.svd(affine, full_matrices=False)
    rows = u @ vt
    rot = np.vstack([rows, np.cross(rows[0], rows[1])])
    return rot, float(sig.mean())


def fit_weak_perspective(points_2d: np.ndarray, model: np.ndarray,
                         weights: np.ndarray | None = None) -> WeakPerspectiveFit:
    """Least-squares weak-perspective pose of ``model`` (N, 3, GL axes) seen at ``points_2d``
    (N, 2 pixels, x right, y down). ``weights`` (N,) are per-point weights (default equal).

    Raises ValueError for mismatched shapes or fewer than 4 finite points. An affine fit
    cannot tell a face from its mirror in depth; of the two rotations it allows, the one
    facing the camera (nose towards the viewer) is taken.
    """
    from scipy.optimize import least_squares
    from scipy.spatial.transform import Rotation

    pts = np.asarray(points_2d, dtype=np.float64)
    mdl = np.asarray(model, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or mdl.shape != (len(pts), 3):
        raise ValueError(f"need points (N, 2) and model (N, 3), got {pts.shape} and {mdl.shape}")
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype=np.float64)
    good = np.isfinite(pts).all(1) & np.isfinite(mdl).all(1) & (w > 0)
    if good.sum() < 4:
        raise ValueError(f"need at least 4 finite points, got {int(good.sum())}")
    pts, mdl, w = pts[good], mdl[good], w[good] / w[good].sum()
    up = pts * np.array([1.0, -1.0])  # y up, as the model's GL axes
    mu_p, mu_m = w @ up, w @ mdl
    a, b = mdl - mu_m, up - mu_p
    sw = np.sqrt(w)[:, None]
    affine = np.linalg.lstsq(a * sw, b * sw, rcond=None)[0].T
    rot0, s0 = _nearest_rotation(affine)

    def residual(p):
        r = Rotation.from_rotvec(p[:3]).as_matrix()
        return ((np.exp(p[3]) * (a @ r.T)[:, :2] - b) * sw).ravel()

    best = None
    # and its mirror-in-depth (Necker) twin D R D, D = diag(-1, -1, 1): yaw and pitch negated
    for start in (rot0, np.diag([-1.0, -1.0, 1.0]) @ rot0 @ np.diag([-1.0, -1.0, 1.0])):
        p0 = np.concatenate([Rotation.from_matrix(start).as_rotvec(), [np.log(max(s0, 1e-9))]])
        sol = least_squares(residual, p0, method="lm")
        rot = Rotation.from_rotvec(sol.x[:3]).as_matrix()
        if rot[2, 2] <= 0:  # nose away from the camera: not a face we can see
            continue
        if best is None or sol.cost < best[0]:
            best = (sol.cost, rot, float(np.exp(sol.x[3])))
    if best is None:
        raise ValueError("no weak-perspective pose faces the camera")
    cost, rot, s = best
    t = mu_p - s * (mu_m @ rot.T)[:2]
    return WeakPerspectiveFit(rot, s, t * np.array([1.0, -1.0]), float(np.sqrt(2.0 * cost)))


def weak_perspective_pose(points_2d: np.ndarray, model: np.ndarray, method: str) -> Pose:
    """:func:`fit_weak_perspective` as a :class:`~fsr.pose.common.Pose` named ``method``;
    ``ok=False`` where no pose facing the camera fits (too few finite points included)."""
    try:
        fit = fit_weak_perspective(points_2d, model)
    except ValueError:
        return Pose(ok=False, method=method)
    return Pose(*fit.ypr, True, method)


__all__ = ["WeakPerspectiveFit", "fit_weak_perspective", "project", "weak_perspective_pose"]
