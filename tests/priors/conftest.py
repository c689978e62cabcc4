from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parents[1] / "pose" / "data"  # committed test crops (see SOURCES.md)


def load_crop(name: str) -> tuple[np.ndarray, np.ndarray | None]:
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
