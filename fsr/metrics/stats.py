"""Statistics behind every reported number: bootstrap intervals, a paired comparison that
resamples identities, and FID/KID from feature matrices (numpy only).

    >>> mean, lo, hi = bootstrap_ci([31.2, 28.9, 30.4, 29.7, 33.0])
    >>> lo <= mean <= hi
    True
    >>> d = paired_bootstrap([30.0, 31.0, 29.0, 30.5], [29.0, 30.5, 28.0, 30.0],
    ...                      clusters=['ann', 'ann', 'bob', 'cy'])
    >>> round(d.delta, 3), d.n, d.clusters
    (0.75, 4, 3)

FID from two feature sets uses an exact low-rank form, so per-bucket FID over a few hundred
images needs no 2048x2048 matrix square root (seconds each on two cores)::

    A = X - mean(X), B = Y - mean(Y)         (n_x x d, n_y x d)
    tr sqrt(S_x S_y) = ||A B^T||_* / sqrt((n_x - 1)(n_y - 1))

(the non-zero eigenvalues of S_x S_y are those of M M^T / c with M = A B^T), equal to
``scipy.linalg.sqrtm`` on the full covariances up to rounding. KID is the unbiased MMD^2 with the
cubic polynomial kernel k(x, y) = (x.y / d + 1)^3 (Binkowski et al. 2018), averaged over seeded
subsets (StyleGAN2-ADA / clean-fid); when the subsets are the whole of both sets it is computed
once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from fsr.metrics.errors import MetricError


def bootstrap_ci(values, n: int = 1000, seed: int = 0, alpha: float = 0.05,
                 statistic: Callable[[np.ndarray], float] | None = None
                 ) -> tuple[float, float, float]:
    """Percentile bootstrap: ``(statistic(values), lo, hi)`` at level ``1 - alpha``.

    ``values``: ``(M,)`` per-image scores, or ``(M, D)`` rows (e.g. Inception features) that
    are resampled together; ``statistic`` defaults to the mean of a 1-D array. For a set
    metric pass e.g. ``statistic=lambda f: fid_low_rank(f, ref_feats)``. Non-finite
    values (a PSNR of inf) are refused: drop or clip them first and say so
    (:func:`finite_mean_ci` drops them).
    """
    data = np.asarray(values, dtype=np.float64)
    if data.ndim not in (1, 2) or len(data) < 2:
        raise MetricError(f"bootstrap_ci: need (M >= 2,) or (M >= 2, D) values, got {data.shape}")
    if not np.isfinite(data).all():
        raise MetricError("bootstrap_ci: values contain NaN or inf")
    _check_level(alpha, n, "bootstrap_ci")
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


def finite_mean_ci(values, n: int = 1000, seed: int = 0, alpha: float = 0.05
                   ) -> tuple[float, float, float]:
    """:func:`bootstrap_ci` of the mean over the finite values only (a PSNR of +inf for an
    exact copy is left out, not averaged); ``(mean, nan, nan)`` with one value, all nan with
    none. This is what the benchmark's summary tables report.

    >>> finite_mean_ci([1.0, 3.0, float('inf')])[0]
    2.0
    """
    vals = np.asarray(values, dtype=np.float64).ravel()
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return float("nan"), float("nan"), float("nan")
    if vals.size < 2:
        return float(vals.mean()), float("nan"), float("nan")
    return bootstrap_ci(vals, n=n, seed=seed, alpha=alpha)


class PairedDelta(NamedTuple):
    """Mean of ``a - b`` over pairs, its (1 - alpha) interval, and what it rests on."""

    delta: float
    lo: float
    hi: float
    n: int  # pairs (images)
    clusters: int  # independent units resampled (identities)


def paired_bootstrap(a: Sequence[float], b: Sequence[float], clusters: Sequence[str],
                     n: int = 1000, seed: int = 0, alpha: float = 0.05) -> PairedDelta:
    """Mean per-image difference ``a - b`` with a cluster-bootstrap interval.

    ``a[i]`` and ``b[i]`` score the same image by two methods; ``clusters[i]`` is its identity.
    Images of one identity are not independent (in the sample set's test split 41 of 83 are
    frames of one video), so each resample draws whole identities with replacement and takes
    the mean over all their images (larger identities weigh more, as in the point estimate).
    Non-finite scores are refused, as in :func:`bootstrap_ci`.
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(clusters) != len(x):
        raise MetricError(f"paired_bootstrap: a, b and clusters must be equally long 1-D, got "
                          f"{x.shape}, {y.shape} and {len(clusters)}")
    if len(x) < 2:
        raise MetricError(f"paired_bootstrap: need at least 2 pairs, got {len(x)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise MetricError("paired_bootstrap: scores contain NaN or inf")
    _check_level(alpha, n, "paired_bootstrap")
    names, inverse = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
    diff = x - y
    sums = np.bincount(inverse, weights=diff, minlength=len(names))
    counts = np.bincount(inverse, minlength=len(names)).astype(np.float64)
    delta = float(diff.mean())
    if len(names) < 2:  # one identity: nothing to resample between
        return PairedDelta(delta, float("nan"), float("nan"), len(x), len(names))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(names), size=(n, len(names)))
    boot = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return PairedDelta(delta, float(lo), float(hi), len(x), len(names))


