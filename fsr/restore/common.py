"""What both modes of :func:`fsr.restore.restore` share: the result types, the batching of face
crops through a method, the sizes a method works at, and the background upsamplers.

    >>> from fsr.restore.common import face_input_side, check_batch_size
    >>> check_batch_size(4)
    4
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from fsr.imageio import to_uint8
from fsr.priors import PriorCache, pack_priors

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
        fsr.restore.common.RestoreError: --batch-size must be a whole number >= 1, got '0'
    """
    n = None
    if isinstance(value, str) and value.strip().isdigit():
        n = int(value)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        n = int(value)
    if n is None or n < 1:
        raise RestoreError(f"--batch-size must be a whole number >= 1, got {value!r}")
    return n


def to_tensor(crops: list[np.ndarray]):
    import torch

    return torch.from_numpy(np.stack(crops).astype(np.float32) / 255.0).permute(0, 3, 1, 2)


def resize_uint8(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from fsr.data.degradations import resize

    return to_uint8(resize(img.astype(np.float32) / 255, size))


def method_prior(method, lq_crops: list[np.ndarray]):
    """The method's prior argument (:mod:`fsr.priors.service`), computed from the degraded
    input crops themselves; not cached (a photo's crops are seen once)."""
    if not method.needs_prior:
        return None
    return pack_priors([PriorCache(None).get(c) for c in lq_crops])


def run_crops(method, lq_crops: list[np.ndarray], batch: int = DEFAULT_BATCH_SIZE
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
            out = method(to_tensor(chunk), method_prior(method, chunk)).float().cpu()  # one copy
            for i, o in zip(part, out.permute(0, 2, 3, 1).numpy(), strict=True):
                outputs[i] = to_uint8(o)
    return outputs  # type: ignore[return-value]  # every slot filled above


def run_each(method, lq_crops: list[np.ndarray], batch: int) -> list[np.ndarray | ValueError]:
    """:func:`_run`, but a crop the method rejects fails alone: when a batch raises, its
    crops are run one by one and the culprit gets its error in place of an output."""
    try:
        return list(run_crops(method, lq_crops, batch))
    except ValueError as err:  # MethodError, a prior or resize error: one line per image
        if len(lq_crops) == 1:
            return [err]
    outputs: list[np.ndarray | ValueError] = []
    for crop in lq_crops:
        try:
            outputs += run_crops(method, [crop], 1)
        except ValueError as err:
            outputs.append(err)
    return outputs


def pose_angles(crop: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Head pose of the input face (for display and bucketing), or Nones if unknown."""
    from fsr.pose import estimate_pose

    pose = estimate_pose(crop)
    return (pose.yaw, pose.pitch, pose.roll) if pose.ok else (None, None, None)


def face_sizes(method) -> tuple[int, int]:
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


def aligned_crop(img: np.ndarray, affine512: np.ndarray, side: int, img_scale: float = 1.0
                 ) -> np.ndarray:
    """The face aligned at ``side`` px from ``img`` (the photo resized by ``img_scale``), warped
    bicubic; ``affine512`` maps the photo to the face's ``ALIGN_SIDE`` px crop."""
    import cv2

    from fsr.face.align import BORDER_GREY_RGB, rescale_affine

    a = rescale_affine(affine512, src_scale=img_scale, dst_scale=side / ALIGN_SIDE)
    # bicubic, not facexlib's bilinear: at 32 px a bilinear warp blurs the face the method
    # gets: on multi_face.jpg shrunk to ~30 px faces, SAM3D x4 lost 0.1-0.5 dB to bicubic
    # with it and wins 0.3-0.9 dB with this one (tests/test_restore.py checks the win)
    crop = cv2.warpAffine(img, a, (side, side), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=BORDER_GREY_RGB)
    return crop


def load_restore_method(method: str, device: str | None, dtype: str | None = None):
    from fsr.methods import MethodError, load_method

    try:
        return load_method(method, device=device, dtype=dtype)
    except MethodError as err:
        raise RestoreError(str(err)) from None


def read_input(image) -> np.ndarray:
    from fsr.imageio import read_image

    img = read_image(image) if isinstance(image, (str, os.PathLike, bytes)) else np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise RestoreError(f"expected an HxWx3 uint8 RGB image, got {img.dtype} {img.shape}")
    return img


def background_upsampler(kind: str, tile: int = BG_TILE):
    """None (bicubic, done by the paste step) or Real-ESRGAN x4plus run in ``tile`` tiles."""
    if kind == "bicubic":
        return None
    if kind not in ("realesrgan-x4plus", "realesrgan"):
        raise RestoreError(f"background upsampler must be one of {', '.join(BACKGROUNDS)}, "
                           f"not {kind!r}")
    upsampler = load_restore_method("realesrgan-x4plus", "cpu")
    return method_upsampler(upsampler, tile)


def method_upsampler(method, tile: int = BG_TILE):
    """A whole-photo callable uint8 -> uint8 running ``method`` tile by tile."""
    from fsr.face.paste import upsample_tiled

    def run(photo: np.ndarray) -> np.ndarray:
        return upsample_tiled(photo, lambda t: run_crops(method, [t])[0], tile=tile)

    return run
