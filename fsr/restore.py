"""Restore or super-resolve a face crop or a whole photo with any fsr method.

    from fsr.restore import restore
    result = restore("photo.jpg", method="sam3d-x4-samples")   # whole photo, x4
    result.image.shape, [f.note for f in result.faces]
    crop = restore(aligned_face, method="sam3d-x4-samples", aligned=True).image
    for i, res in restore_many(paths, "sam3d-x4-samples", aligned=True, batch_size=8): ...

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

Batches (``batch_size``, ``--batch-size``): :func:`restore_many` loads the method once and
runs it on up to ``batch_size`` face crops per call: aligned crops N images at a time, and in
whole-photo mode the faces of one photo and of the next photos together. Only crops of the
same size share a call. Results equal batch 1's to float rounding: a network that draws noise
(MMRB's StyleGAN2) runs one image at a time with its fixed seed
(:meth:`fsr.methods.Method._forward`), so no output depends on the batch it came in.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fsr.methods import Method

SR_FACE_SIZE = 128  # output side of SR methods whose records fix none (the SAM3D protocol)
RESTORE_UPSCALE = 2.0  # GFPGAN's default --upscale for restoration methods
MAX_OUTPUT_PIXELS = 48_000_000  # the whole output photo (uint8: 144 MB)
BG_TILE = 400  # GFPGAN's --bg_tile
BACKGROUNDS = ("bicubic", "realesrgan-x4plus")
ALIGN_SIDE = 512  # the FFHQ template side the detected faces are aligned at first
DEFAULT_BATCH_SIZE = 8  # face crops per method call (bench/run.py's --batch-size default)


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


def check_batch_size(value: object) -> int:
    """``value`` (an int, or the command line's text) as a batch size >= 1, else RestoreError.

    Example:
        >>> check_batch_size("8")
        8
        >>> check_batch_size("0")
        Traceback (most recent call last):
        ...
        fsr.restore.RestoreError: --batch-size must be a whole number >= 1, got '0'
    """
    n = None
    if isinstance(value, str) and value.strip().isdigit():
        n = int(value)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        n = int(value)
    if n is None or n < 1:
        raise RestoreError(f"--batch-size must be a whole number >= 1, got {value!r}")
    return n


def _to_uint8(t) -> np.ndarray:
    # .cpu(): the method's outputs are on its device (--device cuda); numpy needs host memory
    return (t.detach().float().cpu().clamp(0, 1).permute(1, 2, 0).numpy() * 255).round() \
        .astype(np.uint8)


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


def _run(method, lq_crops: list[np.ndarray], batch: int = DEFAULT_BATCH_SIZE
         ) -> list[np.ndarray]:
    """Run ``method`` on uint8 crops, up to ``batch`` crops of one size per call (a batch is
    one tensor); the outputs come back in the crops' order."""
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, crop in enumerate(lq_crops):
        by_shape.setdefault(crop.shape, []).append(i)
    outputs: list[np.ndarray | None] = [None] * len(lq_crops)
    for idx in by_shape.values():
        for j in range(0, len(idx), batch):
            part = idx[j:j + batch]
            chunk = [lq_crops[i] for i in part]
            out = method(_to_tensor(chunk), _prior(method, chunk)).cpu()  # one copy per batch
            for i, o in zip(part, out, strict=True):
                outputs[i] = _to_uint8(o)
    return outputs  # type: ignore[return-value]  # every slot filled above


def _run_each(method, lq_crops: list[np.ndarray], batch: int) -> list[np.ndarray | ValueError]:
    """:func:`_run`, but a crop the method rejects fails alone: when a batch raises, its
    crops are run one by one and the culprit gets its error in place of an output."""
    try:
        return list(_run(method, lq_crops, batch))
    except ValueError as err:  # MethodError, a prior or resize error: one line per image
        if len(lq_crops) == 1:
            return [err]
    outputs: list[np.ndarray | ValueError] = []
    for crop in lq_crops:
        try:
            outputs += _run(method, [crop], 1)
        except ValueError as err:
            outputs.append(err)
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


def _read(image) -> np.ndarray:
    from fsr.imageio import read_image

    img = read_image(image) if isinstance(image, (str, os.PathLike, bytes)) else np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise RestoreError(f"expected an HxWx3 uint8 RGB image, got {img.dtype} {img.shape}")
    return img


def restore(image, method: str = "bicubic-x4", *, aligned: bool = False, detector="auto",
            background: str = "bicubic", upscale: float | None = None, max_faces: int = 50,
            device: str | None = None, dtype: str | None = None, force_size: bool = False,
            bg_tile: int = BG_TILE, max_output_pixels: int = MAX_OUTPUT_PIXELS,
            check: bool = True, batch_size: int = DEFAULT_BATCH_SIZE) -> RestoreResult:
    """Restore ``image`` (a path, or a uint8 RGB array) with ``method``.

    ``aligned=True``: the image is one FFHQ-aligned face crop; it is resized to the method's
    input size when it differs (the benchmark's protocol). Otherwise faces are detected in the
    photo (none -> RestoreError) and handled at their native size (see the module docstring),
    ``batch_size`` faces per method call.
    ``device`` / ``dtype``: where and in which number type the method runs (default
    ``$FSR_DEVICE`` / ``$FSR_DTYPE``, else cpu / float32; see :mod:`fsr.device`).
    """
    ((_, result),) = restore_many([image], method, aligned=aligned, detector=detector,
                                  background=background, upscale=upscale, max_faces=max_faces,
                                  device=device, dtype=dtype, force_size=force_size,
                                  bg_tile=bg_tile, max_output_pixels=max_output_pixels,
                                  check=check, batch_size=batch_size)
    if isinstance(result, Exception):
        raise result
    return result


def restore_many(images: Iterable, method: str, *, aligned: bool = False,
                 batch_size: int = DEFAULT_BATCH_SIZE, detector="auto",
                 background: str = "bicubic", upscale: float | None = None,
                 max_faces: int = 50, device: str | None = None, dtype: str | None = None,
                 force_size: bool = False, bg_tile: int = BG_TILE,
                 max_output_pixels: int = MAX_OUTPUT_PIXELS, check: bool = True
                 ) -> Iterator[tuple[int, RestoreResult | ValueError]]:
    """:func:`restore` on each of ``images`` (paths or uint8 RGB arrays, read lazily) with one
    loaded ``method``, up to ``batch_size`` face crops per method call.

    Yields ``(index into images, result)`` in the images' order as each batch finishes, so a
    caller writes results as they come (an interrupted run keeps what was yielded). An image
    that fails alone (unreadable, no face, a crop the method rejects) yields its error (a
    ``ValueError``: RestoreError, ImageReadError, ...) instead and the others go on. The
    method, ``batch_size`` and the device are checked now, before the first image: a bad one
    raises RestoreError here, once.
    """
    n = check_batch_size(batch_size)
    m = _load(method, device, dtype)
    if aligned:
        return _aligned_stream(m, images, n)
    photo_args = {"detector": detector, "background": background, "upscale": upscale,
                  "max_faces": max_faces, "force_size": force_size, "bg_tile": bg_tile,
                  "max_output_pixels": max_output_pixels, "check": check}
    return _photo_stream(m, images, n, photo_args)


def _aligned_stream(m: Method, images: Iterable, n: int
                    ) -> Iterator[tuple[int, RestoreResult | ValueError]]:
    """Aligned crops, ``n`` images per method call (each resized to the method's input)."""
    in_side, _ = _face_sizes(m)
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []  # (index, image, method input)

    def flush() -> Iterator[tuple[int, RestoreResult | ValueError]]:
        outs = _run_each(m, [crop for _, _, crop in pending], n)
        for (i, img, crop), out in zip(pending, outs, strict=True):
            if isinstance(out, ValueError):
                yield i, out
                continue
            face = RestoredFace(np.array([0, 0, img.shape[1], img.shape[0]], float), 1.0,
                                np.zeros((5, 2)), crop, out, *_angles(img),
                                native_px=img.shape[0],
                                note=f"aligned crop {img.shape[0]} px -> {in_side} px input")
            yield i, RestoreResult(out, m.label, [face], upscale=out.shape[0] / img.shape[0])
        pending.clear()

    for i, image in enumerate(images):
        try:
            img = _read(image)
        except ValueError as err:  # ImageReadError, RestoreError: this image only
            yield i, err
            continue
        same = img.shape[:2] == (in_side, in_side)
        pending.append((i, img, img if same else _resize_uint8(img, (in_side, in_side))))
        if len(pending) == n:
            yield from flush()
    yield from flush()


def _photo_stream(m: Method, images: Iterable, n: int, photo_args: dict
                  ) -> Iterator[tuple[int, RestoreResult | ValueError]]:
    """Whole photos: the face crops of consecutive photos share method calls (up to ``n``)."""
    from fsr.restore_photo import finish_photo, plan_photo

    pending: list = []  # (index, PhotoPlan) whose crops have not been run yet

    def flush() -> Iterator[tuple[int, RestoreResult | ValueError]]:
        crops = [c for _, plan in pending for c in plan.crops]
        outs = _run_each(m, crops, n)
        start = 0
        for i, plan in pending:
            mine, start = outs[start:start + len(plan.work)], start + len(plan.work)
            result = next((o for o in mine if isinstance(o, ValueError)), None)
            if result is None:
                try:
                    result = finish_photo(plan, mine)
                except ValueError as err:  # a paste or check failing: this photo only
                    result = err
            yield i, result
        pending.clear()

    for i, image in enumerate(images):
        try:
            plan = plan_photo(_read(image), m, **photo_args)
        except ValueError as err:  # unreadable, no face, bad --upscale: this photo only
            yield i, err
            continue
        pending.append((i, plan))
        # a photo with no face for the method (whole-photo method, all faces kept) is
        # finished at once; the others wait until n crops are there. Either way results keep
        # the images' order and at most n photos' crops are held.
        if not plan.work or sum(len(p.work) for _, p in pending) >= n:
            yield from flush()
    yield from flush()


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