def _check_level(alpha: float, n: int, who: str) -> None:
    if not 0 < alpha < 1 or n < 1:
        raise MetricError(f"{who}: need 0 < alpha < 1 and n >= 1, got {alpha}, {n}")


def check_features(feats, name: str, min_rows: int = 2) -> np.ndarray:
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2 or feats.shape[0] < min_rows:
        raise MetricError(f"{name}: expected (M >= {min_rows}, D) features, got {feats.shape}")
    if not np.isfinite(feats).all():
        raise MetricError(f"{name}: features contain NaN or inf")
    return feats


def fid_low_rank(x: np.ndarray, y: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two ``(M, D)`` feature sets, by the exact
    low-rank form above (no D x D square root). Clipped at 0 (rounding on identical sets).

    >>> rng = np.random.default_rng(0)
    >>> bool(fid_low_rank(rng.normal(size=(50, 8)), rng.normal(size=(60, 8))) >= 0)
    True
    """
    x, y = check_features(x, "fid x"), check_features(y, "fid y")
    if x.shape[1] != y.shape[1]:
        raise MetricError(f"FID: feature sizes differ: {x.shape[1]} vs {y.shape[1]}")
    mx, my = x.mean(0), y.mean(0)
    a, b = x - mx, y - my
    cx, cy = len(x) - 1, len(y) - 1
    tr_x = float((a * a).sum()) / cx
    tr_y = float((b * b).sum()) / cy
    nuclear = float(np.linalg.svd(a @ b.T, compute_uv=False).sum())
    fid = float(((mx - my) ** 2).sum()) + tr_x + tr_y - 2 * nuclear / np.sqrt(cx * cy)
    return max(fid, 0.0)


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of two feature sets with the cubic kernel ``(x.y / d + 1)^3``."""
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def kid_from_features(feats_a: np.ndarray, feats_b: np.ndarray, num_subsets: int = 100,
                      subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID as ``(mean, std)`` of :func:`mmd2_unbiased` over random subsets.

    Each subset draws ``m = min(len(a), len(b), subset_size)`` rows of each set without
    replacement. When ``m`` equals both set sizes every subset is the whole of both sets (a
    permutation, the same value), so it is computed once (std 0).
    """
    a, b = check_features(feats_a, "feats_a"), check_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise MetricError(f"KID: feature sizes differ: {a.shape[1]} vs {b.shape[1]}")
    if num_subsets < 1 or subset_size < 2:
        raise MetricError("KID: need num_subsets >= 1 and subset_size >= 2")
    m = min(len(a), len(b), subset_size)
    if m == len(a) == len(b):
        return mmd2_unbiased(a, b), 0.0
    rng = np.random.default_rng(seed)
    values = np.array([mmd2_unbiased(a[rng.choice(len(a), m, replace=False)],
                                     b[rng.choice(len(b), m, replace=False)])
                       for _ in range(num_subsets)])
    return float(values.mean()), float(values.std())
