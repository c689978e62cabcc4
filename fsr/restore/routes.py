"""Which route a face takes through a fixed-input method in whole-photo mode, by its size.

A face of ``n`` px in the photo, upscaled ``k`` times, becomes an ``n*k`` px face. For a method
whose input is ``s`` px there are three ways to make it:

- ``model``: the face aligned at ``s`` px (upsampled when smaller, antialiased down when
  larger), the method's output resized to ``n*k`` px;
- ``blend``: the face's own pixels upsampled to ``n*k`` px, plus the method's detail above the
  face's own resolution (:func:`blend_detail`): what the photo knows stays the photo's, the
  method adds only what the photo cannot have;
- ``kept``: the background upsampler's face (bicubic from ``n`` px): the method is not used.

Which one wins depends on the method and on ``n / s``; :data:`MEASURED` holds the winner per
ratio (for a blend, how much of the detail and up to which size) as measured on the sample set's
val split over ground-truth softness levels (``bench/studies/face_routes.py --softness``; the
table and the command are in docs/restore.md), with val's range of :func:`face_statistics`:
a face outside it is kept, since val says nothing about it. A method without a measured table keeps the rule
that needs no measurement: a face no larger than the input goes through the method, a
larger one is kept. Faces beyond the measured ratios are kept: nothing says the method helps
there, and the kept face reproduces the input exactly.

    >>> choose_route("no-table-method", 20, 32).route, choose_route("no-table-method", 41, 32).route
    ('model', 'kept')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROUTES = ("model", "blend", "kept")


@dataclass(frozen=True)
class MeasuredRoute:
    ratio: float  # face px / method input px
    route: str  # the winner on val
    psnr_gain_db: float  # its mean val PSNR minus bicubic's (kept's), face region, at the
    # softness level where that is smallest
    lpips_change: float  # its mean val LPIPS minus bicubic's at the level where that is largest
    weight: float = 1.0  # blend: the share of the method's detail added (model_detail)
    top: float | None = None  # blend: detail up to top * face px only (None: all of it)
    consist_min: float | None = None  # val's range of face_statistics (2nd percentile):
    energy_max: float | None = None  # a face outside it is kept (val says nothing there)
    agreement_min: float | None = None


# `python bench/studies/face_routes.py --softness --python` on the val split (19 faces, 256 px
# crops: faces up to 2x the input), through whole-photo mode itself (detection, alignment, paste),
# each face at four ground-truth softness levels (a real photo's face is softer than val's
# crops): the route and blend band whose worst level's mean gain is best, among those that beat
# bicubic at every level, on LPIPS, and on 19 of 20 (face, level) pairs. Ratios where MTCNN
# found under 10 faces are left out. Every number is in docs/restore.md. Rerun it when a
# method's weights change.
MEASURED: dict[str, tuple[MeasuredRoute, ...]] = {
    "sam3d-x4-samples": (
        MeasuredRoute(0.5, "blend", 0.43, -0.038, 1.0, 2.0, 49.84, 0.354, None),
        MeasuredRoute(0.75, "blend", 0.57, -0.041, 1.0, 2.0, 47.71, 0.462, None),
        MeasuredRoute(1.0, "blend", 1.18, -0.038, 1.0, 3.0, 45.62, 0.554, None),
        MeasuredRoute(1.25, "blend", 1.18, -0.025, 0.75, None, 45.44, 0.477, 0.891),
        MeasuredRoute(1.5, "blend", 0.96, -0.017, 0.75, 3.0, 44.67, 0.433, 0.883),
        MeasuredRoute(1.75, "blend", 0.74, -0.014, 0.75, 3.0, 44.51, 0.394, 0.911),
        MeasuredRoute(2.0, "blend", 0.57, -0.010, 0.75, 3.0, 44.30, 0.359, 0.861),
    ),
    "sam3d-x8-samples": (
        MeasuredRoute(0.75, "blend", 0.47, -0.074, 1.0, 2.0, 41.64, 0.524, None),
        MeasuredRoute(1.0, "blend", 0.75, -0.118, 1.0, 3.0, 40.59, 0.517, 0.754),
        MeasuredRoute(1.25, "blend", 0.64, -0.074, 1.0, 3.0, 40.39, 0.549, 0.798),
        MeasuredRoute(1.5, "blend", 0.57, -0.047, 1.0, 3.0, 39.60, 0.540, 0.664),
        MeasuredRoute(1.75, "blend", 0.41, -0.028, 0.75, 3.0, 39.39, 0.496, 0.631),
        MeasuredRoute(2.0, "blend", 0.39, -0.021, 0.75, 3.0, 39.54, 0.485, 0.759),
    ),
}


@dataclass(frozen=True)
class RouteChoice:
    route: str  # one of ROUTES
    why: str  # one phrase for the face's note
    weight: float = 1.0  # blend: see MeasuredRoute
    top: float | None = None
    consist_min: float | None = None
    energy_max: float | None = None
    agreement_min: float | None = None


@dataclass(frozen=True)
class FaceStatistics:
    """What whole-photo mode reads of a face once the method has run (:func:`face_statistics`),
    to tell a face like val's from one val says nothing about."""

    energy: float  # the method's detail above the face's size over the face's own top octave
    consist: float  # the method's output shrunk to its input against that input, PSNR dB
    agreement: float | None  # the method's band the face itself holds, fitted to the face's;
    # None when the face is no larger than the method's input (no such band)


