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
ratio as measured on the sample set's val split (``bench/studies/face_routes.py``; the table
and the command are in docs/restore.md). A method without a measured table keeps the rule
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
    psnr_gain_db: float  # its mean val PSNR minus bicubic's (kept's), face region
    lpips_change: float  # its mean val LPIPS minus bicubic's (negative: better)


# `python bench/studies/face_routes.py --python` on the val split (19 faces, 256 px crops: faces
# up to 2x the input), through whole-photo mode itself (detection, alignment, paste); ratios
# where MTCNN found under 10 faces are left out. Every route's numbers are in docs/restore.md.
# Rerun it when a method's weights change.
MEASURED: dict[str, tuple[MeasuredRoute, ...]] = {
    "sam3d-x4-samples": (
        MeasuredRoute(0.5, "blend", 0.39, -0.078),
        MeasuredRoute(0.75, "blend", 0.52, -0.103),
        MeasuredRoute(1.0, "blend", 1.17, -0.090),
        MeasuredRoute(1.25, "blend", 1.36, -0.071),
        MeasuredRoute(1.5, "blend", 1.10, -0.055),
        MeasuredRoute(1.75, "blend", 0.81, -0.036),
        MeasuredRoute(2.0, "blend", 0.62, -0.025),
    ),
    "sam3d-x8-samples": (
        MeasuredRoute(0.75, "blend", 0.37, -0.242),
        MeasuredRoute(1.0, "blend", 0.73, -0.200),
        MeasuredRoute(1.25, "blend", 0.63, -0.114),
        MeasuredRoute(1.5, "blend", 0.57, -0.072),
        MeasuredRoute(1.75, "blend", 0.40, -0.054),
        MeasuredRoute(2.0, "blend", 0.38, -0.038),
    ),
}


@dataclass(frozen=True)
class RouteChoice:
    route: str  # one of ROUTES
    why: str  # one phrase for the face's note


def choose_route(method: str, native_px: int, input_px: int,
                 table: dict[str, tuple[MeasuredRoute, ...]] | None = None) -> RouteChoice:
    """The route of a ``native_px`` face through ``method`` (input ``input_px``), and why.

    Example:
        >>> t = {"m": (MeasuredRoute(1.0, "model", 0.9, -0.02), MeasuredRoute(1.5, "blend", 0.6, -0.01),
        ...            MeasuredRoute(2.0, "kept", 0.0, 0.0))}
        >>> choose_route("m", 46, 32, t)
        RouteChoice(route='blend', why='val: blend +0.60 dB over bicubic at 1.50x')
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
                                  f"{row.ratio:.2f}x")


def model_detail(model_out: np.ndarray, side: int, native_px: int) -> np.ndarray:
    """The method's detail above a ``native_px`` face's own resolution, at ``side`` px: its
    output resized to ``side`` minus the same resized down to ``native_px`` and back up
    (antialiased bicubic); float32, signed, 0-255 units.

    Example:
        >>> flat = np.full((32, 32, 3), 180, np.uint8)   # a method output without detail
        >>> float(np.abs(model_detail(flat, 64, 16)).max()) < 1e-3   # float rounding only
        True
    """
    from fsr.data.degradations import resize

    up = resize(model_out.astype(np.float32) / 255, (side, side))
    low = resize(resize(up, (native_px, native_px)), (side, side))
    return (up - low) * 255


def blend_detail(base: np.ndarray, model_out: np.ndarray, native_px: int) -> np.ndarray:
    """``base`` (uint8, the face at its output size made from its own pixels) plus
    :func:`model_detail` at ``base``'s size: the blend route on an aligned crop.

    Example:
        >>> base = np.full((64, 64, 3), 100, np.uint8)
        >>> flat = np.full((32, 32, 3), 180, np.uint8)
        >>> bool((blend_detail(base, flat, 16) == base).all())
        True
    """
    out = base.astype(np.float32) + model_detail(model_out, base.shape[0], native_px)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
