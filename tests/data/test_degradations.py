import numpy as np
import pytest

from fsr.data.degradations import PRESETS, bicubic_down, blind, degrade, gaussian_kernel, seed_for


def _face(size=128):
    rng = np.random.default_rng(1)
    y, x = np.mgrid[:size, :size] / size
    img = np.stack([x, y, 0.5 + 0.3 * np.sin(8 * x * y)], -1) + rng.normal(0, 0.02, (size, size, 3))
    return np.clip(img, 0, 1).astype(np.float32)


def test_seed_is_stable_and_distinct():
    assert seed_for("celeba/000001", "sr-x4") == seed_for("celeba/000001", "sr-x4")
    assert seed_for("celeba/000001", "sr-x4") != seed_for("celeba/000001", "sr-x8")
    assert seed_for("a", "t") == 2022374193  # fixed forever: results caches depend on it


def test_bicubic_recipe_shapes_and_range():
    lr = degrade(_face(), {"type": "bicubic", "scale": 8}, seed=0)
    assert lr.shape == (16, 16, 3) and lr.dtype == np.float32
    assert 0 <= lr.min() and lr.max() <= 1
    # A constant image stays constant: the filter is normalised.
    flat = np.full((64, 64, 3), 0.25, np.float32)
    assert np.allclose(bicubic_down(flat, 4), 0.25, atol=1e-6)


def test_bicubic_rejects_non_dividing_scale():
    with pytest.raises(ValueError, match="does not divide"):
        bicubic_down(_face(100), 8)


def test_blind_is_deterministic_per_seed_and_degrades():
    gt = _face()
    a, b, c = blind(gt, 7), blind(gt, 7), blind(gt, 8)
    assert a.shape == gt.shape and np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.abs(a - gt).mean() > 0.005
    heavy = [np.abs(blind(gt, s, "codeformer") - gt).mean() for s in range(6)]
    light = [np.abs(blind(gt, s, "gfpgan") - gt).mean() for s in range(6)]
    assert np.mean(heavy) > np.mean(light)


def test_kernel_is_normalised_and_anisotropic_sometimes():
    rng = np.random.default_rng(0)
    kernels = [gaussian_kernel(rng, PRESETS["gfpgan"]["sigma"]) for _ in range(20)]
    assert all(abs(k.sum() - 1) < 1e-5 for k in kernels)
    assert any(not np.allclose(k, k.T, atol=1e-6) for k in kernels)


def test_bad_inputs():
    with pytest.raises(ValueError, match="HxWx3"):
        degrade(np.zeros((8, 8), np.float32), {"type": "bicubic", "scale": 2}, 0)
    with pytest.raises(ValueError, match="float32"):
        degrade(np.zeros((8, 8, 3), np.uint8), {"type": "bicubic", "scale": 2}, 0)
    with pytest.raises(ValueError, match="unknown degradation"):
        degrade(_face(), {"type": "motion"}, 0)


def test_gfpgan_128_is_gfpgan_seen_at_128_px():
    # The derivation in fsr/data/degradations.py: spatial ranges / 4, downscale floored at 1.
    from fsr.data.degradations import PRESETS
    full, small = PRESETS["gfpgan"], PRESETS["gfpgan-128"]
    assert small["sigma"] == tuple(s / 4 for s in full["sigma"])
    assert small["downscale"] == (1.0, full["downscale"][1] / 4)
    assert small["noise"] == tuple(n / 4 for n in full["noise"])
    assert small["jpeg"] == full["jpeg"]
