"""Restore or super-resolve a face crop or a whole photo with any fsr method.

    >>> from fsr.restore import restore
    >>> result = restore("photo.jpg", method="bicubic-x4")          # whole photo, x4
    >>> result.image.shape, len(result.faces)                      # uint8 RGB, faces found
    >>> crop = restore(aligned_face, method="sam3d-x4", aligned=True).image

Whole photos go through :class:`fsr.face.pipeline.FacePipeline`: detect, align to the FFHQ
template, restore each face, paste back into the upsampled photo (bicubic, or Real-ESRGAN with
``background='realesrgan'``). For SR methods each face is aligned at the method's output size
and downsampled (antialiased) to its input size, so a x4 method sees the photo's own pixels
at 1/4 of its output. Prior-guided methods get the 3D prior computed from that input crop
(never from anything cleaner).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

SR_FACE_SIZE = 128  # output side of SR methods whose records fix none (the SAM3D protocol)


class RestoreError(ValueError):
    """No face, a bad image or an unusable method: one line for the user."""


@dataclass
class RestoredFace:
    box: np.ndarray  # (x1, y1, x2, y2) in the input photo
    score: float
    landmarks: np.ndarray  # (5, 2)
    input_crop: np.ndarray  # uint8 RGB: what the method saw
    output_crop: np.ndarray  # uint8 RGB: what it returned
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None


@dataclass
class RestoreResult:
    image: np.ndarray  # uint8 RGB: the restored crop or photo
    method: str
    faces: list[RestoredFace] = field(default_factory=list)
    dropped_faces: int = 0


def _to_uint8(t) -> np.ndarray:
    return (t.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def _to_tensor(crops: list[np.ndarray]):
    import torch

    return torch.from_numpy(np.stack(crops).astype(np.float32) / 255.0).permute(0, 3, 1, 2)


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
    """(input side, output side) of the aligned crops a method works on."""
    if method.task == "sr":
        out = method.out_size or SR_FACE_SIZE
        return out // method.scale, out
    size = method.out_size or method.in_size or 512
    return size, size


def restore(image, method: str = "bicubic-x4", *, aligned: bool = False, detector: str = "auto",
            background: str = "bicubic", upscale: float | None = None, max_faces: int = 50,
            device: str = "cpu") -> RestoreResult:
    """Restore ``image`` (a path, or a uint8 RGB array) with ``method``.

    ``aligned=True``: the image is one FFHQ-aligned face crop; it is resized to the method's
    input size when it differs. Otherwise faces are detected in the photo (none -> RestoreError).
    ``upscale``: output photo / input photo (default: the method's scale for SR, 1 otherwise).
    """
    from fsr.data.degradations import resize
    from fsr.imageio import read_image
    from fsr.methods import MethodError, load_method

    img = read_image(image) if isinstance(image, (str, os.PathLike, bytes)) else np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise RestoreError(f"expected an HxWx3 uint8 RGB image, got {img.dtype} {img.shape}")
    try:
        m = load_method(method, device=device)
    except MethodError as err:
        raise RestoreError(str(err)) from None
    in_side, out_side = _face_sizes(m)

    if aligned:
        crop = img
        if crop.shape[:2] != (in_side, in_side):
            crop = (resize(img.astype(np.float32) / 255, (in_side, in_side)) * 255).round().astype(np.uint8)
        (out,) = _run(m, [crop])
        face = RestoredFace(np.array([0, 0, img.shape[1], img.shape[0]], float), 1.0,
                            np.zeros((5, 2)), crop, out, *_angles(img))
        return RestoreResult(out, m.label, [face])

    from fsr.face.pipeline import FacePipeline

    scale = upscale if upscale is not None else (m.scale if m.task == "sr" else 1.0)
    bg = _background(background, scale)
    pipe = FacePipeline(detector, out_size=out_side, upscale=scale, max_faces=max_faces,
                        background=bg)
    faces = pipe.detect(img)
    if not faces:
        raise RestoreError("no face found in the image (try --aligned for a face crop, or another "
                           "--detector)")
    lq = [f.crop if in_side == out_side else
          (resize(f.crop.astype(np.float32) / 255, (in_side, in_side)) * 255).round().astype(np.uint8)
          for f in faces]
    outs = _run(m, lq)
    outs = [o if o.shape[0] == out_side else
            (resize(o.astype(np.float32) / 255, (out_side, out_side)) * 255).round().astype(np.uint8)
            for o in outs]
    photo = pipe.paste(img, faces, outs)
    restored = [RestoredFace(f.box, f.score, f.landmarks, c, o, *_angles(f.crop))
                for f, c, o in zip(faces, lq, outs, strict=True)]
    return RestoreResult(photo, m.label, restored, pipe.dropped)


def _background(kind: str, scale: float):
    """None (bicubic, done by the pipeline) or a Real-ESRGAN x4 upsampler for the photo."""
    if kind == "bicubic":
        return None
    if kind != "realesrgan":
        raise RestoreError(f"background must be 'bicubic' or 'realesrgan', not {kind!r}")
    from fsr.data.degradations import resize
    from fsr.methods import load_method

    upsampler = load_method("realesrgan-x4plus")

    def run(photo: np.ndarray) -> np.ndarray:
        out = upsampler(_to_tensor([photo]))[0]
        h, w = photo.shape[:2]
        size = (round(h * scale), round(w * scale))
        return (resize(out.permute(1, 2, 0).numpy(), size) * 255).round().astype(np.uint8)

    return run
