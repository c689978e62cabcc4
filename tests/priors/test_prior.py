"""compute_prior on real crops: shape/range, pixel alignment, fallback, coefficients,
determinism, bad input (needs the mediapipe-face-landmarker asset)."""

import numpy as np
import pytest

from fsr.priors import COEFF_LAYOUT, COEFF_LEN, compute_prior, pack_coeffs, unpack_coeffs

IOU_MIN = 0.6  # render mask vs convex hull of the 68 ground-truth points (measured 0.75-0.79)


def _hull_mask(pts: np.ndarray, size: int, src: int = 128) -> np.ndarray:
    import cv2

    m = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull((pts * size / src).astype(np.int32)), 1)
    return m.astype(bool)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


@pytest.mark.parametrize("name", ["takeo", "breakingbad"])
def test_render_is_pixel_aligned(request, name):
    img, pts = request.getfixturevalue(name)
    prior = compute_prior(img)
    assert prior.fitted and prior.source == "mediapipe" and prior.pose.ok
    assert prior.render.shape == (128, 128, 3) and prior.render.dtype == np.float32
    assert 0 <= prior.render.min() and prior.render.max() <= 1
    assert prior.normal.shape == (128, 128, 3) and prior.depth.shape == (128, 128, 1)
    mask = prior.render.max(-1) > 0.02
    assert _iou(mask, _hull_mask(pts, 128)) > IOU_MIN
    assert (prior.render[~_hull_mask(pts, 128) & ~mask] == 0).all()  # black background
    assert prior.coeffs.shape == (COEFF_LEN,) and np.isfinite(prior.coeffs).all()


def test_lr_input_prior_at_lr_size(takeo):
    import cv2

    img, pts = takeo
    lr = cv2.resize(img, (32, 32), interpolation=cv2.INTER_AREA)
    prior = compute_prior(lr)  # fitted on the 32 px input upsampled to 256
    assert prior.render.shape == (32, 32, 3) and prior.fitted
    big = compute_prior(lr, size=128)
    assert _iou(big.render.max(-1) > 0.02, _hull_mask(pts, 128)) > IOU_MIN
    assert abs(big.pose.yaw - compute_prior(img).pose.yaw) < 8


def test_fallback_on_16px_non_face():
    flat = np.full((16, 16, 3), 128, np.uint8)
    prior = compute_prior(flat, size=64)
    assert not prior.fitted and prior.source == "template"
    assert not prior.pose.ok and prior.pose.yaw == 0
    assert prior.render.shape == (64, 64, 3)
    mask = prior.render.max(-1) > 0.02
    assert 0.2 < mask.mean() < 0.7  # the canonical face fills the FFHQ-aligned crop's centre
    assert mask[32, 32] and not mask[0, 0] and not mask[63, 63]
    parts = unpack_coeffs(prior.coeffs)
    assert (parts["rotation"] == 0).all() and (parts["identity"] == 0).all()


def test_16px_face_crop_gives_a_usable_prior(breakingbad):
    import cv2

    img, pts = breakingbad
    prior = compute_prior(cv2.resize(img, (16, 16), interpolation=cv2.INTER_AREA), size=128)
    assert prior.render.shape == (128, 128, 3) and prior.coeffs.shape == (COEFF_LEN,)
    assert _iou(prior.render.max(-1) > 0.02, _hull_mask(pts, 128)) > 0.4  # fitted or template


def test_deterministic(takeo):
    img, _ = takeo
    a, b = compute_prior(img, size=64), compute_prior(img, size=64)
    assert np.array_equal(a.render, b.render) and np.array_equal(a.coeffs, b.coeffs)
    assert np.array_equal(a.depth, b.depth)


def test_options(takeo):
    img, _ = takeo
    grey = compute_prior(img, size=(48, 64), lighting="grey", with_maps=False)
    assert grey.render.shape == (48, 64, 3) and grey.normal is None and grey.depth is None
    face = grey.render[grey.render.max(-1) > 0.1]
    assert np.allclose(face[:, 0], face[:, 1], atol=1e-5)  # grey albedo, white light


def test_bad_input():
    ok = np.zeros((32, 32, 3), np.uint8)
    for bad in [ok.astype(np.float32), np.zeros((32, 32, 2), np.uint8), "img"]:
        with pytest.raises(ValueError):
            compute_prior(bad)
    for kwargs in [{"lighting": "neon"}, {"upsample_to": 8}, {"size": 0}]:
        with pytest.raises(ValueError):
            compute_prior(ok, **kwargs)


def test_coefficient_layout():
    assert COEFF_LEN == sum(n for _, n in COEFF_LAYOUT) == 117
    parts = {name: np.arange(n, dtype=np.float32) for name, n in COEFF_LAYOUT}
    vec = pack_coeffs(**parts)
    back = unpack_coeffs(vec)
    assert all(np.array_equal(back[k], parts[k]) for k in parts)
    with pytest.raises(ValueError):
        pack_coeffs(**{**parts, "identity": np.zeros(3)})
    with pytest.raises(ValueError):
        unpack_coeffs(np.zeros(COEFF_LEN + 1))


def test_identity_descriptor_is_pose_and_scale_invariant():
    from fsr.pose.canonical import canonical_mesh
    from fsr.pose.common import ypr_to_rotation
    from fsr.priors.mesh import identity_descriptor

    v = canonical_mesh().vertices
    screen = lambda gl: gl * np.array([1.0, -1.0, -1.0])  # noqa: E731
    assert np.allclose(identity_descriptor(screen(v)), 0, atol=1e-9)
    moved = 7.5 * v @ ypr_to_rotation(30, -10, 5).T + np.array([100.0, 50.0, 3.0])
    assert np.allclose(identity_descriptor(screen(moved)), 0, atol=1e-9)
    wide = v * np.array([1.2, 1.0, 1.0])
    assert np.abs(identity_descriptor(screen(wide))).max() > 0.05


def test_template_places_five_points():
    from fsr.priors.mesh import FFHQ_TEMPLATE_5, five_points, template_vertices

    v = template_vertices(512, 512)
    assert np.abs(five_points(v) - FFHQ_TEMPLATE_5 * 512).max() < 10  # px; measured max 7.7 (mouth width)
