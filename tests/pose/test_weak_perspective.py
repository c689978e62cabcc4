"""Weak-perspective pose fit: exact on synthetic projections, against OpenCV's solvePnP with a
distant camera (an independent solver), bad input, and its relation to MediaPipe's matrix."""

import numpy as np
import pytest

from fsr.pose import estimate_pose
from fsr.pose.canonical import canonical_mesh
from fsr.pose.common import opencv_to_gl, rotation_to_ypr, ypr_to_rotation
from fsr.pose.weak_perspective import fit_weak_perspective, project

MESH = canonical_mesh().vertices[:468]


@pytest.mark.parametrize("ypr", [(0, 0, 0), (30, -10, 5), (-60, 15, -8), (75, 0, 0), (-20, -25, 12)])
def test_recovers_pose_scale_and_translation(ypr):
    rot = ypr_to_rotation(*ypr)
    pts = project(MESH, rot, 9.5, (130.0, 140.0))
    fit = fit_weak_perspective(pts, MESH)
    np.testing.assert_allclose(fit.ypr, ypr, atol=1e-4)
    assert fit.scale == pytest.approx(9.5, rel=1e-6)
    np.testing.assert_allclose(fit.translation, (130.0, 140.0), atol=1e-4)
    assert fit.rms < 1e-6


def test_matches_opencv_solvepnp_with_a_distant_camera():
    """cv2.solvePnP (a perspective solver) with the camera 1000 face-widths away is weak
    perspective to within a hundredth of a degree; on noisy points both must agree."""
    import cv2

    rng = np.random.default_rng(3)
    rot = ypr_to_rotation(40.0, 8.0, -4.0)
    pts = project(MESH, rot, 8.0, (128.0, 128.0)) + rng.normal(0, 1.0, (len(MESH), 2))
    f = 1e5
    cam = np.array([[f, 0, 128.0], [0, f, 128.0], [0, 0, 1.0]])  # on axis: no parallax
    # OpenCV axes (y down, z forward): the model flipped from GL, placed at depth f / scale
    obj = MESH * np.array([1.0, -1.0, -1.0])
    ok, rvec, tvec = cv2.solvePnP(obj, pts, cam, None, flags=cv2.SOLVEPNP_ITERATIVE,
                                  useExtrinsicGuess=True, rvec=np.zeros(3),
                                  tvec=np.array([0.0, 0.0, f / 8.0]))
    assert ok
    r_gl = opencv_to_gl(cv2.Rodrigues(rvec)[0]) @ np.diag([1.0, -1.0, -1.0])
    ref = rotation_to_ypr(r_gl)
    got = fit_weak_perspective(pts, MESH).ypr
    np.testing.assert_allclose(got, ref, atol=0.02)
    np.testing.assert_allclose(got, (40.0, 8.0, -4.0), atol=0.5)


def test_weights_and_non_finite_points():
    rot = ypr_to_rotation(25.0, 0.0, 0.0)
    pts = project(MESH, rot, 10.0, (0.0, 0.0))
    pts[:40] += 50.0  # outliers, given zero weight
    pts[40:45] = np.nan  # dropped
    w = np.ones(len(MESH))
    w[:40] = 0.0
    np.testing.assert_allclose(fit_weak_perspective(pts, MESH, w).ypr, (25.0, 0.0, 0.0), atol=1e-4)


def test_bad_input():
    with pytest.raises(ValueError, match="need points"):
        fit_weak_perspective(np.zeros((10, 3)), MESH[:10])
    with pytest.raises(ValueError, match="need points"):
        fit_weak_perspective(np.zeros((10, 2)), MESH[:11])
    with pytest.raises(ValueError, match="at least 4"):
        fit_weak_perspective(np.full((10, 2), np.nan), MESH[:10])


def test_reads_more_yaw_than_mediapipes_matrix(turned):
    """On a crop the matrix's close camera explains a turn with less rotation (about 0.9x on
    the sample crops, docs/profiling.md); the landmark fit keeps the sign."""
    img, _ = turned
    wp, matrix = estimate_pose(img), estimate_pose(img, method="mediapipe-matrix")
    assert wp.ok and matrix.ok and wp.method == "mediapipe" and matrix.method == "mediapipe-matrix"
    assert wp.yaw < matrix.yaw < -20
    assert 1.02 < wp.yaw / matrix.yaw < 1.4
    assert abs(wp.pitch - matrix.pitch) < 10 and abs(wp.roll - matrix.roll) < 5


def test_a_fit_no_pose_explains_is_no_face():
    """MediaPipe landmarks the fit cannot use give Pose(ok=False), not an exception."""
    from fsr.pose.mediapipe_pose import FaceMeshFit

    fit = FaceMeshFit(np.full((478, 3), np.nan), np.zeros(52), ("",) * 52, np.eye(4), False)
    pose = fit.pose()
    assert not pose.ok and pose.method == "mediapipe" and np.isnan(pose.yaw)
    assert fit.matrix_pose().ok  # the matrix reading is MediaPipe's own, untouched
