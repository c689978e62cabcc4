"""bench/harness/stats.py: the low-rank FID equals the sqrtm route; KID; bootstrap edge cases."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from harness.stats import bootstrap_ci, fid_from_features, kid_from_features  # noqa: E402


def _sqrtm_fid(x, y):
    from scipy import linalg

    mx, my = x.mean(0), y.mean(0)
    sx, sy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = linalg.sqrtm(sx @ sy).real
    return float(((mx - my) ** 2).sum() + np.trace(sx) + np.trace(sy) - 2 * np.trace(covmean))


@pytest.mark.parametrize("n, d", [(200, 16), (40, 64)])  # full rank, and n < d (rank-deficient)
def test_low_rank_fid_matches_sqrtm(n, d):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    y = rng.normal(0.3, 1.2, size=(n + 7, d))
    assert fid_from_features(x, y) == pytest.approx(_sqrtm_fid(x, y), rel=1e-4)
    assert fid_from_features(x, x) == pytest.approx(0.0, abs=1e-6)


def test_fid_matches_fsr_metrics():
    fid = pytest.importorskip("fsr.metrics.fid")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(300, 32)), rng.normal(0.1, 1.0, size=(250, 32))
    assert fid_from_features(x, y) == pytest.approx(fid.fid_from_features(x, y), rel=1e-5)


def test_kid_separates_and_is_near_zero_for_same_distribution():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(120, 32)), rng.normal(size=(120, 32))
    far = rng.normal(1.0, 1.0, size=(120, 32))
    assert abs(kid_from_features(a, b)) < kid_from_features(a, far)


def test_bootstrap_ci():
    mean, lo, hi = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 10.0], n=500)
    assert mean == pytest.approx(4.0) and lo <= mean <= hi and lo < hi
    assert bootstrap_ci([5.0]) [0] == 5.0 and np.isnan(bootstrap_ci([5.0])[1])
    assert np.isnan(bootstrap_ci([])[0])
    # +inf (PSNR of an exact copy) is left out, not averaged
    assert bootstrap_ci([1.0, 3.0, np.inf])[0] == pytest.approx(2.0)


def test_kid_matches_fsr_metrics():
    fid = pytest.importorskip("fsr.metrics.fid")
    from harness.report import _kid

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(60, 16)), rng.normal(0.2, 1.0, size=(60, 16))
    assert _kid(a, b) == pytest.approx(fid.kid_from_features(a, b)[0], rel=1e-9)
    c = rng.normal(size=(45, 16))  # unequal sizes: fsr's subsets
    assert _kid(a, c) == pytest.approx(fid.kid_from_features(a, c)[0], rel=1e-12)
