"""The embedded sample set: real aligned face crops committed in ``samples/``, split by identity.

Built by ``python tools/build_samples.py`` from real photos and video frames shipped in registry
packages (provenance per file in ``samples/manifest.csv`` and ``samples/PROVENANCE.md``).

    >>> from fsr.data.samples import load_samples, load_image
    >>> test = load_samples("test")
    >>> gt = load_image(test[0], 128)      # float32 128x128x3 in [0,1]
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

import numpy as np

# by identity: train (fitting), val (validation while training and designing models), test (the
# benchmark's held-out faces, never looked at while training)
SPLITS = ("train", "val", "test")
MANIFEST_COLUMNS = ("id", "file", "identity", "source", "package", "licence", "native_size",
                    "yaw", "pitch", "roll", "pose_ok", "split", "is_photo", "grayscale")


def samples_dir() -> Path:
    """``$FSR_SAMPLES_DIR``, else the sample set shipped with the package: the repository's
    ``samples/``, installed as package data ``fsr.samples``."""
    env = os.environ.get("FSR_SAMPLES_DIR")
    return Path(env) if env else Path(os.fspath(resources.files("fsr.samples")))


@dataclass(frozen=True)
class Sample:
    id: str
    file: str  # relative to the samples folder
    identity: str
    source: str  # original file, relative to the raw-faces folder
    package: str  # registry package==version it was extracted from
    licence: str
    native_size: int  # width in pixels of the face box in the source (eye-mouth scale x ~2.5)
    yaw: float
    pitch: float
    roll: float
    pose_ok: bool
    split: str  # 'train', 'val' (training validation) or 'test' (the benchmark)
    is_photo: bool
    grayscale: bool

    @property
    def path(self) -> Path:
        return samples_dir() / self.file


def _parse(row: dict) -> Sample:
    types = {f.name: f.type for f in fields(Sample)}
    values = {}
    for key, text in row.items():
        kind = types[key]
        if kind == "bool":
            values[key] = text == "1"
        elif kind == "int":
            values[key] = int(text)
        elif kind == "float":
            values[key] = float(text) if text else float("nan")
        else:
            values[key] = text
    return Sample(**values)


def load_samples(split: str | None = "test", folder: Path | None = None) -> list[Sample]:
    """Rows of the manifest (``split=None``: all), in manifest order."""
    manifest = (folder or samples_dir()) / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(
            f"sample set not found: {manifest} is missing (run `python tools/build_samples.py` "
            "or set FSR_SAMPLES_DIR)"
        )
    with open(manifest, newline="") as f:
        rows = [_parse(r) for r in csv.DictReader(f)]
    if split not in (None, *SPLITS):
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or None, not {split!r}")
    return [r for r in rows if split is None or r.split == split]


def load_image(sample: Sample, size: int | None = None) -> np.ndarray:
    """The aligned crop as float32 HxWx3 RGB in [0,1], resized (antialiased bicubic) to ``size``."""
    from fsr.data.degradations import resize
    from fsr.imageio import read_image

    img = read_image(sample.path).astype(np.float32) / 255.0
    if size is not None and img.shape[:2] != (size, size):
        img = resize(img, (size, size))
    return img


def write_manifest(rows: list[dict], folder: Path) -> Path:
    path = folder / "manifest.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
