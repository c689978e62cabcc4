"""Real pose-labelled datasets, read from their official label files, and pose_error.csv.

Types (``type:`` in a suite; each takes ``env``/``path`` and ``limit``):

- ``aflw2000``  AFLW2000-3D: ``imageNNNNN.jpg`` + ``imageNNNNN.mat``; ``Pose_Para`` = [pitch,
                yaw, roll, tx, ty, tz, scale], angles in radians (3DDFA's fitting).
- ``multipie``  Multi-PIE: ``SSS_SS_RR_CCC_II.png`` (subject, session, recording, camera,
                flash) anywhere under the folder; the 13 cameras of the yaw ring in 15-degree
                steps (``CAMERA_YAW``; the two raised cameras 08_1 / 19_1 are left out).
- ``menpo``     Menpo 2D: images with ``.pts`` files; 68 points = semi-frontal, 39 = profile
                (the split SAM3D's paper used).
- ``cfp``       CFP-FP: ``Data/Images/<id>/frontal|profile/NN.jpg`` listed by
                ``Protocol/Pair_list_F.txt`` and ``Pair_list_P.txt``.

Yaw-labelled sets (AFLW2000-3D, Multi-PIE) are bucketed by their labels; fsr's estimator runs
too (``estimate_pose``) and its error against the label goes to ``pose_error.csv``.
Category-labelled sets (Menpo, CFP-FP) are bucketed by fsr's estimate, and pose_error.csv gives
the estimate's |yaw| per category. The labels' sign conventions are the datasets' own and
are not verified here against fsr's (no copy of the datasets on this machine):
pose_error.csv reports the error both as stored and with the label's yaw sign flipped.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from fsr.bench import BenchError, first_line
from fsr.bench.inputs.datasets.base import (
    Dataset,
    DatasetMissing,
    Item,
    _fingerprint,
    _folder,
    _images,
    _where,
)

# Multi-PIE camera (as in file names, '051' = 05_1) -> yaw in degrees (Gross et al. 2010, Fig. 2)
CAMERA_YAW = {"110": -90, "120": -75, "090": -60, "080": -45, "130": -30, "140": -15,
              "051": 0, "050": 15, "041": 30, "190": 45, "200": 60, "010": 75, "240": 90}
MULTIPIE_NAME = re.compile(r"^(\d{3})_(\d{2})_(\d{2})_(\d{3})_(\d{2})$")

def _item(ds, path: Path, **kw) -> Item:
    return Item(ds.name, path.stem, ds.kind, _fingerprint(path), gt_path=path,
                source=str(path.name), **kw)


class AFLW2000Dataset(Dataset):
    holding = "AFLW2000-3D's imageNNNNN.jpg and imageNNNNN.mat files"

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        from scipy.io import loadmat

        root = _folder(cfg, self.holding)
        items = []
        for p in _images(root):
            mat = p.with_suffix(".mat")
            if not mat.is_file():
                continue
            try:
                para = np.asarray(loadmat(str(mat))["Pose_Para"], dtype=np.float64).ravel()
                if para.size < 3 or not np.isfinite(para[:3]).all():
                    raise ValueError(f"Pose_Para holds {para.size} value(s), not 3 finite angles")
            except KeyError:
                self.skip_file("pose label", mat, "no Pose_Para")
                continue
            except Exception as err:  # noqa: BLE001 - scipy's parser raises many kinds
                # (MatReadError, IndexError, ValueError...) on a malformed file
                self.skip_file("pose label", mat, _mat_problem(mat, err))
                continue
            pitch, yaw, roll = (math.degrees(v) for v in para[:3])
            items.append(_item(self, p, pose=(yaw, pitch, roll),
                               meta={"estimate_pose": True,
                                     "image_fields": {"label": "yaw", "pose_label":
                                                      [yaw, pitch, roll]}}))
        self.keep(items, f"no image + .mat pairs in {root}")


class MultiPIEDataset(Dataset):
    holding = "Multi-PIE images named SSS_SS_RR_CCC_II.png"

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        root = _folder(cfg, self.holding)
        items = []
        for p in sorted(root.rglob("*")):
            m = MULTIPIE_NAME.match(p.stem)
            if not (m and p.is_file() and p.suffix.lower() in (".png", ".jpg")):
                continue
            subject, _, _, cam, _ = m.groups()
            if cam not in CAMERA_YAW:
                continue
            yaw = float(CAMERA_YAW[cam])
            items.append(_item(self, p, identity=subject, pose=(yaw, 0.0, 0.0),
                               meta={"estimate_pose": True, "image_fields": {
                                   "label": f"camera {cam[:2]}_{cam[2]}",
                                   "pose_label": [yaw, None, None]}}))
        self.keep(items, f"no yaw-ring camera images in {root}")


def _mat_problem(path: Path, err: Exception) -> str:
    """A reason in the user's words: scipy says 'truncated' of a text file and 'index out of
    range' of a truncated one. AFLW2000-3D's labels are MATLAB 5 files, which start 'MATLAB'."""
    with open(path, "rb") as f:
        if f.read(6) != b"MATLAB":
            return "not a MATLAB .mat file"
    return f"truncated or corrupt .mat ({first_line(err)})"


def read_pts(path: Path) -> np.ndarray:
    """Points of an ibug/Menpo ``.pts`` file: ``version``, ``n_points: N``, ``{``, x y lines, ``}``."""
    text = path.read_text().split("{", 1)
    if len(text) != 2:
        raise BenchError("not a .pts file (no '{' block)")
    body = text[1].split("}", 1)[0]
    try:
        pts = np.array([[float(v) for v in ln.split()] for ln in body.splitlines() if ln.strip()])
    except ValueError:
        raise BenchError("not a .pts file (a point that is not two numbers)") from None
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise BenchError("not a .pts file (a point that is not two numbers)")
    return pts


class MenpoDataset(Dataset):
    holding = "Menpo 2D images with their .pts files (68 points semi-frontal, 39 profile)"
    CATEGORY = {68: "semi-frontal", 39: "profile"}

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        root = _folder(cfg, self.holding)
        items = []
        for p in _images(root):
            pts = p.with_suffix(".pts")
            if not pts.is_file():
                continue
            try:
                cat = self.CATEGORY.get(len(read_pts(pts)))
            except (BenchError, ValueError, OSError) as err:  # UnicodeDecodeError is a ValueError
                self.skip_file("pose label", pts, first_line(err, "not a .pts file"))
                continue
            if cat is None:
                continue
            items.append(_item(self, p, meta={"image_fields": {"label": cat}}))
        self.keep(items, f"no image + .pts pairs in {root}")


class CFPDataset(Dataset):
    holding = "CFP-FP (Data/Images/<id>/frontal|profile/ and Protocol/Pair_list_F.txt, _P.txt)"

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        root = _folder(cfg, self.holding)
        items = []
        for cat, name in (("frontal", "Pair_list_F.txt"), ("profile", "Pair_list_P.txt")):
            lst = root / "Protocol" / name
            if not lst.is_file():
                raise DatasetMissing(f"dataset {self.name}: {lst} not found: "
                                     f"{_where(cfg, self.holding)}")
            for ln in lst.read_text().splitlines():
                parts = ln.split()
                if len(parts) != 2:
                    continue
                p = (lst.parent / parts[1]).resolve()
                if p.is_file():
                    ident = p.parent.parent.name
                    it = _item(self, p, identity=ident, meta={"image_fields": {"label": cat}})
                    it.id = f"{ident}-{cat}-{p.stem}"
                    items.append(it)
        self.keep(items, f"the pair lists name no image under {root}")


TYPES = {"aflw2000": AFLW2000Dataset, "multipie": MultiPIEDataset, "menpo": MenpoDataset,
         "cfp": CFPDataset}
