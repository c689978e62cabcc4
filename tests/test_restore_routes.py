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
    FaceStatistics,
    MeasuredRoute,
    band_agreement,
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
    t = {"m": (MeasuredRoute(1.0, "blend", 0.8, -0.02, 0.75, 2.0, 40.0, 0.6, 0.9),)}
    c = choose_route("m", 33, 32, t)
    assert (c.route, c.weight, c.top, c.consist_min, c.energy_max, c.agreement_min) == \
        ("blend", 0.75, 2.0, 40.0, 0.6, 0.9)
    assert outside_val(c, FaceStatistics(0.5, 41.0, 0.95)) == ""
    assert "val's faces at most 0.60" in outside_val(c, FaceStatistics(0.61, 41.0, 0.95))
    assert "val's faces at least 40.0 dB" in outside_val(c, FaceStatistics(0.5, 39.0, 0.95))
    assert "fits it at 0.85, val's faces at least 0.90" in \
        outside_val(c, FaceStatistics(0.5, 41.0, 0.85))
    assert outside_val(c, FaceStatistics(0.5, 41.0, None)) == ""  # no band to check: inside


def _band(img: np.ndarray, px: int) -> np.ndarray:
    """An independent band split (OpenCV area down, cubic up) for the reference below."""
    import cv2

    f = img.astype(np.float64)
    n = img.shape[0]
    return f - cv2.resize(cv2.resize(f, (px, px), interpolation=cv2.INTER_AREA), (n, n),
                          interpolation=cv2.INTER_CUBIC)


def test_band_agreement_is_the_least_squares_weight_of_the_band():
    """1 for the face itself, 0.5 for a guess with twice the face's band, ~0 for a band unrelated
    to the face, near an independent least-squares fit (another resampler) on a real face; a
    face not 1.1x the input has no band (None)."""
    from fsr.face.paste import ellipse_mask

    (smp,) = load_samples("val")[:1]
    face = (load_image(smp, 64) * 255).round().astype(np.uint8)
    assert band_agreement(face, face, 32) == 1.0
    low = resize_uint8(resize_uint8(face, (32, 32)), (64, 64)).astype(np.float64)
    twice = np.clip(low + 2 * (face - low), 0, 255).round().astype(np.uint8)
    assert band_agreement(twice, face, 32) == pytest.approx(0.5, abs=0.06)
    noise = np.clip(low + np.random.default_rng(0).normal(0, 20, face.shape), 0, 255)
    assert abs(band_agreement(noise.astype(np.uint8), face, 32)) < 0.05
    inside = ellipse_mask(64) > 0.5
    d, r = _band(twice, 32)[inside].ravel(), _band(face, 32)[inside].ravel()
    assert band_agreement(twice, face, 32) == pytest.approx(d @ r / (d @ d), abs=0.08)
    assert band_agreement(face, face[:35, :35], 32) is None


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
    # the band the face holds: with a bar no face reaches, every face over 1.1x the input is kept
    picky = tuple(dataclasses.replace(r, agreement_min=9.0, consist_min=None, energy_max=None)
                  for r in rows)
    monkeypatch.setitem(MEASURED, "sam3d-x4-samples", picky)
    gated = restore(small, "sam3d-x4-samples", detector=mtcnn_small, check=False)
    for f in gated.faces:
        assert f.native_px < 1.1 * 32 or ("fits it at" in f.note and f.status == "kept")
    if any(f.status == "blended" for f in res.faces):
        assert not np.array_equal(res.image, bic)
