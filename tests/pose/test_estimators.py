"""Both estimators on real crops: agreement, sign under mirroring, failures, PnP on synthetic
projections (needs the mediapipe-face-landmarker and dlib-sp68 assets)."""

import numpy as np
import pytest

from fsr.pose import estimate_pose
from fsr.pose.common import ypr_to_rotation


@pytest.mark.parametrize("method", ["mediapipe", "pnp"])
def test_turned_face_and_its_mirror(turned, method):
    img, _ = turned  # the subject looks towards image left: yaw about -43 (MediaPipe), -28 (PnP)
    pose = estimate_pose(img, method=method)
    flipped = estimate_pose(np.ascontiguousarray(img[:, ::-1]), method=method)
    assert pose.ok and flipped.ok and pose.method == method
    assert pose.yaw < -20 and flipped.yaw > 20
    assert abs(pose.yaw + flipped.yaw) < 5  # mirroring negates yaw and roll
    assert abs(pose.roll + flipped.roll) < 5
    assert pose.bucket in ("15-30", "30-45")


def test_estimators_agree_on_frontal_face(takeo):
    img, _ = takeo
    a, b = estimate_pose(img, "mediapipe"), estimate_pose(img, "pnp")
    assert a.ok and b.ok
    assert abs(a.yaw) < 15 and abs(a.yaw - b.yaw) < 8
    assert a.bucket == "0-15"


def test_given_box_skips_detector(takeo):
    img, pts = takeo
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    pose = estimate_pose(img, method="pnp", box=(x0, y0, x1, y1))
    assert pose.ok and abs(pose.yaw) < 15
    with pytest.raises(ValueError):
        estimate_pose(img, method="pnp", box=(10, 10, 5, 5))


@pytest.mark.parametrize("method", ["mediapipe", "pnp"])
def test_no_face_is_not_an_error(method):
    flat = np.full((128, 128, 3), 127, np.uint8)
    pose = estimate_pose(flat, method=method)
    assert not pose.ok and np.isnan(pose.yaw) and pose.bucket is None


@pytest.mark.parametrize("method", ["mediapipe", "pnp"])
def test_bad_input_raises_value_error(method):
    for bad in [np.zeros((64, 64, 3), np.float32), np.zeros((64, 64, 2), np.uint8), None]:
        with pytest.raises(ValueError):
            estimate_pose(bad, method=method)


def test_unknown_method():
    with pytest.raises(ValueError, match="method"):
        estimate_pose(np.zeros((64, 64, 3), np.uint8), method="hopenet")


def test_small_input_is_upsampled(takeo):
    import cv2

    img, _ = takeo
    small = cv2.resize(img, (64, 64), interpolation=cv2.INTER_AREA)
    assert estimate_pose(small).ok


def test_landmarker_is_reused():
    from fsr.pose.mediapipe_pose import get_face_mesh

    assert get_face_mesh() is get_face_mesh()


@pytest.mark.parametrize("ypr", [(0, 0, 0), (25, -10, 5), (-40, 15, -8)])
def test_pnp_recovers_synthetic_pose(ypr):
    from fsr.pose.pnp import LM68_TO_MESH, model_points_68, solve_pose_68

    assert len(LM68_TO_MESH) == 68 and max(LM68_TO_MESH) < 468
    h = w = 256
    f = 256.0
    pts3 = model_points_68() @ ypr_to_rotation(*ypr).T + np.array([0.0, 0.0, -40.0])  # GL camera
    x = f * pts3[:, 0] / -pts3[:, 2] + w / 2
    y = -f * pts3[:, 1] / -pts3[:, 2] + h / 2  # image y points down
    pose = solve_pose_68(np.stack([x, y], 1), (h, w), focal=f)
    assert pose.ok
    assert np.allclose([pose.yaw, pose.pitch, pose.roll], ypr, atol=0.5)
    # the default, weak perspective, on an orthographic projection of the same face
    from fsr.pose.weak_perspective import project

    wp = solve_pose_68(project(model_points_68(), ypr_to_rotation(*ypr), 6.0, (128, 128)), (h, w))
    assert wp.ok and np.allclose([wp.yaw, wp.pitch, wp.roll], ypr, atol=1e-3)