def _lowpass(img: np.ndarray, px: int) -> np.ndarray:
    """``img`` (float32, HxWx3) antialiased-bicubic down to ``px`` and back up, unclipped."""
    import torch
    import torch.nn.functional as F

    side = img.shape[:2]
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32)).permute(2, 0, 1)[None]
    t = F.interpolate(t, size=(px, px), mode="bicubic", align_corners=False,
                      antialias=px < side[0])
    t = F.interpolate(t, size=side, mode="bicubic", align_corners=False)
    return t[0].permute(1, 2, 0).numpy()


def band_agreement(model_out: np.ndarray, native: np.ndarray, input_px: int) -> float | None:
    """How much of the method's detail in the band a face larger than the method's input
    holds itself (above ``input_px``, up to the face's ``native`` size) is the face's: the
    least-squares weight of the method's band against the face's own band inside the paste
    ellipse (1: the right amount in the right place; 0: unrelated to the face). This is the
    one band where a photo can check the method's guesses; val says how it goes with the gain
    above the face's size. None when the face is not 1.1x the input (no such band).

    Example:
        >>> face = np.random.default_rng(2).integers(0, 255, (48, 48, 3)).astype(np.uint8)
        >>> band_agreement(face, face, 32)   # the face itself: all of its band, exactly
        1.0
        >>> flat = np.full((128, 128, 3), 120, np.uint8)
        >>> band_agreement(flat, face, 32), band_agreement(flat, face[:34, :34], 32)
        (0.0, None)
    """
    from fsr.face.paste import ellipse_mask
    from fsr.restore.common import resize_uint8

    n = native.shape[0]
    if n < 1.1 * input_px:
        return None
    up = (model_out if model_out.shape[0] == n else resize_uint8(model_out, (n, n)))
    up = up.astype(np.float32)
    own = native.astype(np.float32)
    inside = ellipse_mask(n) > 0.5
    d = (up - _lowpass(up, input_px))[inside].ravel()
    r = (own - _lowpass(own, input_px))[inside].ravel()
    dd = float(d @ d)
    # a flat output's band is float rounding (rms < 0.001 grey levels): no detail at all
    return 0.0 if dd < 1e-6 * d.size else round(float(d @ r) / dd, 4)


