"""Whole-photo mode of :func:`fsr.restore.restore`: every face at its native resolution, each
through the route measured best for its size (:mod:`fsr.restore.routes`).

    >>> from fsr.methods import load_method
    >>> from fsr.restore.photo import restore_photo
    >>> res = restore_photo(img_rgb, load_method("sam3d-x4-samples"))   # doctest: +SKIP
    >>> [f.note for f in res.faces]                                    # doctest: +SKIP
    ['face 1: 210 px > 32 px input of sam3d-x4-samples: kept (beyond the measured 2.00x)']

See :mod:`fsr.restore` for the rules; this module only carries them out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fsr.restore.common import (
    ALIGN_SIDE,
    DEFAULT_BATCH_SIZE,
    RESTORE_UPSCALE,
    RestoredFace,
    RestoreError,
    RestoreResult,
    aligned_crop,
    background_upsampler,
    face_input_side,
    method_upsampler,
    native_side,
    pose_angles,
    read_input,
    resize_uint8,
    run_crops,
    run_each,
)
from fsr.restore.routes import (
    ROUTES,
    RouteChoice,
    choose_route,
    face_statistics,
    model_detail,
    outside_val,
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


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else round(10 * math.log10(255.0 ** 2 / mse), 2)


def check_faces(img: np.ndarray, out: np.ndarray, faces: list[RestoredFace], affines: list,
                notes: list[str]) -> None:
    """Identity check: the output scaled back to the input's size against the input, per face
    (PSNR in the face box; dlib descriptor distance of the aligned faces at their native size,
    metric 'identity-dist': same person below 0.6, where dlib's cosine cannot tell people apart)."""
    import torch

    back = resize_uint8(out, img.shape[:2]) if out.shape[:2] != img.shape[:2] else out
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
        pair = [aligned_crop(x, a512, side) for x in (back, img)]
        t = [torch.from_numpy(p.astype(np.float32) / 255).permute(2, 0, 1)[None] for p in pair]
        try:
            with torch.no_grad():
                f.identity_dist_vs_input = round(float(metric(t[0], t[1])[0]), 4)
        except Exception as err:  # noqa: BLE001 - one face without a number, said so
            problem = (str(err).splitlines() or [type(err).__name__])[0]
    if problem:
        notes.append(f"identity check not computed for every face: {problem}")


@dataclass
class FaceWork:
    """One face that goes through the method: its crop at the method's input and its route."""

    index: int  # in PhotoPlan.restored
    crop: np.ndarray  # uint8, the method's input side
    affine: np.ndarray  # photo -> ALIGN_SIDE crop
    route: str  # 'model' or 'blend' (fsr.restore.routes)
    native_px: int
    weight: float = 1.0  # blend: model_detail's weight and top
    top: float | None = None
    choice: RouteChoice | None = None  # the rule's row: val's range of face_statistics
    head: str = ""  # the note's 'face i: n px > s px input of m: '


@dataclass
class PhotoPlan:
    """A photo detected and cut up, waiting for its faces' network outputs (``crops``):
    :func:`photo_stream` runs the crops of several photos in one batch, then
    :func:`finish_photo` pastes each photo's own outputs back."""

    img: np.ndarray
    method: Method
    scale: float
    pipe: FacePipeline  # its paste mask and dropped-face count
    faces: list  # the pipeline's detected faces (their affines)
    restored: list[RestoredFace]
    work: list[FaceWork]
    kept_idx: list[int]
    notes: list[str]
    upsampler: Callable[[np.ndarray], np.ndarray] | None  # background (None: bicubic)
    canvas: np.ndarray | None  # whole-photo methods: their output, made while planning
    check: bool

    @property
    def crops(self) -> list[np.ndarray]:
        return [w.crop for w in self.work]


def _method_input(img: np.ndarray, affine512: np.ndarray, px: int, side: int) -> np.ndarray:
    """The face at the method's ``side``: warped straight to it when the face is no larger,
    else warped at its own ``px`` and antialiased down (a warp alone would alias)."""
    if px <= side:
        return aligned_crop(img, affine512, side)
    return resize_uint8(aligned_crop(img, affine512, px), (side, side))


def _face_head(i: int, px: int, side: int, label: str) -> str:
    rel = "<" if px < side else "=" if px == side else ">"
    return f"face {i}: {px} px {rel} {side} px input of {label}: "


def _face_plan(i: int, px: int, side: int, label: str, force_size: bool,
               route: str | None = None) -> tuple[str, str, RouteChoice]:
    """(status, note, route) of face ``i`` of ``px`` px through a method with a ``side`` px
    input; ``route`` (one of fsr.restore.routes.ROUTES) overrides the measured rule."""
    rel = "<" if px < side else "=" if px == side else ">"
    head = _face_head(i, px, side, label)
    if force_size:
        forced = RouteChoice("model", "--force-size")
        if px <= side:
            return ("restored" if px == side else "upsampled"), head + (
                "restored" if px == side else f"upsampled to {side} px and restored"), forced
        return "forced", head + f"SHRUNK to {side} px (--force-size) and restored", forced
    choice = choose_route(label, px, side) if route is None else \
        RouteChoice(route, "route chosen by the caller")
    if choice.route == "kept":
        return "kept", head + f"kept ({choice.why})", choice
    if choice.route == "blend":
        band = "" if choice.top is None else f" up to {choice.top:g}x"
        share = "" if choice.weight == 1 else f"{choice.weight:g} x "
        return "blended", head + (f"blended: {share}its {side} px result's detail above {px} px"
                                  f"{band} added to the face's own ({choice.why})"), choice
    status, what = {"<": ("upsampled", f"upsampled to {side} px and restored"),
                    "=": ("restored", "restored"),
                    ">": ("shrunk", f"shrunk to {side} px and restored")}[rel]
    return status, head + f"{what} ({choice.why})", choice


def plan_photo(img: np.ndarray, m, *, detector="auto", background: str = "bicubic",
               upscale: float | None = None, max_faces: int = 50, force_size: bool = False,
               bg_tile: int = 400, max_output_pixels: int = 48_000_000,
               check: bool = True, route: str | None = None) -> PhotoPlan:
    """Detect, size and cut out the faces that go through ``m`` (see :mod:`fsr.restore`);
    ``route``: every face by that route instead of the measured rule (a study's control)."""
    from fsr.face.paste import upsample_background
    from fsr.face.pipeline import FacePipeline

    notes: list[str] = []
    wanted = upscale if upscale is not None else (m.scale if m.task == "sr" else RESTORE_UPSCALE)
    if wanted <= 0:
        raise RestoreError(f"--upscale must be > 0, got {wanted}")
    if route is not None and route not in ROUTES:
        raise RestoreError(f"route must be one of {', '.join(ROUTES)}, not {route!r}")
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
        native = aligned_crop(img, f.affine, max(px, 8))
        if side is None:
            out_side = max(int(round(n * scale)), 8)
            rf = RestoredFace(f.box, f.score, f.landmarks, native,
                              aligned_crop(canvas, f.affine, out_side, scale), native_px=px,
                              status="whole-photo",
                              note=f"face {i}: {px} px, the whole photo went through {m.label}")
        else:
            status, note, choice = _face_plan(i, px, side, m.label, force_size, route)
            if status == "kept":
                rf = RestoredFace(f.box, f.score, f.landmarks, native, native, native_px=px,
                                  status=status, note=note)
                kept_idx.append(len(restored))
            else:
                lq = _method_input(img, f.affine, px, side)
                rf = RestoredFace(f.box, f.score, f.landmarks, lq, lq, native_px=px,
                                  status=status, note=note)
                work.append(FaceWork(len(restored), lq, f.affine,
                                     "blend" if status == "blended" else "model", max(px, 8),
                                     choice.weight, choice.top, choice,
                                     note[:len(_face_head(i, px, side, m.label))]))
        rf.yaw, rf.pitch, rf.roll = pose_angles(native)
        restored.append(rf)
    return PhotoPlan(img, m, scale, pipe, faces, restored, work, kept_idx, notes, upsampler,
                     canvas, check)


def finish_photo(plan: PhotoPlan, outs: list[np.ndarray]) -> RestoreResult:
    """Make each face at its output size from the method's outputs for ``plan.crops`` (in
    order) by its route, paste them into the upsampled photo, and check every face against
    the input."""
    from fsr.face.paste import paste_faces, upsample_background

    if len(outs) != len(plan.work):
        raise RestoreError(f"{len(outs)} restored face(s) for {len(plan.work)} input crop(s)")
    img, scale, restored, notes = plan.img, plan.scale, plan.restored, plan.notes
    canvas = plan.canvas
    if canvas is None:  # fixed-input method: the background upsampler makes the canvas
        canvas = upsample_background(img, scale, plan.upsampler)
    photo, kept_idx = canvas, list(plan.kept_idx)
    if plan.work:
        from fsr.face.align import rescale_affine
        from fsr.face.paste import add_detail

        made, blends = [], []  # (work, face) pasted whole; (work, detail) added to the canvas
        for w, o in zip(plan.work, outs, strict=True):
            side = max(int(round(w.native_px * scale)), 8)  # the face's size in the output
            if w.choice is not None:  # a face unlike val's faces is kept
                own = aligned_crop(canvas, w.affine, side, scale)
                native = aligned_crop(img, w.affine, w.native_px)
                why = outside_val(w.choice, face_statistics(o, w.crop, own, native))
                if why:
                    f = restored[w.index]
                    f.status = "kept"
                    f.note = w.head + f"kept, not {w.route}: {why} ({w.choice.why})"
                    kept_idx.append(w.index)
                    continue
            if w.route == "blend":  # the canvas keeps its pixels; only the detail is warped
                blends.append((w, model_detail(o, side, w.native_px, w.weight, w.top)))
            else:  # antialiased, not the paste's warp: a 128 px output for a 24 px face aliases
                made.append((w, o if o.shape[0] == side else resize_uint8(o, (side, side))))
        if made:
            photo = paste_faces(canvas, [o for _, o in made],
                                [rescale_affine(w.affine, dst_scale=o.shape[0] / ALIGN_SIDE)
                                 for w, o in made], upscale=scale, mask=plan.pipe.mask)
        if blends:
            sides = [d.shape[0] for _, d in blends]
            affines = [rescale_affine(w.affine, dst_scale=n / ALIGN_SIDE)
                       for (w, _), n in zip(blends, sides, strict=True)]
            faces = [aligned_crop(canvas, w.affine, n, scale)
                     for (w, _), n in zip(blends, sides, strict=True)]  # a parser's mask input
            photo = add_detail(photo, [d for _, d in blends], affines, upscale=scale,
                               mask=plan.pipe.mask, mask_faces=faces)
        for w, o in made:
            restored[w.index].output_crop = o
        for w, d in blends:  # what the output holds there
            restored[w.index].output_crop = aligned_crop(photo, w.affine, d.shape[0], scale)
    for k in kept_idx:  # what the output holds there: the background's face
        f = restored[k]
        f.output_crop = aligned_crop(photo, plan.faces[k].affine,
                                     max(int(round(f.native_px * scale)), 8), scale)
    if plan.check:
        check_faces(img, photo, restored, [f.affine for f in plan.faces], notes)
    return RestoreResult(photo, plan.method.label, restored, plan.pipe.dropped, upscale=scale,
                         notes=notes)


def restore_photo(img: np.ndarray, m, *, detector="auto", background: str = "bicubic",
                  upscale: float | None = None, max_faces: int = 50, force_size: bool = False,
                  bg_tile: int = 400, max_output_pixels: int = 48_000_000,
                  check: bool = True, batch_size: int = DEFAULT_BATCH_SIZE,
                  route: str | None = None) -> RestoreResult:
    """Detect, size, route, restore, paste: see :mod:`fsr.restore`. The photo's faces go
    through the method ``batch_size`` at a time."""
    plan = plan_photo(img, m, detector=detector, background=background, upscale=upscale,
                      max_faces=max_faces, force_size=force_size, bg_tile=bg_tile,
                      max_output_pixels=max_output_pixels, check=check, route=route)
    return finish_photo(plan, run_crops(m, plan.crops, batch_size))


def photo_stream(m: Method, images: Iterable, n: int, photo_args: dict
                 ) -> Iterator[tuple[int, RestoreResult | ValueError]]:
    """Whole photos: the face crops of consecutive photos share method calls (up to ``n``)."""
    pending: list = []  # (index, PhotoPlan) whose crops have not been run yet

    def flush() -> Iterator[tuple[int, RestoreResult | ValueError]]:
        crops = [c for _, plan in pending for c in plan.crops]
        outs = run_each(m, crops, n)
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
            plan = plan_photo(read_input(image), m, **photo_args)
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
