"""The raw real-faces folder that the studies and the data tools read (one place for its path).

The folder holds photos and videos extracted unchanged from registry packages, with a
``SOURCES.md`` (package, version, licence per subfolder). It is not in the repository: the
committed data derived from it (``samples/``, ``tests/data/``, the constants in fsr) carry
their own provenance, and the tests never read it. Where it is, in order: the script's
``--raw DIR``, ``$FSR_FACES_RAW``, else ``../shared/data/faces-raw`` beside the checkout.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     require_raw(d)
    Traceback (most recent call last):
    ...
    fsr.data.raw_faces.RawFacesMissing: ... is not the raw real-faces folder (no SOURCES.md); pass --raw DIR or set FSR_FACES_RAW
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "FSR_FACES_RAW"
REPO = Path(__file__).resolve().parents[2]
STILL_EXTS = (".jpg", ".jpeg", ".png", ".ppm")  # the folder's still photos; the rest is video
RAW_HELP = f"the raw real-faces folder (default: ${ENV} or ../shared/data/faces-raw)"


class RawFacesMissing(FileNotFoundError):
    """The folder given is not the raw real-faces folder; the message is one line."""


def default_raw() -> Path:
    """``$FSR_FACES_RAW``, else ``../shared/data/faces-raw`` next to the repository."""
    env = os.environ.get(ENV)
    return Path(env).expanduser() if env else REPO.parent / "shared" / "data" / "faces-raw"


def require_raw(raw: str | os.PathLike) -> Path:
    """``raw`` as a Path if it is the raw-faces folder (it has SOURCES.md); else RawFacesMissing."""
    if not (Path(raw) / "SOURCES.md").is_file():
        raise RawFacesMissing(f"{raw} is not the raw real-faces folder (no SOURCES.md); "
                              f"pass --raw DIR or set {ENV}")
    return Path(raw)
