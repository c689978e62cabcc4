"""fsr.restore.routes: the per-size route table measured on val, and the blend route itself."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from fsr.data.samples import load_image, load_samples
from fsr.restore.common import resize_uint8
from fsr.restore.routes import (
    MEASURED,
    ROUTES,
    MeasuredRoute,
    blend_detail,
    choose_route,
    model_detail,
    outside_val,
)


def test_measured_table_covers_sam3d_and_is_well_formed():
    for method in ("sam3d-x4-samples", "sam3d-x8-samples"):
        rows = MEASURED[method]
        assert [r.ratio for r in rows] == sorted(r.ratio for r in rows)
        for r in rows:
            assert r.route in ROUTES
            if r.route != "kept":  # a route is in the table only because it beat bicubic on val
                assert r.psnr_gain_db > 0 and r.lpips_change < 0


def test_choose_route_by_size():
    assert choose_route("sam3d-x4-samples", 41, 32).route == MEASURED["sam3d-x4-samples"][3].route
    far = choose_route("sam3d-x4-samples", 100, 32)  # 3.1x: beyond what val could measure
    assert far.route == "kept" and "beyond the measured 2.00x" in far.why
    assert choose_route("unmeasured", 32, 32).route == "model"
    assert choose_route("unmeasured", 33, 32).route == "kept"


def test_blend_keeps_what_the_face_has():
    """Shrunk back to the face's own size, a blended face is the face itself: the method only
    adds detail above that size (a real val face; a detail-free output changes nothing)."""
    gt = (load_image(load_samples("val")[0], 160) * 255).round().astype(np.uint8)
    lq = resize_uint8(gt, (40, 40))
    base = resize_uint8(lq, (160, 160))
    fake_model = resize_uint8(gt, (128, 128))  # a perfect method's output at its 128 px
    out = blend_detail(base, fake_model, 40)
    back = resize_uint8(out, (40, 40)).astype(float)
    assert np.abs(back - lq).mean() < 1.5  # the input survives
    assert np.abs(out.astype(float) - gt).mean() < np.abs(base.astype(float) - gt).mean()
    assert model_detail(fake_model, 160, 40).dtype == np.float32


def test_add_detail_of_zero_is_the_canvas():
    from fsr.face.paste import add_detail

    canvas = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    a = np.array([[0.9, 0.1, -5.0], [-0.1, 0.9, 3.0]])
    out = add_detail(canvas, [np.zeros((32, 32, 3), np.float32)], [a], upscale=1.0)
    assert np.array_equal(out, canvas)


def test_unknown_route_is_one_line():
    from fsr.restore import RestoreError, restore

    with pytest.raises(RestoreError, match="route must be one of model, blend, kept"):
        restore(np.full((64, 64, 3), 128, np.uint8), "sam3d-x4-samples", route="zoom")


def test_choose_route_carries_the_rows_blend_band_and_val_range():
    t = {"m": (MeasuredRoute(1.0, "blend", 0.8, -0.02, 0.75, 2.0, 40.0, 0.6),)}
    c = choose_route("m", 33, 32, t)
    assert (c.route, c.weight, c.top, c.consist_min, c.energy_max) == ("blend", 0.75, 2.0, 40.0, 0.6)
    assert outside_val(c, 0.5, 41.0) == ""
    assert "val's faces at most 0.60" in outside_val(c, 0.61, 41.0)
    assert "val's faces at least 40.0 dB" in outside_val(c, 0.5, 39.0)


def _small_pair():
    """Two real faces (sample crops) on a grey canvas, shrunk so each is ~40 px aligned
    (1.25x SAM3D x4's input)."""
    from fsr.imageio import read_image

    root = Path(__file__).resolve().parents[1] / "samples" / "crops"
    canvas = np.full((300, 620, 3), 90, np.uint8)
    for i, name in enumerate(("lenna-0.png", "biden-0.png")):
        canvas[20:276, 20 + i * 300:276 + i * 300] = read_image(root / name)
    return resize_uint8(canvas, (47, 97))


@pytest.fixture(scope="module")
def mtcnn_small():
    from fsr.face.detectors import create_detector

    return create_detector("mtcnn", min_face=12)


@pytest.mark.slow
def test_a_face_the_rule_keeps_is_exactly_bicubic(mtcnn_small, monkeypatch):
    """Faces whose statistics fall outside val's range are kept: the output is then the
    bicubic upsampler's, bit for bit, and each note says why; with val's real range the same
    faces are blended by the table's band."""
    from fsr.restore import restore

    small = _small_pair()
    bic = restore(small, "bicubic-x4", detector=mtcnn_small, check=False).image
    res = restore(small, "sam3d-x4-samples", detector=mtcnn_small, check=False)
    assert len(res.faces) == 2
    for f in res.faces:
        choice = choose_route("sam3d-x4-samples", f.native_px, 32)
        assert choice.route == "blend" and 32 < f.native_px <= 56
        if f.status == "blended":
            assert "val: blend +" in f.note
        else:  # the val-range gate kept it
            assert f.status == "kept" and "kept, not blend: " in f.note
    rows = MEASURED["sam3d-x4-samples"]
    strict = tuple(dataclasses.replace(r, energy_max=0.0) for r in rows)
    monkeypatch.setitem(MEASURED, "sam3d-x4-samples", strict)
    gated = restore(small, "sam3d-x4-samples", detector=mtcnn_small, check=False)
    assert np.array_equal(gated.image, bic)
    for f in gated.faces:
        assert f.status == "kept"
        assert "kept, not blend: the method's detail is" in f.note and "val's faces at most 0.00" \
            in f.note
    if any(f.status == "blended" for f in res.faces):
        assert not np.array_equal(res.image, bic)
