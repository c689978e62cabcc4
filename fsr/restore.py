"""Restore or super-resolve a face crop or a whole photo with any fsr method.

    from fsr.restore import restore
    result = restore("photo.jpg", method="sam3d-x4-samples")   # whole photo, x4
    result.image.shape, [f.note for f in result.faces]
    crop = restore(aligned_face, method="sam3d-x4-samples", aligned=True).image

Whole photos (``aligned=False``): faces are detected and each face's native size is read off
its alignment (the side of an FFHQ-aligned crop at the photo's own resolution). A method only
ever sees a face at or above the size the photo gives it:

- a method with a fixed input (SAM3D x4: 32 px, MMRB: 128 px, GFPGAN: 512 px) gets the face
  aligned at that input size when the face is no larger (a smaller face is upsampled to it,
  as GFPGAN does), and its result is pasted back into the upsampled photo. A face larger than
  the input is **kept**: it keeps the background upsampler's result, and the face's ``note``
  says why. ``force_size=True`` shrinks such faces to the input anyway (labelled 'forced').
- a method that takes any size (bicubic, Real-ESRGAN, the 'input' floor) runs on the whole
  photo, in tiles; its faces are the photo's own, so nothing is cut or pasted.

The photo is upscaled by ``upscale`` (default: the method's scale for SR, 2 for restoration,
as GFPGAN's ``--upscale``), capped so the output has at most ``max_output_pixels`` (a note
says so). The background is bicubic or Real-ESRGAN x4plus (tiled, ``bg_tile``). With
``check=True`` every face is compared with the input: the output scaled back to the input's
size, PSNR in the face box and dlib's descriptor distance of the aligned faces (the statistic
dlib is calibrated on: same person below 0.6). Prior-guided
methods get the 3D prior computed from their input crop (never from anything cleaner).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

SR_FACE_SIZE = 128  # output side of SR methods whose records fix none (the SAM3D protocol)
RESTORE_UPSCALE = 2.0  # GFPGAN's default --upscale for restoration methods
MAX_OUTPUT_PIXELS = 48_000_000  # the whole output photo (uint8: 144 MB)
BG_TILE = 400  # GFPGAN's --bg_tile
BACKGROUNDS = ("bicubic", "realesrgan-x4plus")
ALIGN_SIDE = 512  # the FFHQ template side the detected faces are aligned at first


class RestoreError(ValueError):
    """No face, a bad image or an unusable method: one line for the user."""


@dataclass
class RestoredFace:
    box: np.ndarray  # (x1, y1, x2, y2) in the input photo
    score: float
    landmarks: np.ndarray  # (5, 2)
    input_crop: np.ndarray  # uint8 RGB: what the method saw (kept faces: the native crop)
    output_crop: np.ndarray  # uint8 RGB: what the output photo holds there
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None
    native_px: int = 0  # side of the aligned face at the photo's own resolution
    status: str = "restored"  # restored | upsampled | forced | kept | whole-photo
    note: str = ""  # one line: size, what was done and why
    psnr_vs_input: float | None = None  # dB, output scaled back to the input, face box
    identity_dist_vs_input: float | None = None  # dlib descriptor distance; same person < 0.6


@dataclass
class RestoreResult:
    image: np.ndarray  # uint8 RGB: the restored crop or photo
    method: str
    faces: list[RestoredFace] = field(default_factory=list)
    dropped_faces: int = 0
    upscale: float = 1.0
    notes: list[str] = field(default_factory=list)  # photo-level: capped output, background


def _to_uint8(t) -> np.ndarray:
    return (t.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def _to_tensor(crops: list[np.ndarray]):
    import torch

    return torch.from_numpy(np.stack(crops).astype(np.float32) / 255.0).permute(0, 3, 1, 2)


def _resize_uint8(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from fsr.data.degradations import resize

    return (resize(img.astype(np.float32) / 255, size) * 255).round().astype(np.uint8)


def _prior(method, lq_crops: list[np.ndarray]):
    """The method's prior argument, computed from the degraded input crops themselves."""
    if not method.needs_prior:
        return None
    import torch

    from fsr.priors import compute_prior

    priors = [compute_prior(c) for c in lq_crops]
    render = torch.from_numpy(np.stack([p.render for p in priors]).astype(np.float32)).permute(0, 3, 1, 2)
    if method.needs_coeffs:
        return {"render": render, "coeffs": torch.from_numpy(np.stack([p.coeffs for p in priors]))}
    return render


def _run(method, lq_crops: list[np.ndarray], batch: int = 8) -> list[np.ndarray]:
    """Run ``method`` on uint8 crops, in batches."""
    outputs = []
    for i in range(0, len(lq_crops), batch):
        chunk = lq_crops[i:i + batch]
        outputs += [_to_uint8(o) for o in method(_to_tensor(chunk), _prior(method, chunk))]
    return outputs


