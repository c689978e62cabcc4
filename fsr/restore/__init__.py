"""Restore or super-resolve a face crop or a whole photo with any fsr method.

    from fsr.restore import restore, restore_many
    result = restore("photo.jpg", method="sam3d-x4-samples")   # whole photo, x4
    result.image.shape, [f.note for f in result.faces]
    crop = restore(aligned_face, method="sam3d-x4-samples", aligned=True).image
    for i, res in restore_many(paths, "sam3d-x4-samples", aligned=True, batch_size=8): ...

Whole photos (``aligned=False``): faces are detected and each face's native size is read off
its alignment (the side of an FFHQ-aligned crop at the photo's own resolution). A method only
ever sees a face at or above the size the photo gives it:

- a method with a fixed input (SAM3D x4: 32 px, MMRB: 128 px, GFPGAN: 512 px) makes each
  face by the route measured best on val for the face's size over the input
  (:mod:`fsr.restore.routes`): ``model`` (the face aligned at the input size, restored,
  resized to its output size), ``blend`` (the face's own pixels plus a share of the method's
  detail above their resolution, in a band measured on val) or ``kept`` (the background
  upsampler's face). A face whose method output lies outside val's range for its route (three
  statistics, :func:`fsr.restore.routes.face_statistics`) is kept. A method without a measured
  table restores faces up to its input and keeps larger ones; faces beyond the measured sizes
  are kept. The face's ``note`` says which route it took and why. ``force_size=True`` sends
  every face through the method at its input size (larger ones labelled 'forced').
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

Modules, imported one way, down: this package's entry points -> :mod:`fsr.restore.aligned`
and :mod:`fsr.restore.photo` (-> :mod:`fsr.restore.routes`) -> :mod:`fsr.restore.common`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fsr.restore.aligned import aligned_stream
from fsr.restore.common import (
    ALIGN_SIDE,
    BACKGROUNDS,
    BG_TILE,
    DEFAULT_BATCH_SIZE,
    MAX_OUTPUT_PIXELS,
    RestoredFace,
    RestoreError,
    RestoreResult,
    check_batch_size,
    face_input_side,
    load_restore_method,
    native_side,
)
from fsr.restore.photo import photo_stream

__all__ = ["ALIGN_SIDE", "BACKGROUNDS", "DEFAULT_BATCH_SIZE", "RestoreError", "RestoreResult",
           "RestoredFace", "check_batch_size", "face_input_side", "native_side", "restore",
           "restore_many"]


def restore(image, method: str = "bicubic-x4", *, aligned: bool = False, detector="auto",
            background: str = "bicubic", upscale: float | None = None, max_faces: int = 50,
            device: str | None = None, dtype: str | None = None, force_size: bool = False,
            bg_tile: int = BG_TILE, max_output_pixels: int = MAX_OUTPUT_PIXELS,
            check: bool = True, batch_size: int = DEFAULT_BATCH_SIZE,
            route: str | None = None) -> RestoreResult:
    """Restore ``image`` (a path, or a uint8 RGB array) with ``method``.

    ``aligned=True``: the image is one FFHQ-aligned face crop; it is resized to the method's
    input size when it differs (the benchmark's protocol). Otherwise faces are detected in the
    photo (none -> RestoreError) and handled at their native size (see the module docstring),
    ``batch_size`` faces per method call; ``route`` ('model', 'blend', 'kept') sends every face
    of a fixed-input method that way instead of by the measured rule (a study's control).
    ``device`` / ``dtype``: where and in which number type the method runs (default
    ``$FSR_DEVICE`` / ``$FSR_DTYPE``, else cpu / float32; see :mod:`fsr.device`).
    """
    ((_, result),) = restore_many([image], method, aligned=aligned, detector=detector,
                                  background=background, upscale=upscale, max_faces=max_faces,
                                  device=device, dtype=dtype, force_size=force_size,
                                  bg_tile=bg_tile, max_output_pixels=max_output_pixels,
                                  check=check, batch_size=batch_size, route=route)
    if isinstance(result, Exception):
        raise result
    return result


def restore_many(images: Iterable, method: str, *, aligned: bool = False,
                 batch_size: int = DEFAULT_BATCH_SIZE, detector="auto",
                 background: str = "bicubic", upscale: float | None = None,
                 max_faces: int = 50, device: str | None = None, dtype: str | None = None,
                 force_size: bool = False, bg_tile: int = BG_TILE,
                 max_output_pixels: int = MAX_OUTPUT_PIXELS, check: bool = True,
                 route: str | None = None) -> Iterator[tuple[int, RestoreResult | ValueError]]:
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
    m = load_restore_method(method, device, dtype)
    if aligned:
        return aligned_stream(m, images, n)
    photo_args = {"detector": detector, "background": background, "upscale": upscale,
                  "max_faces": max_faces, "force_size": force_size, "bg_tile": bg_tile,
                  "max_output_pixels": max_output_pixels, "check": check, "route": route}
    return photo_stream(m, images, n, photo_args)