def face_statistics(model_out: np.ndarray, model_in: np.ndarray, own: np.ndarray,
                    native: np.ndarray) -> FaceStatistics:
    """Three numbers whole-photo mode can read once the method has run (:class:`FaceStatistics`):
    ``energy``, the rms of the method's detail above the face's resolution
    (:func:`model_detail`, all of it) over the rms of the face's own top octave (``own``,
    uint8, the face at its output size from its own pixels, minus the same shrunk to half the
    ``native`` face's size and back); ``consist``, the method's output shrunk to its input's size
    against that input (PSNR, dB); ``agreement``, :func:`band_agreement` of the output and the
    ``native`` face (uint8, the face aligned at its own size in the photo).

    Example:
        >>> face = np.random.default_rng(1).integers(0, 255, (64, 64, 3)).astype(np.uint8)
        >>> flat = np.full((32, 32, 3), 128, np.uint8)
        >>> st = face_statistics(flat, flat, face, face[:16, :16])
        >>> round(st.energy, 3), st.consist, st.agreement
        (0.0, 99.0, None)
    """
    from fsr.restore.common import resize_uint8

    native_px = native.shape[0]
    side, s = own.shape[0], model_in.shape[0]
    f = own.astype(np.float32)
    low = resize_uint8(resize_uint8(own, (max(native_px // 2, 4),) * 2),
                       (side, side)).astype(np.float32)
    detail = model_detail(model_out, side, native_px)
    energy = float(np.sqrt(np.mean(detail ** 2)) / max(np.sqrt(np.mean((f - low) ** 2)), 1e-3))
    mse = float(np.mean((resize_uint8(model_out, (s, s)).astype(np.float64) - model_in) ** 2))
    consist = 99.0 if mse == 0 else 10 * float(np.log10(255.0 ** 2 / mse))
    return FaceStatistics(energy, consist, band_agreement(model_out, native, s))


def outside_val(choice: RouteChoice, st: FaceStatistics) -> str:
    """Why a face's statistics lie outside val's range for its route ('' when inside).

    Example:
        >>> c = RouteChoice("blend", "val", consist_min=40.0, energy_max=0.5, agreement_min=0.9)
        >>> outside_val(c, FaceStatistics(0.4, 45.0, 1.0)), outside_val(c, FaceStatistics(0.7, 45.0, None))
        ('', "the method's detail is 0.70 of the face's own top octave, val's faces at most 0.50")
        >>> outside_val(c, FaceStatistics(0.4, 45.0, 0.8))
        "the method's guess of the band the face holds fits it at 0.80, val's faces at least 0.90"
    """
    if choice.energy_max is not None and st.energy > choice.energy_max:
        return (f"the method's detail is {st.energy:.2f} of the face's own top octave, val's "
                f"faces at most {choice.energy_max:.2f}")
    if choice.consist_min is not None and st.consist < choice.consist_min:
        return (f"the method's output matches its input at {st.consist:.1f} dB, val's faces at "
                f"least {choice.consist_min:.1f} dB")
    if choice.agreement_min is not None and st.agreement is not None \
            and st.agreement < choice.agreement_min:
        return (f"the method's guess of the band the face holds fits it at {st.agreement:.2f}, "
                f"val's faces at least {choice.agreement_min:.2f}")
    return ""


def choose_route(method: str, native_px: int, input_px: int,
                 table: dict[str, tuple[MeasuredRoute, ...]] | None = None) -> RouteChoice:
    """The route of a ``native_px`` face through ``method`` (input ``input_px``), and why.

    Example:
        >>> t = {"m": (MeasuredRoute(1.0, "model", 0.9, -0.02), MeasuredRoute(1.5, "blend", 0.6, -0.01),
        ...            MeasuredRoute(2.0, "kept", 0.0, 0.0))}
        >>> c = choose_route("m", 46, 32, t)
        >>> c.route, c.why
        ('blend', 'val: blend +0.60 dB over bicubic at 1.50x')
        >>> choose_route("m", 64, 32, t).why
        'val: no route beats bicubic at 2.00x'
        >>> choose_route("m", 90, 32, t).why
        'beyond the measured 2.00x'
    """
    table = MEASURED if table is None else table
    ratio = native_px / input_px
    rows = table.get(method)
    if not rows:
        if ratio <= 1:
            return RouteChoice("model", "no measured table: faces up to the input go through it")
        return RouteChoice("kept", "no measured table: larger faces are kept")
    step = min((b.ratio - a.ratio for a, b in zip(rows, rows[1:], strict=False)), default=0.25)
    if ratio > rows[-1].ratio + step / 2:
        return RouteChoice("kept", f"beyond the measured {rows[-1].ratio:.2f}x")
    row = min(rows, key=lambda r: abs(r.ratio - ratio))
    if row.route == "kept":
        return RouteChoice("kept", f"val: no route beats bicubic at {row.ratio:.2f}x")
    return RouteChoice(row.route, f"val: {row.route} {row.psnr_gain_db:+.2f} dB over bicubic at "
                                  f"{row.ratio:.2f}x", row.weight, row.top, row.consist_min,
                       row.energy_max, row.agreement_min)


def model_detail(model_out: np.ndarray, side: int, native_px: int, weight: float = 1.0,
                 top: float | None = None) -> np.ndarray:
    """The method's detail above a ``native_px`` face's own resolution, at ``side`` px: its
    output resized to ``side``, low-passed at ``top * native_px`` (None: not at all), minus the
    same low-passed at ``native_px`` (each low-pass: antialiased bicubic down and back up),
    times ``weight``; float32, signed, 0-255 units.

    Example:
        >>> flat = np.full((32, 32, 3), 180, np.uint8)   # a method output without detail
        >>> float(np.abs(model_detail(flat, 64, 16)).max()) < 1e-3   # float rounding only
        True
        >>> rng = np.random.default_rng(0)
        >>> out = rng.integers(0, 255, (32, 32, 3)).astype(np.uint8)
        >>> full, half = model_detail(out, 64, 16), model_detail(out, 64, 16, weight=0.5)
        >>> bool(np.allclose(half, full / 2, atol=1e-4))
        True
        >>> band = model_detail(out, 64, 16, top=2.0)   # only up to 32 px: less than all of it
        >>> bool(np.abs(band).mean() < np.abs(full).mean())
        True
    """
    from fsr.data.degradations import resize

    def low(img: np.ndarray, px: int) -> np.ndarray:
        return resize(resize(img, (px, px)), (side, side))

    up = resize(model_out.astype(np.float32) / 255, (side, side))
    high = up if top is None or top * native_px >= side else \
        low(up, max(int(round(top * native_px)), native_px))
    return (high - low(up, native_px)) * (255 * weight)


def blend_detail(base: np.ndarray, model_out: np.ndarray, native_px: int, weight: float = 1.0,
                 top: float | None = None) -> np.ndarray:
    """``base`` (uint8, the face at its output size made from its own pixels) plus
    :func:`model_detail` at ``base``'s size: the blend route on an aligned crop.

    Example:
        >>> base = np.full((64, 64, 3), 100, np.uint8)
        >>> flat = np.full((32, 32, 3), 180, np.uint8)
        >>> bool((blend_detail(base, flat, 16) == base).all())
        True
    """
    out = base.astype(np.float32) + model_detail(model_out, base.shape[0], native_px, weight, top)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
