"""fsr.metrics.stats: bootstrap intervals, the paired identity-cluster bootstrap, low-rank FID
and KID (what the benchmark and the model cards report)."""

import numpy as np
import pytest

from fsr.metrics import MetricError, bootstrap_ci, finite_mean_ci, get_spec, paired_bootstrap
from fsr.metrics.stats import fid_low_rank, kid_from_features, mmd2_unbiased


def test_against_a_direct_loop():
    values = np.random.default_rng(1).normal(30.0, 2.0, size=57)
    mean, lo, hi = bootstrap_ci(values, n=500, seed=7, alpha=0.1)
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 57, size=(500, 57))
    boot = np.sort([values[i].mean() for i in idx])
    assert mean == pytest.approx(values.mean())
    assert (lo, hi) == pytest.approx(tuple(np.quantile(boot, [0.05, 0.95])))
    # a custom statistic goes through the loop path and gives the same numbers
    assert bootstrap_ci(values, 500, 7, 0.1, statistic=lambda v: float(np.mean(v))) == \
        pytest.approx((mean, lo, hi))


def test_width_and_coverage():
    rng = np.random.default_rng(0)
    small = bootstrap_ci(rng.normal(size=30))
    large = bootstrap_ci(rng.normal(size=3000))
    assert (large[2] - large[1]) < 0.25 * (small[2] - small[1])
    # ~95% of intervals of N(0, 1) samples of 50 contain the true mean 0
    hits = sum(lo <= 0 <= hi for lo, hi in
               (bootstrap_ci(rng.normal(size=50), n=300, seed=s)[1:] for s in range(200)))
    assert 0.88 * 200 <= hits <= 0.99 * 200
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)


def test_rows_with_a_statistic():
    feats = np.random.default_rng(0).normal(size=(40, 3))
    value, lo, hi = bootstrap_ci(feats, n=200, statistic=lambda f: float(f[:, 0].mean()))
    assert lo <= value <= hi and value == pytest.approx(feats[:, 0].mean())
    with pytest.raises(MetricError, match="statistic"):
        bootstrap_ci(feats)


@pytest.mark.parametrize("values, kw, match", [
    ([1.0], {}, "M >= 2"),
    ([1.0, float("inf")], {}, "NaN or inf"),
    ([1.0, 2.0], {"alpha": 1.5}, "alpha"),
    (np.zeros((2, 2, 2)), {}, "M >= 2"),
])
def test_bad_input(values, kw, match):
    with pytest.raises(MetricError, match=match):
        bootstrap_ci(values, **kw)


def test_finite_mean_ci_leaves_out_non_finite_values():
    mean, lo, hi = finite_mean_ci([1.0, 2.0, 3.0, 4.0, 10.0], n=500)
    assert mean == pytest.approx(4.0) and lo <= mean <= hi and lo < hi
    # the same numbers as bootstrap_ci on the finite values (one definition)
    assert finite_mean_ci([1.0, np.inf, 3.0, 2.0, np.nan], n=300, seed=4) == \
        bootstrap_ci([1.0, 3.0, 2.0], n=300, seed=4)
    assert finite_mean_ci([5.0])[0] == 5.0 and np.isnan(finite_mean_ci([5.0])[1])
    assert np.isnan(finite_mean_ci([])[0])


def _paired_by_loops(a, b, clusters, n, seed, alpha=0.05):
    """The definition written out: resample identities, mean over all their images."""
    groups = {}
    for x, y, c in zip(a, b, clusters, strict=True):
        groups.setdefault(c, []).append(x - y)
    names = sorted(groups)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n):
        pick = rng.integers(0, len(names), len(names))
        boot.append(np.mean([v for i in pick for v in groups[names[i]]]))
    return np.quantile(boot, [alpha / 2, 1 - alpha / 2])


def test_paired_bootstrap_against_a_direct_loop():
    rng = np.random.default_rng(0)
    clusters = [f"id{i}" for i in rng.integers(0, 12, size=70)]
    a = rng.normal(30.0, 1.0, size=70)
    b = a - 0.2 + rng.normal(0, 0.3, size=70)
    res = paired_bootstrap(a, b, clusters, n=400, seed=3)
    assert res.delta == pytest.approx(float(np.mean(a - b)))
    assert (res.lo, res.hi) == pytest.approx(tuple(_paired_by_loops(a, b, clusters, 400, 3)))
    assert res.n == 70 and res.clusters == len(set(clusters)) and res.lo < 0.2 < res.hi


def test_paired_bootstrap_resamples_identities_not_images():
    # one identity with many near-identical frames: treating frames as independent would give
    # a far narrower interval than resampling the 4 identities does
    rng = np.random.default_rng(1)
    effect = np.r_[np.full(40, 1.0), [-1.0, 0.5, -0.5]] + rng.normal(0, 0.01, size=43)
    clusters = ["video"] * 40 + ["p", "q", "r"]
    res = paired_bootstrap(effect, np.zeros(43), clusters, n=2000, seed=0)
    naive = bootstrap_ci(effect, n=2000, seed=0)
    assert (res.hi - res.lo) > 3 * (naive[2] - naive[1])
    one = paired_bootstrap([1.0, 2.0], [0.0, 0.0], ["x", "x"])
    assert one.delta == 1.5 and np.isnan(one.lo) and one.clusters == 1


@pytest.mark.parametrize("args, match", [
    (([1.0, 2.0], [1.0], ["a", "b"]), "equally long"),
    (([1.0], [1.0], ["a"]), "at least 2"),
    (([1.0, np.nan], [1.0, 2.0], ["a", "b"]), "NaN or inf"),
])
def test_paired_bootstrap_bad_input(args, match):
    with pytest.raises(MetricError, match=match):
        paired_bootstrap(*args)


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
    assert fid_low_rank(x, y) == pytest.approx(_sqrtm_fid(x, y), rel=1e-4)
    assert fid_low_rank(x, x) == pytest.approx(0.0, abs=1e-6)


def test_fid_metric_runs_the_low_rank_form_on_features():
    from fsr.metrics.fid import fid_from_features

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(300, 32)), rng.normal(0.1, 1.0, size=(250, 32))
    assert fid_from_features(x, y) == fid_low_rank(x, y)
    assert fid_from_features(x, y, method="sqrtm") == pytest.approx(fid_low_rank(x, y), rel=1e-5)
    assert "low-rank" in get_spec("fid").description  # the table says what runs


def test_kid_computes_whole_sets_once():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(120, 32)), rng.normal(size=(120, 32))
    far = rng.normal(1.0, 1.0, size=(120, 32))
    assert abs(kid_from_features(a, b)[0]) < kid_from_features(a, far)[0]
    # equal sizes within one subset: every subset is a permutation of the sets
    assert kid_from_features(a, far) == (mmd2_unbiased(a, far), 0.0)
    subsets = [mmd2_unbiased(a[p], far[q]) for p, q in
               ((rng.permutation(120), rng.permutation(120)) for _ in range(3))]
    assert kid_from_features(a, far)[0] == pytest.approx(np.mean(subsets), rel=1e-12)
    c = rng.normal(size=(45, 32))  # unequal sizes: seeded subsets of 45
    assert kid_from_features(a, c, num_subsets=5, seed=1) == kid_from_features(a, c, 5, seed=1)
