"""bootstrap_ci: percentile bootstrap of a per-bucket statistic."""

import numpy as np
import pytest

from fsr.metrics import MetricError, bootstrap_ci


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
