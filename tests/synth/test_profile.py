"""Face profiling (fsr.synth.profile) on the committed test crops."""

import numpy as np
import pytest

from fsr.synth.profile import (
    MASK_FILLED,
    MASK_REAL,
    ProfileError,
    build_image_mesh,
    geometric_turn,
    profile_face,
    profile_yaws,
    rotate_geometric,
    rotate_points,
)


@pytest.fixture(scope="module")
def crop(takeo):
    return takeo[0]


@pytest.fixture(scope="module")
def mesh(crop):
    return build_image_mesh(crop)


def test_yaw_zero_is_the_input(crop):
    out = profile_face(crop, 0.0)
    assert out.image.shape == crop.shape and out.image.dtype == np.uint8
    assert np.array_equal(out.image, crop)
    assert (out.mask == MASK_REAL).all()


def test_deterministic_and_shapes(crop):
    a = profile_yaws(crop, [30.0, -45.0])
    b = profile_yaws(crop, [30.0, -45.0])
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image) and np.array_equal(x.mask, y.mask)
        assert x.mask.shape == crop.shape[:2]
        assert set(np.unique(x.mask)) <= {MASK_REAL, MASK_FILLED}
    # a turned face differs from the input and is not all filled
    assert np.abs(a[0].image.astype(int) - crop).mean() > 3
    assert 0.5 < a[0].real_fraction < 1.0


def test_turn_direction_follows_the_pose_convention(crop, mesh):
    nose = 1  # MediaPipe's nose-tip vertex
    moved = rotate_points(mesh, 30.0)
    assert moved[nose, 0] > mesh.points[nose, 0] + 2  # yaw > 0: nose towards image right
    assert moved[nose, 2] > mesh.points[nose, 2]  # and away from the camera
    border = ~mesh.rigid & (mesh.follow == 0)
    assert border.any() and np.allclose(moved[border], mesh.points[border])


def test_measured_yaw_increases_with_the_target(crop):
    from fsr.pose import estimate_pose

    outs = profile_yaws(crop, [-30.0, 0.0, 30.0])
    yaws = [estimate_pose(o.image).yaw for o in outs]
    assert yaws[0] < yaws[1] - 10 and yaws[2] > yaws[1] + 10


def test_geometric_turn_is_odd_and_monotone():
    assert geometric_turn(0.0) == 0.0
    xs = np.linspace(0, 90, 19)
    ts = [geometric_turn(x) for x in xs]
    assert all(b >= a for a, b in zip(ts, ts[1:], strict=False))
    assert geometric_turn(-30.0) == -geometric_turn(30.0)
    with pytest.raises(ProfileError):
        geometric_turn(120.0)


def test_bad_inputs(crop):
    from fsr.pose.common import PoseInputError

    with pytest.raises(ProfileError, match="no face"):
        profile_face(np.full((128, 128, 3), 127, np.uint8), 30.0)
    with pytest.raises(PoseInputError):
        profile_face(crop.astype(np.float32), 30.0)
    with pytest.raises(ProfileError, match="yaw"):
        profile_face(crop, 95.0)
    small = np.pad(crop, ((192, 192), (192, 192), (0, 0)), mode="edge")  # face ~1/5 of width
    with pytest.raises(ProfileError, match="(not an aligned face crop|no face)"):
        profile_face(small, 30.0)


def test_cli_writes_renders_and_manifest(tmp_path, takeo, capsys):
    import csv

    from PIL import Image

    from fsr.__main__ import main

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(takeo[0]).save(src / "takeo.png")
    (src / "broken.png").write_text("not an image")
    Image.fromarray(np.full((128, 128, 3), 90, np.uint8)).save(src / "flat.png")
    out = tmp_path / "out"
    assert main(["profile", str(src), str(out), "--yaws", "0,30", "--both-signs"]) == 0
    text = capsys.readouterr().out
    assert text.count("broken.png") == 1 and "flat.png: no face found" in text
    rows = list(csv.DictReader(open(out / "manifest.csv")))
    assert [r["yaw_target"] for r in rows] == ["0", "30", "-30"]
    assert {"file", "source", "yaw_target"} <= set(rows[0]) and rows[0]["source"] == "takeo.png"
    assert all((out / r["file"]).is_file() and (out / r["mask"]).is_file() for r in rows)
    # validity in the manifest: a 30-degree render of takeo is still a face of takeo
    assert all(r["detector_found"] == "1" and r["mediapipe_found"] == "1" and r["valid"] == "1"
               for r in rows)
    assert float(rows[0]["identity_distance"]) == 0.0 and 0 < float(rows[1]["identity_distance"]) < 0.6
    # nothing profilable: one line per image and a non-zero exit
    (src / "takeo.png").unlink()
    assert main(["profile", str(src), str(tmp_path / "none"), "--yaws", "30"]) == 1
    assert "nothing written" in capsys.readouterr().out
    assert main(["profile", str(src), str(out), "--yaws", "30,abc"]) == 2


def test_face_is_drawn_over_the_band_that_joins_it_to_the_head(crop, mesh):
    """At 60 degrees the band of anchors around the face oval folds over the cheek turning into
    view; the face mesh covers every pixel it covers when rendered alone."""
    import cv2

    from fsr.priors.render import interpolate, rasterize

    h, w = crop.shape[:2]
    assert 0 < mesh.face_triangles < len(mesh.triangles)
    assert (mesh.triangles[: mesh.face_triangles] < 468).all()
    for turn in (-67.0, 67.0):
        dst = rotate_points(mesh, turn)
        alone = rasterize(dst, mesh.triangles[: mesh.face_triangles], h, w, cull_backfaces=True)
        both = rasterize(dst, mesh.triangles, h, w, cull_backfaces=True)
        folded = (alone.face_id >= 0) & (both.face_id >= mesh.face_triangles)
        assert folded.any()  # the band does fold over the face (the reason for the rule)
        face_px = alone.face_id >= 0
        img = rotate_geometric(crop, mesh, turn).image
        # where the face alone is drawn, the render shows the face's own texture
        uv = interpolate(mesh.points[:, :2].astype(np.float32), mesh.triangles, alone)
        assert face_px.sum() > 0.1 * h * w
        want = cv2.remap(crop, uv[..., 0] - 0.5, uv[..., 1] - 0.5, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT)
        assert np.abs(img[face_px].astype(int) - want[face_px]).max() <= 1
