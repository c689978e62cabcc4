"""Face profiling of image files: renders at several yaws, a manifest, and a render cache keyed by
the source's bytes (what ``python -m fsr profile`` and the benchmark's ``sweep`` dataset use).

    >>> from fsr.synth.profile_io import parse_yaws, render_name
    >>> parse_yaws("0,15,30", both_signs=True)
    [0.0, 15.0, -15.0, 30.0, -30.0]
    >>> render_name("audrey-0", -30.0)
    'audrey-0_yaw-30.png'

Every render is synthetic pose: the manifest's ``synthetic`` column says so, and every table
built from it must too.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsr.files import atomic_write
from fsr.synth.validity import RenderValidity

MANIFEST_COLUMNS = ("file", "mask", "source", "yaw_target", "yaw_source", "yaw_measured",
                    "turn", "real_fraction", "detector_found", "mediapipe_found",
                    "identity_distance", "valid", "synthetic")
# bump when fsr.synth.profile changes what it renders or fsr.pose how it measures yaw (the
# cache keeps yaw_source and yaw_measured): cached renders are keyed by it
PROFILE_VERSION = "prof3"  # prof2: weak-perspective yaw; prof3: face drawn over its band, validity


def parse_yaws(text: str, both_signs: bool = False) -> list[float]:
    """'0,15,30' -> [0.0, 15.0, 30.0]; ``both_signs`` adds -y after each y != 0 (no duplicates)."""
    out: list[float] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            y = float(part)
        except ValueError:
            raise ValueError(f"--yaws must be numbers separated by commas, got {part!r}") from None
        if not math.isfinite(y) or abs(y) > 90:
            raise ValueError(f"each yaw must be within [-90, 90], got {part}")
        for v in ((y, -y) if both_signs and y != 0 else (y,)):
            if v not in out:
                out.append(v)
    if not out:
        raise ValueError("--yaws is empty")
    return out


def render_name(stem: str, yaw: float) -> str:
    return f"{stem}_yaw{yaw:+03.0f}.png" if yaw else f"{stem}_yaw+00.png"


@dataclass(frozen=True)
class Render:
    """One profiled render and what was measured on it."""

    image: np.ndarray
    mask: np.ndarray
    yaw_target: float
    yaw_source: float
    yaw_measured: float  # MediaPipe on the render; nan when it finds no face
    turn: float
    real_fraction: float
    validity: RenderValidity | None = None  # with ``validity=True``


def profile_image(img_rgb: np.ndarray, yaws, measure: bool = True,
                  validity: bool = False) -> list[Render]:
    """Profile one RGB crop to each yaw (fit once); measures MediaPipe's yaw on each render and,
    with ``validity``, how much of it is still a face (:mod:`fsr.synth.validity`)."""
    from fsr.pose import estimate_pose
    from fsr.synth.profile import build_image_mesh, geometric_turn, render_profile
    from fsr.synth.validity import render_validity

    mesh = build_image_mesh(img_rgb)
    out = []
    for y in yaws:
        r = render_profile(img_rgb, mesh, float(y))
        measured = float("nan")
        if measure:
            p = estimate_pose(r.image)
            measured = float(p.yaw) if p.ok else float("nan")
        valid = render_validity(r.image, img_rgb, r.mask, measured) if validity else None
        out.append(Render(r.image, r.mask, float(y), mesh.source_yaw, measured,
                          geometric_turn(float(y)), r.real_fraction, valid))
    return out


def file_hash(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cache_root() -> Path:
    """``$FSR_HOME/profiles`` (``~/.cache/fsr/profiles``)."""
    from fsr.assets import fsr_home

    return fsr_home() / "profiles"


def cached_renders(source: str | os.PathLike | np.ndarray, yaws, size: int | None = None,
                   root: Path | None = None, validity: bool = False) -> list[dict]:
    """Renders of a crop (a file, or an RGB uint8 array), resized to ``size`` first when
    given, cached by the content's sha256, size and yaw: [{'image': path, 'mask': path,
    'yaw_target', 'yaw_source', 'yaw_measured', 'turn', 'real_fraction'}, ...] in the order of
    ``yaws``. With ``validity`` each row also has 'validity'
    (:meth:`~fsr.synth.validity.RenderValidity.as_dict`), measured once and cached with the
    render. Raises :class:`~fsr.synth.profile.ProfileError` when it cannot be profiled."""
    import json

    from fsr.imageio import read_image, write_image

    root = Path(root) if root is not None else cache_root()
    if isinstance(source, np.ndarray):
        digest = hashlib.sha256(str(source.shape).encode() + np.ascontiguousarray(
            source).tobytes()).hexdigest()
    else:
        digest = file_hash(source)
    key = f"{PROFILE_VERSION}-{digest[:20]}-{size or 'native'}"
    folder = root / key
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    from fsr.synth.profile import geometric_turn

    def slot(y) -> str:  # the 3D turn is part of the key: a new calibration re-renders
        return f"{float(y):g}@{geometric_turn(float(y)):.3f}"

    todo = [y for y in yaws if slot(y) not in meta]
    unmeasured = [y for y in yaws if validity and y not in todo and "validity" not in meta[slot(y)]]
    img = None
    if todo or unmeasured:
        img = source if isinstance(source, np.ndarray) else read_image(source)
        if size and img.shape[:2] != (size, size):
            import cv2

            img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    for y in unmeasured:  # rendered before validity was asked for: measure the cached render
        from fsr.synth.validity import render_validity

        m = meta[slot(y)]
        meta[slot(y)]["validity"] = render_validity(
            read_image(folder / m["image"]), img, read_image(folder / m["mask"]),
            m["yaw_measured"]).as_dict()
    if todo:
        folder.mkdir(parents=True, exist_ok=True)
        for r in profile_image(img, todo, validity=validity):
            name = render_name("render", r.yaw_target).replace(".png", f"_t{r.turn:.1f}.png")
            write_image(folder / name, r.image)
            write_image(folder / name.replace(".png", "_mask.png"), r.mask)
            meta[slot(r.yaw_target)] = {
                "image": name, "mask": name.replace(".png", "_mask.png"),
                "yaw_target": r.yaw_target, "yaw_source": r.yaw_source,
                "yaw_measured": None if math.isnan(r.yaw_measured) else r.yaw_measured,
                "turn": r.turn, "real_fraction": r.real_fraction}
            if r.validity is not None:
                meta[slot(r.yaw_target)]["validity"] = r.validity.as_dict()
    if todo or unmeasured:
        with atomic_write(meta_path) as tmp:
            tmp.write_text(json.dumps(meta, indent=1, sort_keys=True))
    rows = []
    for y in yaws:
        m = dict(meta[slot(y)])
        m["image"], m["mask"] = folder / m["image"], folder / m["mask"]
        rows.append(m)
    return rows


def write_manifest(path: str | os.PathLike, rows: list[dict]) -> Path:
    path = Path(path)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in MANIFEST_COLUMNS})
    return path
