"""Fixtures for the face tests: real photos (skipped with a reason when absent) and a face."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
FACES_RAW = Path(os.environ.get("FSR_FACES_RAW", (Path(__file__).resolve().parents[2].parent / "shared" / "data" / "faces-raw")))


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain): one frontal face."""
    data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def face_counts() -> dict:
    return json.loads((DATA / "face_counts.json").read_text())


@pytest.fixture(scope="session")
def raw_photo():
    """Load a photo from the raw real-faces folder (FSR_FACES_RAW), skipping when absent."""
    from fsr.imageio import read_image

    def load(rel: str) -> np.ndarray:
        path = FACES_RAW / rel
        if not path.is_file():
            pytest.skip(f"{path} not present (set FSR_FACES_RAW to the raw real-faces folder)")
        return read_image(path)

    return load
