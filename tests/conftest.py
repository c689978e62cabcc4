"""Session-wide test settings and shared fixtures."""

import os
from pathlib import Path

import numpy as np
import pytest

# OpenMP threads that spin while waiting make torch 10-30x slower whenever the 2 cores are
# shared (measured: Real-ESRGAN on 32x32 took 33 s instead of 1.4 s). Set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# --doctest-modules (pyproject) would import each conftest.py a second time as a module named
# `conftest`, and the several of them clash; they hold fixtures, not docstring examples.
collect_ignore_glob = ["conftest.py", "*/conftest.py"]

FACE_CROPS = Path(__file__).parent / "pose" / "data"  # committed test crops (see SOURCES.md)


def load_crop(name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB uint8 128x128 crop, (68, 2) ground-truth points or None) of a committed test face."""
    import cv2

    img = cv2.imread(str(FACE_CROPS / f"{name}_128.jpg"))
    assert img is not None, f"missing test crop {name}"
    pts = FACE_CROPS / f"{name}_128.pts.txt"
    return np.ascontiguousarray(img[:, :, ::-1]), (np.loadtxt(pts) if pts.is_file() else None)


@pytest.fixture(scope="session")
def takeo():
    return load_crop("takeo")


@pytest.fixture(scope="session")
def breakingbad():
    return load_crop("breakingbad")


@pytest.fixture(scope="session")
def turned():
    """A face turned to image left (file name says 45 degrees; MediaPipe about -43, its matrix -37)."""
    return load_crop("pyfeat45")
