"""Reading the SAM3D authors' prior files from both of their folder layouts (small files the
test writes itself)."""

import math

import numpy as np
import pytest

from fsr.priors import AuthorsPriorError, load_authors_prior, split_authors_coeffs
from fsr.priors.authors import authors_pose, find_authors_files, read_authors_coeffs


def _write_png(path, rgb_or_rgba):
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.asarray(rgb_or_rgba)
    bgr = a[:, :, [2, 1, 0, 3]] if a.shape[2] == 4 else a[:, :, ::-1]
    assert cv2.imwrite(str(path), bgr)


def _coeffs(n=239, yaw=0.0):
    c = np.zeros(n)
    c[225] = yaw  # angles live at 224:227 (x, y, z); y is yaw
    return c


def test_split_layouts():
    p = split_authors_coeffs(np.arange(239))
    assert [len(v) for v in p.values()] == [80, 64, 80, 3, 9, 3]
    assert p["angles"].tolist() == [224, 225, 226] and p["translation"][0] == 236
    p = split_authors_coeffs(np.arange(257))
    assert len(p["gamma"]) == 27 and p["translation"][0] == 254
    with pytest.raises(AuthorsPriorError, match="239"):
        split_authors_coeffs(np.zeros(100))


def test_pose_from_angles_follows_fsr_convention():
    pose = authors_pose(_coeffs(yaw=math.radians(20)))
    assert pose.ok and pose.yaw == pytest.approx(20) and abs(pose.pitch) < 1e-9
    c = _coeffs()
    c[224] = math.radians(10)  # +x rotation turns the nose (+z) towards -y: down in GL axes
    assert authors_pose(c).pitch == pytest.approx(-10)


def test_sr_layout_data_render(tmp_path):
    img = np.zeros((218, 178, 3), np.uint8)
    render = np.zeros((218, 178, 3), np.uint8)
    render[60:150, 50:130] = (200, 150, 100)
    _write_png(tmp_path / "data" / "000001.png", img)
    _write_png(tmp_path / "render" / "000001.png", render)
    prior = load_authors_prior(tmp_path / "data" / "000001.png")
    assert prior.source == "authors" and prior.extra["frame"] == "image"
    assert prior.render.shape == (218, 178, 3) and prior.render.dtype == np.float32
    assert np.allclose(prior.render[100, 100], np.array([200, 150, 100]) / 255)  # RGB order
    assert prior.coeffs.size == 0 and not prior.pose.ok
    assert load_authors_prior(tmp_path / "data" / "000001.png", size=32).render.shape == (32, 32, 3)


@pytest.mark.parametrize("n", [239, 257])
def test_prior_pipeline_layout(tmp_path, n):
    vid, frame = "vd002_01", "0007"
    blurry = tmp_path / "dataset" / vid / "blurry" / f"{frame}.png"
    _write_png(blurry, np.zeros((64, 64, 3), np.uint8))
    lm5 = tmp_path / "dataset" / vid / "face" / f"{frame}.txt"
    lm5.parent.mkdir(parents=True)
    np.savetxt(lm5, np.ones((5, 2)))  # 5 landmarks: must not be taken for coefficients
    coeff = tmp_path / "training_set" / vid / "face" / f"{frame}.txt"
    coeff.parent.mkdir(parents=True)
    np.savetxt(coeff, _coeffs(n, yaw=-0.5)[None])  # one row, as np.savetxt(coef) writes it
    rgba = np.zeros((224, 224, 4), np.uint8)
    rgba[80:140, 80:140] = (10, 20, 30, 255)
    _write_png(tmp_path / "dataset" / vid / "face_render" / f"{frame}.png", rgba)
    found = find_authors_files(blurry)
    assert found["coeffs"] == coeff and found["render"] is None
    prior = load_authors_prior(blurry)
    assert prior.extra["frame"] == "aligned224" and prior.render.shape == (224, 224, 3)
    assert np.allclose(prior.render[100, 100], np.array([10, 20, 30]) / 255)
    assert prior.coeffs.shape == (n,) and prior.pose.yaw == pytest.approx(math.degrees(-0.5), abs=1e-3)
    _write_png(tmp_path / "training_set" / vid / "render" / f"{frame}.png", np.zeros((64, 64, 3), np.uint8))
    assert load_authors_prior(blurry).extra["frame"] == "image"  # pixel-aligned render preferred


def test_missing_and_malformed(tmp_path):
    with pytest.raises(AuthorsPriorError, match="no authors' render"):
        load_authors_prior(tmp_path / "data" / "x.png")
    bad = tmp_path / "c.txt"
    bad.write_text("1 2 3\n")
    with pytest.raises(AuthorsPriorError, match="257"):
        read_authors_coeffs(bad)
    assert issubclass(AuthorsPriorError, ValueError)
