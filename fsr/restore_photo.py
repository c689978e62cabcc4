"""Whole-photo mode of :func:`fsr.restore.restore`: every face at its native resolution.

    >>> from fsr.methods import load_method
    >>> from fsr.restore_photo import restore_photo
    >>> res = restore_photo(img_rgb, load_method("sam3d-x4-samples"))   # doctest: +SKIP
    >>> [f.note for f in res.faces]                                    # doctest: +SKIP
    ['face 1: 210 px > 32 px input of sam3d-x4-samples: kept']

See :mod:`fsr.restore` for the rules; this module only carries them out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fsr.restore import (
    ALIGN_SIDE,
    DEFAULT_BATCH_SIZE,
    RESTORE_UPSCALE,
    RestoredFace,
    RestoreError,
    RestoreResult,
    _angles,
    _resize_uint8,
    _run,
    background_upsampler,
    face_input_side,
    method_upsampler,
    native_side,
)

if TYPE_CHECKING:
    from fsr.face.pipeline import FacePipeline
    from fsr.methods import Method


def output_scale(shape: tuple[int, ...], wanted: float, max_pixels: int) -> tuple[float, str]:
    """``wanted``, or the largest scale whose output has at most ``max_pixels`` (and a note).

    Example:
        >>> output_scale((1000, 1000, 3), 8, 16_000_000)
        (4.0, 'output capped at 16 MP: the photo is upscaled x4.00 instead of x8')
    """
    h, w = shape[:2]
    if h * w * wanted * wanted <= max_pixels:
        return float(wanted), ""
    cap = math.sqrt(max_pixels / (h * w))
    return cap, (f"output capped at {max_pixels / 1e6:.0f} MP: the photo is upscaled "
                 f"x{cap:.2f} instead of x{wanted:g}")


def _crop(img: np.ndarray, affine512: np.ndarray, side: int, img_scale: float = 1.0):
    """The face aligned at ``side`` px from ``img`` (the photo resized by ``img_scale``)."""
    import cv2

    from fsr.face.align import BORDER_GREY_RGB, rescale_affine

    a = rescale_affine(affine512, src_scale=img_scale, dst_scale=side / ALIGN_SIDE)
    # bicubic, not facexlib's bilinear: at 32 px a bilinear warp blurs the face the method
    # gets: on multi_face.jpg shrunk to ~30 px faces, SAM3D x4 lost 0.1-0.5 dB to bicubic
    # with it and wins 0.3-0.9 dB with this one (tests/test_restore.py checks the win)
    crop = cv2.warpAffine(img, a, (side, side), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=BORDER_GREY_RGB)
    return crop, a


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else round(10 * math.log10(255.0 ** 2 / mse), 2)


def check_faces(img: np.ndarray, out: np.ndarray, faces: list[RestoredFace], affines: list,
                notes: list[str]) -> None:
    """Identity check: the output scaled back to the input's size against the input, per face
    (PSNR in the face box; dlib descriptor distance of the aligned faces at their native size,
    metric 'identity-dist': same person below 0.6, where dlib's cosine cannot tell people apart)."""
    import torch

    back = _resize_uint8(out, img.shape[:2]) if out.shape[:2] != img.shape[:2] else out
    h, w = img.shape[:2]
    metric, problem = None, ""
    try:
        from fsr.metrics import create_metric

        metric = create_metric("identity-dist")
    except Exception as err:  # noqa: BLE001 - reported once, PSNR still computed
        problem = (str(err).splitlines() or [type(err).__name__])[0]
    for f, a512 in zip(faces, affines, strict=True):
        x1, y1 = max(int(math.floor(f.box[0])), 0), max(int(math.floor(f.box[1])), 0)
        x2, y2 = min(int(math.ceil(f.box[2])), w), min(int(math.ceil(f.box[3])), h)
        if x2 > x1 and y2 > y1:
            f.psnr_vs_input = _psnr(back[y1:y2, x1:x2], img[y1:y2, x1:x2])
        if metric is None:
            continue
        side = max(f.native_px, 64)  # dlib's HOG finds no face in a smaller crop
        pair = [_crop(x, a512, side)[0] for x in (back, img)]
        t = [torch.from_numpy(p.astype(np.float32) / 255).permute(2, 0, 1)[None] for p in pair]
        try:
            with torch.no_grad():
                f.identity_dist_vs_input = round(float(metric(t[0], t[1])[0]), 4)
        except Exception as err:  # noqa: BLE001 - one face without a number, said so
            problem = (str(err).splitlines() or [type(err).__name__])[0]
    if problem:
        notes.append(f"identity check not computed for every face: {problem}")


@dataclass
class PhotoPlan:
    """A photo detected and cut up, waiting for its faces' network outputs (``crops``):
    :func:`fsr.restore.restore_many` runs the crops of several photos in one batch, then
    :func:`finish_photo` pastes each photo's own outputs back."""

    img: np.ndarray
    method: Method
    scale: float
    pipe: FacePipeline  # its paste mask and dropped-face count
    faces: list  # the pipeline's detected faces (their affines)
    restored: list[RestoredFace]
    work: list[tuple[int, np.ndarray, np.ndarray]]  # (index in restored, input crop, affine)
    kept_idx: list[int]
    notes: list[str]
    upsampler: Callable[[np.ndarray], np.ndarray] | None  # background (None: bicubic)
    canvas: np.ndarray | None  # whole-photo methods: their output, made while planning
    check: bool

    @property
    def crops(self) -> list[np.ndarray]:
        return [lq for _, lq, _ in self.work]


def plan_photo(img: np.ndarray, m, *, detector="auto", background: str = "bicubic",
               upscale: float | None = None, max_faces: int = 50, force_size: bool = False,
               bg_tile: int = 400, max_output_pixels: int = 48_000_000,
               check: bool = True) -> PhotoPlan:
    """Detect, size and cut out the faces that go through ``m`` (see :mod:`fsr.restore`)."""
    from fsr.face.paste import upsample_background
    from fsr.face.pipeline import FacePipeline

    notes: list[str] = []
    wanted = upscale if upscale is not None else (m.scale if m.task == "sr" else RESTORE_UPSCALE)
    if wanted <= 0:
        raise RestoreError(f"--upscale must be > 0, got {wanted}")
    scale, capped = output_scale(img.shape, wanted, max_output_pixels)
    notes += [capped] if capped else []
    pipe = FacePipeline(detector, out_size=ALIGN_SIDE, upscale=scale, max_faces=max_faces)
    faces = pipe.detect(img)
    if not faces:
        raise RestoreError("no face found in the image (try --aligned for a face crop, or another "
                           "--detector)")
    side = face_input_side(m)
    canvas, upsampler = None, None
    if side is None:  # any size: the method is the photo's upsampler; faces are not cut out
        # the method's own result, resized to the photo's exact output size when scales differ
        canvas = upsample_background(img, scale, method_upsampler(m, bg_tile))
        notes.append(f"{m.label} takes any size: it ran on the whole photo"
                     + (f" in {bg_tile} px tiles" if bg_tile > 0 and max(img.shape[:2]) > bg_tile
                        else ""))
    else:  # built now (a missing upsampler fails before any work), run in finish_photo
        upsampler = background_upsampler(background, bg_tile)
        if background != "bicubic":
            notes.append(f"background: Real-ESRGAN x4plus in {bg_tile} px tiles")
    restored, work, kept_idx = [], [], []
    for i, f in enumerate(faces, 1):
        n = native_side(f.affine)
        px = int(round(n))
        native, _ = _crop(img, f.affine, max(px, 8))
        if side is None:
            out_side = max(int(round(n * scale)), 8)
            rf = RestoredFace(f.box, f.score, f.landmarks, native,
                              _crop(canvas, f.affine, out_side, scale)[0], native_px=px,
                              status="whole-photo",
                              note=f"face {i}: {px} px, the whole photo went through {m.label}")
        elif px <= side or force_size:
            status = "restored" if px == side else "upsampled" if px < side else "forced"
            how = {"restored": f"{px} px = {side} px input of {m.label}: restored",
                   "upsampled": f"{px} px < {side} px input of {m.label}: upsampled to "
                                f"{side} px and restored",
                   "forced": f"{px} px > {side} px input of {m.label}: SHRUNK to {side} px "
                             "(--force-size) and restored"}[status]
            lq, _ = _crop(img, f.affine, side)
            rf = RestoredFace(f.box, f.score, f.landmarks, lq, lq, native_px=px, status=status,
                              note=f"face {i}: {how}")
            work.append((len(restored), lq, f.affine))
        else:
            rf = RestoredFace(f.box, f.score, f.landmarks, native, native, native_px=px,
                              status="kept", note=f"face {i}: {px} px > {side} px input of "
                                                  f"{m.label}: kept")
            kept_idx.append(len(restored))
        rf.yaw, rf.pitch, rf.roll = _angles(native)
        restored.append(rf)
    return PhotoPlan(img, m, scale, pipe, faces, restored, work, kept_idx, notes, upsampler,
                     canvas, check)


def finish_photo(plan: PhotoPlan, outs: list[np.ndarray]) -> RestoreResult:
    """Paste ``outs`` (the method's outputs for ``plan.crops``, in order) into the upsampled
    photo, and check every face against the input."""
    from fsr.face.paste import paste_faces, upsample_background

    if len(outs) != len(plan.work):
        raise RestoreError(f"{len(outs)} restored face(s) for {len(plan.work)} input crop(s)")
    img, scale, restored, notes = plan.img, plan.scale, plan.restored, plan.notes
    canvas = plan.canvas
    if canvas is None:  # fixed-input method: the background upsampler makes the canvas
        canvas = upsample_background(img, scale, plan.upsampler)
    photo = canvas
    if plan.work:
        from fsr.face.align import rescale_affine

        affines = [rescale_affine(a, dst_scale=o.shape[0] / ALIGN_SIDE)
                   for (_, _, a), o in zip(plan.work, outs, strict=True)]
        photo = paste_faces(canvas, outs, affines, upscale=scale, mask=plan.pipe.mask)
        for (k, _, _), o in zip(plan.work, outs, strict=True):
            restored[k].output_crop = o
    for k in plan.kept_idx:  # what the output holds there: the background's face
        f = restored[k]
        f.output_crop = _crop(photo, plan.faces[k].affine,
                              max(int(round(f.native_px * scale)), 8), scale)[0]
    if plan.check:
        check_faces(img, photo, restored, [f.affine for f in plan.faces], notes)
    return RestoreResult(photo, plan.method.label, restored, plan.pipe.dropped, upscale=scale,
                         notes=notes)


def restore_photo(img: np.ndarray, m, *, detector="auto", background: str = "bicubic",
                  upscale: float | None = None, max_faces: int = 50, force_size: bool = False,
                  bg_tile: int = 400, max_output_pixels: int = 48_000_000,
                  check: bool = True, batch_size: int = DEFAULT_BATCH_SIZE) -> RestoreResult:
    """Detect, size, restore or keep, paste: see :mod:`fsr.restore`. The photo's faces go
    through the method ``batch_size`` at a time."""
    plan = plan_photo(img, m, detector=detector, background=background, upscale=upscale,
                      max_faces=max_faces, force_size=force_size, bg_tile=bg_tile,
                      max_output_pixels=max_output_pixels, check=check)
    return finish_photo(plan, _run(m, plan.crops, batch_size))
