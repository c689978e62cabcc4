"""Align faces to the FFHQ 5-point template (facexlib / GFPGAN / CodeFormer convention).

    from fsr.face.align import align_face
    crop, affine = align_face(img_rgb, landmarks5, size=512)   # (512, 512, 3), (2, 3)
    back = invert_affine(affine)                               # crop -> image coordinates

The template is facexlib's FFHQ 512 template scaled to the output size; the similarity
(rotation + uniform scale + shift) is fitted with ``cv2.estimateAffinePartial2D(..., LMEDS)``
exactly as facexlib's FaceRestoreHelper does, so crops match what GFPGAN-style models expect.
Pixel centres are at integer coordinates (OpenCV's convention) throughout.
"""

from __future__ import annotations

import cv2
import numpy as np

# facexlib FaceRestoreHelper's "standard 5 landmarks for FFHQ faces with 512 x 512":
# image-left eye, image-right eye, nose tip, left mouth corner, right mouth corner.
FFHQ_TEMPLATE_512 = np.array([[192.98138, 239.94708], [318.90277, 240.1936],
                              [256.63416, 314.01935], [201.26117, 371.41043],
                              [313.08905, 371.15118]], np.float64)
# facexlib pads with this grey (given there as BGR 135, 133, 132).
BORDER_GREY_RGB = (132, 133, 135)


class AlignmentError(ValueError):
    """Landmarks cannot define an alignment (wrong shape, NaN, all points coincide)."""


def face_template(size: int = 512) -> np.ndarray:
    """The FFHQ 5-point template for a ``size`` x ``size`` crop, (5, 2) float64.

    Example:
        >>> face_template(256)[0]
        array([ 96.49069, 119.97354])
    """
    if int(size) < 8:
        raise AlignmentError(f"output size must be >= 8, got {size}")
    return FFHQ_TEMPLATE_512 * (int(size) / 512.0)


def _check_landmarks(landmarks: np.ndarray) -> np.ndarray:
    lm = np.asarray(landmarks, np.float64)
    if lm.shape == (10,):
        lm = lm.reshape(5, 2)
    if lm.shape != (5, 2):
        raise AlignmentError(f"landmarks must be (5, 2) or (10,), got {lm.shape}")
    if not np.all(np.isfinite(lm)):
        raise AlignmentError("landmarks contain NaN or inf")
    if np.ptp(lm, axis=0).max() < 1e-6:
        raise AlignmentError("landmarks are degenerate: all five points coincide")
    return lm


def similarity_lstsq(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Closed-form least-squares similarity (rotation, uniform scale, shift) src -> dst, (2, 3)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    denom = (s ** 2).sum()
    if denom < 1e-12:
        raise AlignmentError("degenerate points: all source points coincide")
    a = (s * d).sum() / denom
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / denom
    rot = np.array([[a, -b], [b, a]])
    return np.concatenate([rot, (md - rot @ ms)[:, None]], axis=1)


def estimate_affine(landmarks: np.ndarray, size: int = 512) -> np.ndarray:
    """Similarity (2, 3) mapping image coordinates to the ``size`` crop's template.

    Example:
        >>> estimate_affine(face_template(512), 512).round(6)
        array([[ 1., -0.,  0.],
               [ 0.,  1.,  0.]])
    """
    lm = _check_landmarks(landmarks)
    tpl = face_template(size)
    # LMEDS like facexlib: with 5 points it behaves like skimage's SimilarityTransform.
    affine, _ = cv2.estimateAffinePartial2D(lm, tpl, method=cv2.LMEDS)
    if affine is None or not np.all(np.isfinite(affine)):
        affine = similarity_lstsq(lm, tpl)  # LMEDS found no consensus
    return affine.astype(np.float64)


def warp_face(img: np.ndarray, affine: np.ndarray, size: int,
              border: str = "constant") -> np.ndarray:
    """Warp ``img`` with ``affine`` into a ``size`` x ``size`` crop (bilinear).

    ``border``: 'constant' (facexlib's grey), 'reflect101' or 'replicate'.
    """
    modes = {"constant": cv2.BORDER_CONSTANT, "reflect101": cv2.BORDER_REFLECT101,
             "replicate": cv2.BORDER_REPLICATE}
    if border not in modes:
        raise ValueError(f"border must be one of {sorted(modes)}, got {border!r}")
    grey = BORDER_GREY_RGB if img.ndim == 3 else BORDER_GREY_RGB[1]
    return cv2.warpAffine(img, np.asarray(affine, np.float64), (int(size), int(size)),
                          flags=cv2.INTER_LINEAR, borderMode=modes[border], borderValue=grey)


def align_face(img: np.ndarray, landmarks: np.ndarray, size: int = 512,
               border: str = "constant") -> tuple[np.ndarray, np.ndarray]:
    """Crop one face aligned to the FFHQ template; returns (crop, affine image->crop).

    Example:
        crop, affine = align_face(img_rgb, det[0, 5:15].reshape(5, 2), 256)
        crop.shape  # -> (256, 256, 3)
    """
    affine = estimate_affine(landmarks, size)
    return warp_face(img, affine, size, border), affine


def invert_affine(affine: np.ndarray) -> np.ndarray:
    """Inverse of a (2, 3) affine (crop -> image)."""
    return cv2.invertAffineTransform(np.asarray(affine, np.float64))


def transform_points(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine to (N, 2) points."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    a = np.asarray(affine, np.float64)
    return pts @ a[:, :2].T + a[:, 2]


def rescale_affine(affine: np.ndarray, src_scale: float = 1.0, dst_scale: float = 1.0) -> np.ndarray:
    """Adjust an affine for images resized by ``src_scale`` (input side) and ``dst_scale``
    (output side), under the pixel-centre convention (x' = s x + (s - 1) / 2).

    Example: an image->crop affine for a 2x-upsampled image and a 4x-larger crop is
    ``rescale_affine(A, 2, 4)``.
    """
    def centre_scale(s: float) -> np.ndarray:
        return np.array([[s, 0, (s - 1) / 2], [0, s, (s - 1) / 2], [0, 0, 1]], np.float64)

    a = np.vstack([np.asarray(affine, np.float64), [0, 0, 1]])
    out = centre_scale(dst_scale) @ a @ np.linalg.inv(centre_scale(src_scale))
    return out[:2]
