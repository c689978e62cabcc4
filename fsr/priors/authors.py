"""Read the SAM3D authors' 3D-prior files when a user has them (their BFM/R-Net pipeline
cannot run here; its outputs can still be used).

Folder layouts of the authors' code (Face-Super-Resolution-Guided-by-3D-Facial-Priors):

* SR training/test sets: ``<root>/data/<name>.<ext>`` with ``<root>/render/<name>.png``
  (the render pixel-aligned with the image; the SR loader crops and resizes both alike).
* prior pipeline (``3Dface_priors``): ``dataset/<video>/blurry/<frame>.png`` (input),
  ``dataset/<video>/face/<frame>.txt`` (5 landmarks), ``training_set/<video>/face/<frame>.txt``
  (R-Net coefficients, one row), ``dataset/<video>/face_render/<frame>.png`` (render in the
  224x224 aligned frame, RGBA) and ``training_set/<video>/render/<frame>.png`` (the render
  restored to the input's frame).

Coefficients: 239 values = id 80, exp 64, tex 80, angles 3 (x, y, z radians), SH gamma 9
(grey), translation 3 (the authors' R-Net); 257 values = the same with gamma 27 (RGB), as
Deep3DFaceReconstruction's public R-Net writes them.

    prior = load_authors_prior("celeba/test/data/000123.jpg")   # finds render/000123.png
    prior.source, prior.render.shape  # -> ('authors', (218, 178, 3))
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from fsr.pose.common import Pose, rotation_to_ypr
from fsr.priors.prior import Prior

AUTHORS_LAYOUTS: dict[int, tuple[tuple[str, int], ...]] = {
    239: (("id", 80), ("exp", 64), ("tex", 80), ("angles", 3), ("gamma", 9), ("translation", 3)),
    257: (("id", 80), ("exp", 64), ("tex", 80), ("angles", 3), ("gamma", 27), ("translation", 3)),
}
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class AuthorsPriorError(ValueError):
    """The authors' prior files are missing or malformed (one-line message)."""


def split_authors_coeffs(coeffs) -> dict[str, np.ndarray]:
    """Split a 239- or 257-value R-Net coefficient vector into its named parts."""
    c = np.asarray(coeffs, dtype=np.float64).ravel()
    layout = AUTHORS_LAYOUTS.get(c.size)
    if layout is None:
        raise AuthorsPriorError(
            f"expected 239 coefficients (id 80, exp 64, tex 80, angles 3, gamma 9, trans 3) or "
            f"257 (gamma 27), got {c.size}")
    out, i = {}, 0
    for name, n in layout:
        out[name] = c[i : i + n]
        i += n
    return out


def read_authors_coeffs(path: str | Path) -> np.ndarray:
    """Coefficients from the authors' ``np.savetxt`` file (one row, or one value per line)."""
    try:
        values = np.loadtxt(path, dtype=np.float64, ndmin=1).ravel()
    except (OSError, ValueError) as e:
        raise AuthorsPriorError(f"cannot read coefficients from {path}: {e}") from None
    split_authors_coeffs(values)  # validates the length
    return values


def authors_rotation(angles) -> np.ndarray:
    """Face-to-camera rotation of the authors' Euler angles: Rz(z) @ Ry(y) @ Rx(x), BFM axes
    (x right, y up, z towards the camera, as fsr's GL axes)."""
    ax, ay, az = (float(a) for a in np.asarray(angles).ravel()[:3])
    cx, sx, cy, sy, cz, sz = (math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay),
                              math.cos(az), math.sin(az))
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def authors_pose(coeffs) -> Pose:
    """Head pose (fsr convention) of an authors' coefficient vector."""
    yaw, pitch, roll = rotation_to_ypr(authors_rotation(split_authors_coeffs(coeffs)["angles"]))
    return Pose(yaw, pitch, roll, True, "authors")


def _sibling(path: Path, folder: str, suffixes=(".png",)) -> list[Path]:
    return [path.parent.parent / folder / (path.stem + s) for s in suffixes]


def _as_training_set(path: Path) -> Path | None:
    parts = list(path.parts)
    if "dataset" not in parts:
        return None
    i = len(parts) - 1 - parts[::-1].index("dataset")
    return Path(*parts[:i], "training_set", *parts[i + 1 :])


def find_authors_files(image_path: str | Path) -> dict[str, Path | None]:
    """Locate the pixel-aligned render, the aligned-frame render and the coefficient file that
    belong to ``image_path`` in either layout (module docstring); missing ones are None."""
    p = Path(image_path)
    ts = _as_training_set(p)
    render = [*_sibling(p, "render")]
    aligned = [*_sibling(p, "face_render")]
    coeff = [p.with_suffix(".txt")]
    if ts is not None:
        render = [*_sibling(ts, "render"), *render]
        coeff = [*_sibling(ts, "face", (".txt",)), *coeff]
    coeff += _sibling(p, "face", (".txt",))  # only used if it holds 239/257 values

    def first(cands, check=None):
        return next((c for c in cands if c.is_file() and (check is None or check(c))), None)

    def is_coeff(c: Path) -> bool:
        try:
            return np.loadtxt(c, ndmin=1).size in AUTHORS_LAYOUTS
        except (OSError, ValueError):
            return False

    return {"render": first(render), "aligned_render": first(aligned), "coeffs": first(coeff, is_coeff)}


def _read_rgb_float(path: Path) -> np.ndarray:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise AuthorsPriorError(f"cannot read render image {path}")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    scale = 65535.0 if img.dtype == np.uint16 else 255.0
    rgb = img[:, :, 2::-1] if img.shape[2] >= 3 else np.repeat(img[:, :, :1], 3, axis=2)
    return np.ascontiguousarray(rgb, dtype=np.float32) / scale


def load_authors_prior(image_path: str | Path, render_path: str | Path | None = None,
                       coeff_path: str | Path | None = None, size=None) -> Prior:
    """The authors' prior for one image: their render (pixel-aligned if a ``render/`` file
    exists, else the 224 aligned-frame ``face_render/`` one, flagged in ``extra['frame']``)
    and, when found, their coefficients (raw 239/257 vector in ``coeffs``, layout in
    ``extra['coeff_layout']``) and the pose they imply. ``size`` resizes the render."""
    import cv2

    found = find_authors_files(image_path)
    rpath = Path(render_path) if render_path else (found["render"] or found["aligned_render"])
    cpath = Path(coeff_path) if coeff_path else found["coeffs"]
    if rpath is None or not rpath.is_file():
        raise AuthorsPriorError(f"no authors' render for {image_path} (looked for render/ and "
                                f"face_render/<stem>.png, also under training_set/)")
    render = _read_rgb_float(rpath)
    frame = "aligned224" if rpath.parent.name == "face_render" else "image"
    if size is not None:
        oh, ow = (size, size) if isinstance(size, int) else size
        interp = cv2.INTER_AREA if oh < render.shape[0] else cv2.INTER_CUBIC
        render = np.clip(cv2.resize(render, (ow, oh), interpolation=interp), 0, 1)
    coeffs = np.zeros(0, dtype=np.float32)
    pose = Pose(ok=False, method="authors")
    layout = None
    if cpath is not None:
        raw = read_authors_coeffs(cpath)
        coeffs, pose, layout = raw.astype(np.float32), authors_pose(raw), AUTHORS_LAYOUTS[raw.size]
    return Prior(render=render, coeffs=coeffs, fitted=True, pose=pose, source="authors",
                 extra={"frame": frame, "render_path": str(rpath),
                        "coeff_path": str(cpath) if cpath else None, "coeff_layout": layout})
