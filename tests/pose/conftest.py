from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


def load_crop(name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB uint8 128x128 crop, (68, 2) ground-truth points or None) of a committed test face."""
    import cv2

    img = cv2.imread(str(DATA / f"{name}_128.jpg"))
    assert img is not None, f"missing test crop {name}"
    pts = DATA / f"{name}_128.pts.txt"
    return np.ascontiguousarray(img[:, :, ::-1]), (np.loadtxt(pts) if pts.is_file() else None)


@pytest.fixture(scope="session")
def takeo():
    return load_crop("takeo")


@pytest.fixture(scope="session")
def breakingbad():
    return load_crop("breakingbad")


@pytest.fixture(scope="session")
def turned():
    """A face turned to image left (file name says 45 degrees; MediaPipe about -37)."""
    return load_crop("pyfeat45")
