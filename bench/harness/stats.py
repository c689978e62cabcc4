"""Statistics on cached numbers: bootstrap CI of a mean, FID and KID from feature matrices.

FID uses an exact low-rank form, so per-bucket FID over a few hundred images needs no 2048x2048
matrix square root (which takes seconds each on two cores)::

    A = X - mean(X), B = Y - mean(Y)         (n_x x d, n_y x d)
    tr sqrt(S_x S_y) = ||A B^T||_* / sqrt((n_x - 1)(n_y - 1))

(the non-zero eigenvalues of S_x S_y are those of M M^T / c with M = A B^T), equal to
``scipy.linalg.sqrtm`` on the full covariances up to rounding. KID is the unbiased MMD^2 with the
cubic polynomial kernel k(x, y) = (x.y / d + 1)^3 (Binkowski et al. 2018), on all pairs when the
sets are small, else averaged over seeded subsets of ``subset_size``.
"""

from __future__ import annotations

import numpy as np


def bootstrap_ci(values, n: int = 1000, seed: int = 0, alpha: float = 0.05
                 ) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap (1 - alpha) interval; (mean, nan, nan) below 2 values.

    Uses ``fsr.metrics.stats.bootstrap_ci`` when it exists (one definition for the project).

    >>> bootstrap_ci([1.0, 2.0, 3.0, 4.0])[0]
    2.5
    """
    vals = np.asarray(values, dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return float("nan"), float("nan"), float("nan")
    if vals.size < 2:
        return float(vals.mean()), float("nan"), float("nan")
    try:
        from fsr.metrics.stats import bootstrap_ci as lib_ci
    except ImportError:
        lib_ci = None
    if lib_ci is not None:
        mean, lo, hi = lib_ci(vals, n=n, seed=seed, alpha=alpha)
        return float(mean), float(lo), float(hi)
    rng = np.random.default_rng(seed)
    means = vals[rng.integers(0, vals.size, size=(n, vals.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(vals.mean()), float(lo), float(hi)


def fid_from_features(x: np.ndarray, y: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (rows = samples).

    >>> rng = np.random.default_rng(0)
    >>> round(fid_from_features(rng.normal(size=(50, 8)), rng.normal(size=(60, 8))), 3) >= 0
    True
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sets must be (n, d) with equal d, got {x.shape} and {y.shape}")
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    mx, my = x.mean(0), y.mean(0)
    a, b = x - mx, y - my
    cx, cy = len(x) - 1, len(y) - 1
    tr_x = float((a * a).sum()) / cx
    tr_y = float((b * b).sum()) / cy
    nuclear = float(np.linalg.svd(a @ b.T, compute_uv=False).sum())
    fid = float(((mx - my) ** 2).sum()) + tr_x + tr_y - 2 * nuclear / np.sqrt(cx * cy)
    return max(fid, 0.0)


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def kid_from_features(x: np.ndarray, y: np.ndarray, subset_size: int = 1000,
                      subsets: int = 100, seed: int = 0) -> float:
    """Kernel Inception Distance (unbiased MMD^2, cubic kernel); nan below 2 samples a side."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    if max(len(x), len(y)) <= subset_size:
        return _mmd2_unbiased(x, y)
    rng = np.random.default_rng(seed)
    m = min(subset_size, len(x), len(y))
    return float(np.mean([_mmd2_unbiased(x[rng.choice(len(x), m, replace=False)],
                                         y[rng.choice(len(y), m, replace=False)])
                          for _ in range(subsets)]))
