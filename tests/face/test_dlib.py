"""dlib HOG / CNN detectors and the 68/5-point -> facexlib 5-point mapping."""

import numpy as np
import pytest

from fsr.face.detect_dlib import (
    SP5_LAYOUT,
    DlibHogDetector,
    five_from_68,
    five_from_sp5,
    margin_to_score,
)


@pytest.fixture(scope="module")
def hog68():
    return DlibHogDetector(landmarks="sp68")


def test_margin_to_score_is_calibrated_at_dlibs_threshold():
    assert margin_to_score(0.0) == pytest.approx(0.5)
    s = margin_to_score(np.array([-1.0, 0.5, 2.0]))
    assert np.all(np.diff(s) > 0) and s[0] > 0 and s[-1] < 1
    assert DlibHogDetector._margin_for(0.5) == pytest.approx(0.0)
    assert margin_to_score(DlibHogDetector._margin_for(0.8)) == pytest.approx(0.8)


def test_five_from_68_indices():
    p68 = np.zeros((68, 2))
    p68[36:42] = [10, 20]
    p68[42:48] = [30, 20]
    p68[30], p68[48], p68[54] = [20, 30], [12, 40], [28, 40]
    np.testing.assert_array_equal(five_from_68(p68),
                                  [[10, 20], [30, 20], [20, 30], [12, 40], [28, 40]])


def test_five_from_sp5_reproduces_the_layout():
    # Build sp5 points from the mean layout (eye corners +-0.15 IOD around the centres), then
    # rotate/scale/shift: the estimate must return the layout's points under the same transform.
    lay = SP5_LAYOUT
    el, er = np.array(lay["eye_left"]), np.array(lay["eye_right"])
    canon5 = np.array([er + [0.15, 0], er - [0.15, 0], el - [0.15, 0], el + [0.15, 0],
                       lay["nose_base"]])
    angle, scale, shift = 0.3, 57.0, np.array([140.0, 90.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = five_from_sp5(canon5 @ rot.T + shift)
    want = np.array([el, er, lay["nose_tip"], lay["mouth_left"], lay["mouth_right"]]) @ rot.T + shift
    np.testing.assert_allclose(pts, want, atol=1e-6)


def test_hog_finds_astronaut_and_sp5_estimate_is_close(hog68, astronaut):
    dets = hog68.detect_rgb(astronaut)
    assert dets.shape[1] == 15 and dets.dtype == np.float32
    best = dets[0]
    assert best[4] > 0.7 and 160 < best[0] < 200 and 240 < best[2] < 290
    lm68 = best[5:].reshape(5, 2)
    assert lm68[0, 0] < lm68[2, 0] < lm68[1, 0] and lm68[1, 1] < lm68[3, 1]
    # The sp5 fallback's estimated nose tip and mouth corners land near the 68-point ones.
    best5 = DlibHogDetector(landmarks="sp5").detect_rgb(astronaut)[0]
    iod = np.linalg.norm(lm68[1] - lm68[0])
    err = np.linalg.norm(best5[5:].reshape(5, 2) - lm68, axis=1) / iod
    assert err[:2].max() < 0.05  # eye centres: measured by both models
    # Estimated points: her broad smile puts the real mouth corners ~0.2 IOD from the mean
    # layout (tools/dlib_sp5_layout.py measures the spread over the photo set).
    assert err[2:].max() < 0.3


def test_hog_no_face(hog68):
    assert hog68.detect_faces(np.full((120, 160, 3), 90, np.uint8)).shape == (0, 15)


def test_bad_options():
    with pytest.raises(ValueError, match="landmarks"):
        DlibHogDetector(landmarks="sp81")
    with pytest.raises(ValueError, match="upsample"):
        DlibHogDetector(upsample=5)


@pytest.mark.slow
def test_cnn_detector_finds_astronaut(astronaut):
    from fsr.face.detect_dlib import DlibCnnDetector

    det = DlibCnnDetector(upsample=0)
    dets = det.detect_rgb(astronaut)
    assert len(dets) >= 1 and 150 < dets[0, 0] < 210
    # Over max_pixels the scan runs on a downscaled copy; boxes come back in full resolution.
    det.upsample, det.max_pixels = 1, 640 * 640  # 1024^2 after upsampling: scans 320^2 x 2
    small = det.detect_rgb(astronaut)
    assert len(small) >= 1 and np.abs(small[0, :4] - dets[0, :4]).max() < 20