def _angles(crop: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Head pose of the input face (for display and bucketing), or Nones if unknown."""
    from fsr.pose import estimate_pose

    pose = estimate_pose(crop)
    return (pose.yaw, pose.pitch, pose.roll) if pose.ok else (None, None, None)


def _face_sizes(method) -> tuple[int, int]:
    """(input side, output side) of the aligned crops a method works on (aligned mode)."""
    if method.task == "sr":
        out = method.out_size or SR_FACE_SIZE
        return out // method.scale, out
    size = method.out_size or method.in_size or 512
    return size, size


def face_input_side(method) -> int | None:
    """The fixed side of the face crops ``method`` takes, or None when it takes any size.

    Example:
        >>> from fsr.methods import load_method
        >>> face_input_side(load_method("sam3d-x4-samples")), face_input_side(load_method("bicubic-x4"))
        (32, None)
    """
    if method.in_size:
        return int(method.in_size)
    if method.out_size:
        return int(method.out_size) // (method.scale if method.task == "sr" else 1)
    return None


def native_side(affine: np.ndarray, crop_side: int = ALIGN_SIDE) -> float:
    """Side of the aligned crop at the photo's own resolution, from an image -> ``crop_side``
    crop affine (a similarity: its scale is sqrt|det|)."""
    return crop_side / math.sqrt(abs(float(np.linalg.det(np.asarray(affine)[:, :2]))))


def _load(method: str, device: str | None, dtype: str | None = None):
    from fsr.methods import MethodError, load_method

    try:
        return load_method(method, device=device, dtype=dtype)
    except MethodError as err:
        raise RestoreError(str(err)) from None


def restore(image, method: str = "bicubic-x4", *, aligned: bool = False, detector="auto",
            background: str = "bicubic", upscale: float | None = None, max_faces: int = 50,
            device: str | None = None, dtype: str | None = None, force_size: bool = False,
            bg_tile: int = BG_TILE,
            max_output_pixels: int = MAX_OUTPUT_PIXELS, check: bool = True) -> RestoreResult:
    """Restore ``image`` (a path, or a uint8 RGB array) with ``method``.

    ``aligned=True``: the image is one FFHQ-aligned face crop; it is resized to the method's
    input size when it differs (the benchmark's protocol). Otherwise faces are detected in the
    photo (none -> RestoreError) and handled at their native size (see the module docstring).
    ``device`` / ``dtype``: where and in which number type the method runs (default
    ``$FSR_DEVICE`` / ``$FSR_DTYPE``, else cpu / float32; see :mod:`fsr.device`).
    """
    from fsr.imageio import read_image

    img = read_image(image) if isinstance(image, (str, os.PathLike, bytes)) else np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise RestoreError(f"expected an HxWx3 uint8 RGB image, got {img.dtype} {img.shape}")
    m = _load(method, device, dtype)
    if aligned:
        in_side, _ = _face_sizes(m)
        crop = img if img.shape[:2] == (in_side, in_side) else _resize_uint8(img, (in_side, in_side))
        (out,) = _run(m, [crop])
        face = RestoredFace(np.array([0, 0, img.shape[1], img.shape[0]], float), 1.0,
                            np.zeros((5, 2)), crop, out, *_angles(img), native_px=img.shape[0],
                            note=f"aligned crop {img.shape[0]} px -> {in_side} px input")
        return RestoreResult(out, m.label, [face], upscale=out.shape[0] / img.shape[0])
    from fsr.restore_photo import restore_photo

    return restore_photo(img, m, detector=detector, background=background, upscale=upscale,
                         max_faces=max_faces, force_size=force_size, bg_tile=bg_tile,
                         max_output_pixels=max_output_pixels, check=check)


def background_upsampler(kind: str, tile: int = BG_TILE):
    """None (bicubic, done by the paste step) or Real-ESRGAN x4plus run in ``tile`` tiles."""
    if kind == "bicubic":
        return None
    if kind not in ("realesrgan-x4plus", "realesrgan"):
        raise RestoreError(f"background upsampler must be one of {', '.join(BACKGROUNDS)}, "
                           f"not {kind!r}")
    upsampler = _load("realesrgan-x4plus", "cpu")
    return method_upsampler(upsampler, tile)


def method_upsampler(method, tile: int = BG_TILE):
    """A whole-photo callable uint8 -> uint8 running ``method`` tile by tile."""
    from fsr.face.paste import upsample_tiled

    def run(photo: np.ndarray) -> np.ndarray:
        return upsample_tiled(photo, lambda t: _run(method, [t])[0], tile=tile)

    return run
