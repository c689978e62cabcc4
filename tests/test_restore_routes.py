"""fsr.restore.routes: the per-size route table measured on val, and the blend route itself."""

import numpy as np
import pytest

from fsr.data.samples import load_image, load_samples
from fsr.restore.common import resize_uint8
from fsr.restore.routes import MEASURED, ROUTES, blend_detail, choose_route, model_detail


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
