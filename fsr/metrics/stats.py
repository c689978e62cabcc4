"""Bootstrap confidence intervals for per-bucket summaries.

    >>> mean, lo, hi = bootstrap_ci([31.2, 28.9, 30.4, 29.7, 33.0])
    >>> lo <= mean <= hi
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fsr.metrics.errors import MetricError


def bootstrap_ci(values, n: int = 1000, seed: int = 0, alpha: float = 0.05,
                 statistic: Callable[[np.ndarray], float] | None = None
                 ) -> tuple[float, float, float]:
    """Percentile bootstrap: ``(statistic(values), lo, hi)`` at level ``1 - alpha``.

    ``values``: ``(M,)`` per-image scores, or ``(M, D)`` rows (e.g. Inception features) that
    are resampled together; ``statistic`` defaults to the mean of a 1-D array. For a set
    metric pass e.g. ``statistic=lambda f: fid_from_features(f, ref_feats)``. Non-finite
    values (a PSNR of inf) are refused: drop or clip them first and say so.
    """
    data = np.asarray(values, dtype=np.float64)
    if data.ndim not in (1, 2) or len(data) < 2:
        raise MetricError(f"bootstrap_ci: need (M >= 2,) or (M >= 2, D) values, got {data.shape}")
    if not np.isfinite(data).all():
        raise MetricError("bootstrap_ci: values contain NaN or inf")
    if not 0 < alpha < 1 or n < 1:
        raise MetricError(f"bootstrap_ci: need 0 < alpha < 1 and n >= 1, got {alpha}, {n}")
    if statistic is None:
        if data.ndim != 1:
            raise MetricError("bootstrap_ci: pass a statistic for 2-D values")
        statistic = np.mean
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(data), size=(n, len(data)))
    if statistic is np.mean:  # vectorised fast path
        boot = data[idx].mean(axis=1)
    else:
        boot = np.array([statistic(data[i]) for i in idx], dtype=np.float64)
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(statistic(data)), float(lo), float(hi)
