"""Dense face mesh for the prior: MediaPipe's 478-landmark fit, pose normalisation, identity
descriptor, and the canonical face placed at the FFHQ template (the fallback).

Screen axes used here: x right, y down, z away from the camera, all in pixels.

    fit = fit_mesh(img_rgb, upsample_to=256)   # FaceMeshFit in img_rgb's pixel frame, or None
    desc = identity_descriptor(fit.landmarks)  # (32,) relative deviations from the mean face
"""

from __future__ import annotations

import numpy as np

from fsr.pose.canonical import canonical_mesh
from fsr.pose.common import check_rgb
from fsr.pose.mediapipe_pose import FaceMeshFit, get_face_mesh

N_MESH_VERTICES = 468  # landmarks 468..477 are the irises, not part of the triangulation
# FFHQ-aligned 5-point template (left eye, right eye as seen, nose tip, mouth corners) on a
# 512 crop, the one GFPGAN/facexlib align to, normalised to [0, 1]
FFHQ_TEMPLATE_5 = np.array([
    [192.98138, 239.94708], [318.90277, 240.19360], [256.63416, 314.01935],
    [201.26117, 371.41043], [313.08905, 371.15118],
]) / 512.0
# mesh vertices averaged to get those 5 points (image-left eye = subject's right eye)
MESH_5 = ((33, 133), (362, 263), (1,), (61,), (291,))
MIN_FACE_FRACTION = 0.2  # a fit whose landmarks span less of the image width is rejected
# 32 vertex pairs on parts of the face that expressions barely move (eyes' corners, nose,
# forehead, cheekbones, temples, jaw angles): the identity descriptor compares their lengths
IDENTITY_PAIRS: tuple[tuple[int, int], ...] = (
    (33, 263), (133, 362), (33, 133), (362, 263), (168, 1), (1, 2), (98, 327), (129, 358),
    (6, 4), (234, 454), (127, 356), (116, 345), (10, 168), (10, 1), (168, 2), (33, 1),
    (263, 1), (234, 1), (454, 1), (133, 168), (362, 168), (234, 33), (454, 263), (127, 33),
    (356, 263), (10, 33), (10, 263), (123, 1), (352, 1), (172, 397), (1, 172), (1, 397),
)
IDENTITY_LEN = len(IDENTITY_PAIRS)


def fit_mesh(img_rgb: np.ndarray, upsample_to: int | None = 256) -> FaceMeshFit | None:
    """MediaPipe fit of the largest face, landmarks in ``img_rgb``'s pixel frame.

    Smaller images are upsampled (bicubic) so their longer side is ``upsample_to`` before
    fitting (tiny inputs need it; larger ones and None fit as they are). Fits whose face spans
    < :data:`MIN_FACE_FRACTION` of the width are rejected (on crops that is a spurious detection).
    """
    import cv2

    img = check_rgb(img_rgb)
    h, w = img.shape[:2]
    s = 1.0 if upsample_to is None else max(1.0, upsample_to / max(h, w))
    work = img if s == 1.0 else cv2.resize(
        img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_CUBIC)
    fit = get_face_mesh().detect(work)
    if fit is None:
        return None
    sx, sy = w / work.shape[1], h / work.shape[0]
    lms = fit.landmarks * np.array([sx, sy, sx])
    span = np.ptp(lms[:N_MESH_VERTICES, 0])
    centre = lms[:N_MESH_VERTICES, :2].mean(0)
    if span < MIN_FACE_FRACTION * w or not (0 <= centre[0] <= w and 0 <= centre[1] <= h):
        return None
    return FaceMeshFit(lms, fit.blendshapes, fit.blendshape_names, fit.matrix, fit.padded)


def canonical_screen_vertices() -> np.ndarray:
    """Canonical mesh (cm) in screen axes: (x, -y, -z) of its GL coordinates."""
    return canonical_mesh().vertices * np.array([1.0, -1.0, -1.0])


def five_points(vertices: np.ndarray) -> np.ndarray:
    """(5, 2) eye centres, nose tip, mouth corners of a 468/478-vertex mesh (x, y)."""
    return np.stack([vertices[list(ids), :2].mean(0) for ids in MESH_5])


def similarity_2d(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (s, R 2x2, t) with ``s * R @ src + t ~ dst`` (Umeyama)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(b.T @ a)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ d @ vt
    s = float(np.trace(np.diag(sig) @ d) / (a * a).sum())
    return s, rot, mu_d - s * rot @ mu_s


def template_vertices(height: int, width: int, template: np.ndarray = FFHQ_TEMPLATE_5) -> np.ndarray:
    """Canonical face (468, 3) in screen pixels of an H x W crop, frontal, its 5 points
    fitted to ``template`` (normalised (5, 2) coordinates; FFHQ alignment by default)."""
    template = np.asarray(template, dtype=np.float64)
    if template.shape != (5, 2):
        raise ValueError(f"template must be (5, 2) normalised points, got {template.shape}")
    v = canonical_screen_vertices()
    s, rot, t = similarity_2d(five_points(v), template * np.array([width, height]))
    out = np.empty_like(v)
    out[:, :2] = v[:, :2] @ (s * rot).T + t
    out[:, 2] = s * (v[:, 2] - v[:, 2].min())
    return out


def similarity_3d(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None):
    """Weighted least-squares similarity (s, R 3x3, t) with ``s * R @ src + t ~ dst``."""
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mu_s, mu_d = w @ src, w @ dst
    a, b = src - mu_s, dst - mu_d
    cov = (b * w[:, None]).T @ a
    u, sig, vt = np.linalg.svd(cov)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ d @ vt
    s = float(np.trace(np.diag(sig) @ d) / (w @ (a * a).sum(1)))
    return s, rot, mu_d - s * rot @ mu_s


def neutral_shape(landmarks: np.ndarray) -> np.ndarray:
    """Pose- and scale-normalised mesh (468, 3) in canonical cm (GL axes): the fitted landmarks
    aligned to the canonical face by a similarity on MediaPipe's rigid Procrustes landmarks."""
    mesh = canonical_mesh()
    src = np.asarray(landmarks, dtype=np.float64)[:N_MESH_VERTICES] * np.array([1.0, -1.0, -1.0])
    ids = mesh.procrustes_ids
    s, rot, t = similarity_3d(src[ids], mesh.vertices[ids], mesh.procrustes_weights)
    return src @ (s * rot).T + t


def identity_descriptor(landmarks: np.ndarray) -> np.ndarray:
    """(32,) identity shape code: for each of :data:`IDENTITY_PAIRS`, the pair's length in the
    neutralised fitted mesh over its length in the canonical face, minus 1 (0 = mean face).

    Expression is not removed (no blendshape basis ships with the model); the pairs avoid the
    mouth, chin and brows that expressions move most.
    """
    shape = neutral_shape(landmarks)
    ref = canonical_mesh().vertices
    i, j = np.array(IDENTITY_PAIRS).T
    return np.linalg.norm(shape[i] - shape[j], axis=1) / np.linalg.norm(ref[i] - ref[j], axis=1) - 1.0
