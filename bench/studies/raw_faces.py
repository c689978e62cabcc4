"""The raw real-faces folder that the studies and the data tools read (one place for its path).

The folder holds photos and videos extracted unchanged from registry packages, with a
``SOURCES.md`` (package, version, licence per subfolder). It is not in the repository: the
committed data derived from it (``samples/``, ``tests/data/``, the constants in fsr) carry
their own provenance, and the tests never read it. Where it is, in order: ``--raw DIR``,
``$FSR_FACES_RAW``, else ``../shared/data/faces-raw`` beside the checkout.

    >>> import argparse
    >>> ap = argparse.ArgumentParser()
    >>> add_raw_argument(ap)
    >>> ap.parse_args(["--raw", "/data/faces"]).raw
    PosixPath('/data/faces')
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ENV = "FSR_FACES_RAW"
REPO = Path(__file__).resolve().parents[2]


def default_raw() -> Path:
    """``$FSR_FACES_RAW``, else ``../shared/data/faces-raw`` next to the repository."""
    env = os.environ.get(ENV)
    return Path(env).expanduser() if env else REPO.parent / "shared" / "data" / "faces-raw"


def add_raw_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", type=Path, default=default_raw(),
                        help=f"the raw real-faces folder (default: ${ENV} or ../shared/data/faces-raw)")


def require_raw(raw: Path, prog: str) -> Path:
    """``raw`` if it is the raw-faces folder (it has SOURCES.md); else one error line and exit 2."""
    if not (Path(raw) / "SOURCES.md").is_file():
        print(f"{prog}: {raw} is not the raw real-faces folder (no SOURCES.md); "
              f"pass --raw DIR or set {ENV}", file=sys.stderr)
        raise SystemExit(2)
    return Path(raw)
