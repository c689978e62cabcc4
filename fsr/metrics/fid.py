"""Set-level metrics on Inception features: FID and KID, plus cached reference statistics.

    fid_metric = create_metric('fid')
    fa = fid_metric.features(restored_images)           # (M, 2048) float64
    fid_metric(fa, 'ffhq_stats.npz')                    # features, (mu, sigma) or .npz
    kid_metric = create_metric('kid'); kid_metric(fa, fb)

FID (Heusel et al. 2017). Between two feature sets (what the benchmark computes) the default
``method='low-rank'`` is :func:`fsr.metrics.stats.fid_low_rank`, exact and equal to the
pytorch-fid / BasicSR route up to rounding without a 2048x2048 square root. When either side is
ready statistics (``(mu, sigma)`` or an ``.npz``) the covariances are all there is, and the
pytorch-fid / BasicSR route runs: ``scipy.linalg.sqrtm`` of ``sigma1 @ sigma2``, ``eps`` added
to the diagonals if the product is singular, imaginary parts dropped when the diagonal's are
below 1e-3 (else an error). KID (Binkowski et al. 2018) is the unbiased MMD^2 with the cubic
polynomial kernel ``(x.y / d + 1)^3``, averaged over random subsets as in StyleGAN2-ADA /
clean-fid / torch-fidelity (100 subsets of up to 1000):
:func:`fsr.metrics.stats.kid_from_features`.
Never compare FIDs computed with different extractors or reference sets.

A paper's FID is against a reference: the ground-truth set (DifFace), all 70k FFHQ-512 images
(PMRF, torch-fidelity), or statistics a paper ships (VQFR's ``inception_FFHQ_512.pth``).
:func:`load_reference` takes any of these (a folder, an ``.npz`` with ``mu``/``sigma``, VQFR's
``.pth`` with ``mean``/``cov``) and returns ``(mu, sigma, fingerprint)``; the fingerprint
(kind, path, sha256 of the file or of the folder's content, image count, extractor) goes
into the run's protocol and beside every FID number. :func:`fid_from_stats` is the
pytorch-fid / BasicSR computation on two ``(mu, sigma)``. A FID over fewer than
:data:`MIN_STABLE_FID_IMAGES` images (pytorch-fid's recommended minimum: below the 2048
feature dimensions the covariance is rank-deficient) is biased upward and unstable:
:func:`small_sample_warning` says so in one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from scipy import linalg
from torch import nn

from fsr.assets.resolver import sha256_of
from fsr.metrics.common import MetricError
from fsr.metrics.inception import EXTRACTOR_TAG, FEATURE_DIM, FIDInception, iter_batches
from fsr.metrics.stats import check_features, fid_low_rank, kid_from_features

__all__ = ["FID", "KID", "MIN_STABLE_FID_IMAGES", "feature_stats", "fid_from_features",
           "fid_features_vs_stats", "fid_from_stats", "folder_images", "frechet_distance", "kid_from_features",
           "load_reference", "load_stats", "save_stats", "small_sample_warning"]

# pytorch-fid's README: "use a minimum sample size of 2048" (the feature dimension; fewer
# images leave the covariance rank-deficient and the FID biased upward)
MIN_STABLE_FID_IMAGES = 2048
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm")
# what computed a reference's statistics: only equal extractors give comparable FIDs
VQFR_EXTRACTOR = "pytorch-fid pt_inception-2015-12-05 (VQFR vqfr/metrics/fid.py)"

Stats = tuple[np.ndarray, np.ndarray]


def feature_stats(feats: np.ndarray) -> Stats:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of ``(M, D)`` features (float64)."""
    feats = check_features(feats, "features")
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


def save_stats(path: str | os.PathLike, feats: np.ndarray | None = None, *,
               stats: Stats | None = None, count: int | None = None,
               extractor: str = EXTRACTOR_TAG, **meta: str) -> Path:
    """Write ``mu``, ``sigma``, ``count`` and the extractor tag to an ``.npz`` (from features
    or from ready stats). Extra string ``meta`` (e.g. ``dataset='FFHQ-512 70k'``) is stored too."""
    if (feats is None) == (stats is None):
        raise MetricError("save_stats: pass exactly one of feats or stats")
    if feats is not None:
        mu, sigma = feature_stats(feats)
        count = len(feats)
    else:
        mu, sigma = stats
    path = Path(path)
    np.savez(path, mu=mu, sigma=sigma, count=np.int64(count or 0), extractor=np.str_(extractor),
             **{k: np.str_(v) for k, v in meta.items()})
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def load_stats(path: str | os.PathLike, extractor: str | None = EXTRACTOR_TAG) -> Stats:
    """Read ``(mu, sigma)`` saved by :func:`save_stats`; refuse another extractor's stats.

    Files from other tools (pytorch-fid / BasicSR / clean-fid ``.npz`` with ``mu``/``sigma``)
    load with ``extractor=None``; it is then the caller's job to know they are comparable.
    """
    try:
        with np.load(path) as data:
            mu, sigma = data["mu"], data["sigma"]
            tag = str(data["extractor"]) if "extractor" in data else None
    except (OSError, KeyError, ValueError) as exc:
        raise MetricError(f"{path}: not an FID statistics .npz with mu and sigma ({exc})") from None
    if extractor is not None and tag != extractor:
        raise MetricError(f"{path}: statistics from extractor {tag!r}, expected {extractor!r} "
                          "(pass extractor=None to accept them anyway)")
    return mu.astype(np.float64), sigma.astype(np.float64)


def _trace_sqrt_product_eigh(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr sqrt(S1 S2) = sum sqrt(eig(R S2 R)), R = S1^(1/2): symmetric, so eigh is stable on
    rank-deficient covariances (few images) where sqrtm's result turns complex."""
    w, v = linalg.eigh(sigma1)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = root @ sigma2 @ root
    return float(np.sqrt(np.clip(linalg.eigvalsh((inner + inner.T) / 2), 0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6, method: str = "sqrtm") -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)).

    ``method='sqrtm'`` (default) is the pytorch-fid / BasicSR computation; ``'eigh'`` gives the
    same value on well-conditioned statistics (measured: docs/metrics.md) and also works when
    fewer images than feature dimensions make sqrtm's result complex.
    """
    if method not in ("sqrtm", "eigh"):
        raise MetricError(f"FID method must be 'sqrtm' or 'eigh', got {method!r}")
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise MetricError(f"FID statistics disagree in shape: mu {mu1.shape} vs {mu2.shape}, "
                          f"sigma {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    if method == "eigh":
        tr_covmean = _trace_sqrt_product_eigh(sigma1, sigma2)
        return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():  # singular product: regularise both covariances
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):  # numerical noise gives tiny imaginary parts
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise MetricError(f"FID: sqrtm has a large imaginary component "
                              f"{np.abs(covmean.imag).max():.3g} (too few images for the "
                              "feature size? use method='eigh', or report KID)")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid_from_features(feats_a: np.ndarray, feats_b: np.ndarray, method: str = "low-rank"
                      ) -> float:
    """FID between two ``(M, D)`` feature sets: ``'low-rank'`` (default, what the benchmark
    reports), or ``'sqrtm'`` / ``'eigh'`` on the fitted covariances (:func:`frechet_distance`)."""
    if method == "low-rank":
        return fid_low_rank(feats_a, feats_b)
    return frechet_distance(*feature_stats(feats_a), *feature_stats(feats_b), method=method)


class _SetMetric(nn.Module):
    """Holds the Inception (loaded on first use) and turns image sets into features."""

    def __init__(self, weights: str | os.PathLike | None = None, batch_size: int = 16,
                 device: str | torch.device = "cpu") -> None:
        super().__init__()
        self.weights, self.batch_size, self.device = weights, batch_size, torch.device(device)
        self._inception: list[FIDInception] = []  # a list keeps it out of state_dict()

    @property
    def inception(self) -> FIDInception:
        """The extractor, loaded on first use: FID/KID of ready features need no weights."""
        if not self._inception:
            self._inception.append(FIDInception(self.weights).to(self.device))
        return self._inception[0]

    def features(self, images: Iterable) -> np.ndarray:
        """Inception features ``(M, 2048)`` float64 of an iterable of images or batches
        (see :func:`fsr.metrics.inception.iter_batches` for accepted items)."""
        out = [self.inception(batch.to(self.device)).cpu().double().numpy()
               for batch in iter_batches(images, self.batch_size)]
        if not out:
            raise MetricError("features: no images")
        return np.concatenate(out)


class FID(_SetMetric):
    """``FID()(a, b) -> float``; ``a``/``b``: features ``(M, 2048)``, ``(mu, sigma)`` or an
    ``.npz`` written by :func:`save_stats`. ``method``: ``'low-rank'`` (default; two feature
    sets, else the ``'sqrtm'`` route), ``'sqrtm'`` or ``'eigh'`` (:func:`frechet_distance`)."""

    def __init__(self, weights: str | os.PathLike | None = None, batch_size: int = 16,
                 device: str | torch.device = "cpu", method: str = "low-rank") -> None:
        super().__init__(weights, batch_size, device)
        if method not in ("low-rank", "sqrtm", "eigh"):
            raise MetricError(f"FID method must be 'low-rank', 'sqrtm' or 'eigh', got {method!r}")
        self.method = method

    def forward(self, a, b) -> float:
        if self.method == "low-rank" and _is_features(a) and _is_features(b):
            return fid_low_rank(self._features_of(a, "a"), self._features_of(b, "b"))
        method = "sqrtm" if self.method == "low-rank" else self.method
        return frechet_distance(*self._stats(a, "a"), *self._stats(b, "b"), method=method)

    @staticmethod
    def _features_of(x, name: str) -> np.ndarray:
        feats = check_features(x, name)
        if feats.shape[1] != FEATURE_DIM:
            raise MetricError(f"{name}: expected {FEATURE_DIM}-D features, got {feats.shape[1]}")
        return feats

    @staticmethod
    def _stats(x, name: str) -> Stats:
        if isinstance(x, str | os.PathLike):
            return load_stats(x)
        if isinstance(x, tuple) and len(x) == 2:
            return np.asarray(x[0], np.float64), np.asarray(x[1], np.float64)
        return feature_stats(FID._features_of(x, name))


def _is_features(x) -> bool:
    return not isinstance(x, str | os.PathLike | tuple)


class KID(_SetMetric):
    """``KID()(feats_a, feats_b) -> float`` (the subset mean; ``.last_std`` holds the std)."""

    def __init__(self, weights: str | os.PathLike | None = None, batch_size: int = 16,
                 device: str | torch.device = "cpu", num_subsets: int = 100,
                 subset_size: int = 1000, seed: int = 0) -> None:
        super().__init__(weights, batch_size, device)
        self.num_subsets, self.subset_size, self.seed = num_subsets, subset_size, seed
        self.last_std = float("nan")

    def forward(self, feats_a: np.ndarray, feats_b: np.ndarray) -> float:
        mean, self.last_std = kid_from_features(feats_a, feats_b, self.num_subsets,
                                                self.subset_size, self.seed)
        return mean


def fid_from_stats(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
                   ) -> float:
    """FID of two ``(mu, sigma)``: the pytorch-fid / BasicSR ``sqrtm`` route
    (:func:`frechet_distance`).

    >>> fid_from_stats(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
    2.0
    """
    return frechet_distance(mu1, sigma1, mu2, sigma2, method="sqrtm")


def fid_features_vs_stats(feats: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float:
    """FID of a feature set ``(M, D)`` against reference ``(mu, sigma)``, exact and cheap for
    M < D: the non-zero eigenvalues of ``S_x sigma`` are those of ``A sigma A^T / (M - 1)``
    (A the centred features), a symmetric M x M matrix, so no D x D square root is taken.

    >>> x = np.random.default_rng(0).normal(size=(50, 8))
    >>> mu, s = np.zeros(8), np.eye(8) * 2
    >>> abs(fid_features_vs_stats(x, mu, s) - frechet_distance(*feature_stats(x), mu, s)) < 1e-9
    True
    """
    feats = check_features(feats, "features")
    mu, sigma = np.asarray(mu, np.float64), np.asarray(sigma, np.float64)
    if feats.shape[1] != mu.size or sigma.shape != (mu.size, mu.size):
        raise MetricError(f"FID: features are {feats.shape[1]}-D, reference mu {mu.shape}, "
                          f"sigma {sigma.shape}")
    m = feats.mean(axis=0)
    a = feats - m
    inner = a @ sigma @ a.T / (len(feats) - 1)
    w = linalg.eigvalsh((inner + inner.T) / 2)
    # the centred set has rank <= M - 1: the null eigenvalues are rounding noise whose square
    # roots (1e-8 each) would add up, so they are zeroed below numpy's matrix_rank tolerance
    w[w < w.max() * len(w) * np.finfo(np.float64).eps] = 0.0
    tr_sqrt = float(np.sqrt(w).sum())
    tr_x = float((a * a).sum() / (len(feats) - 1))
    diff = m - mu
    return float(diff @ diff + tr_x + np.trace(sigma) - 2 * tr_sqrt)


def small_sample_warning(n: int, what: str = "FID") -> str | None:
    """One line when ``n`` images are too few for a stable FID, else None.

    >>> small_sample_warning(5000) is None
    True
    """
    if n >= MIN_STABLE_FID_IMAGES:
        return None
    return (f"warning: {what} over {n} images (< {MIN_STABLE_FID_IMAGES}, pytorch-fid's "
            "minimum): biased upward and unstable; compare only with FIDs over the same images")


def folder_images(folder: str | os.PathLike) -> list[Path]:
    """The image files directly in ``folder``, sorted by name (as the papers' scripts glob)."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise MetricError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def folder_fingerprint(files: list[Path]) -> str:
    """sha256 over the sorted (name, sha256 of the file) lines: the folder's content."""
    import hashlib

    lines = "".join(f"{p.name}  {sha256_of(p)}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def _load_vqfr_pth(path: Path) -> tuple[np.ndarray, np.ndarray, int | None]:
    """VQFR's ``inception_stat.py`` output: ``torch.save({'name', 'size', 'mean', 'cov'})`` of
    numpy arrays, read with ``weights_only=True`` and numpy's array types allowed."""
    import numpy.dtypes

    reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's _reconstruct, any version
    # files written under numpy 1 (VQFR's, 2022) name it numpy.core.multiarray._reconstruct
    allowed = [reconstruct, (reconstruct, "numpy.core.multiarray._reconstruct"), np.ndarray,
               np.dtype, numpy.dtypes.Float64DType, numpy.dtypes.Float32DType]
    try:
        with torch.serialization.safe_globals(allowed):
            data = torch.load(path, map_location="cpu", weights_only=True)
        mu, sigma = np.asarray(data["mean"], np.float64), np.asarray(data["cov"], np.float64)
    except (OSError, RuntimeError, KeyError, TypeError, ValueError) as exc:
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise MetricError(f"{path}: not FID statistics with 'mean' and 'cov' ({first})") from None
    return mu, sigma, None


def load_reference(spec: str | os.PathLike, fid: FID | None = None,
                   cache: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """FID reference statistics ``(mu, sigma, fingerprint)`` from what a paper compares with.

    ``spec``: a folder of images (features by ``fid``, default ``FID()``; its statistics are
    cached by content in ``cache`` or ``$FSR_HOME/fid_stats``), an ``.npz`` with ``mu`` and
    ``sigma`` (fsr's :func:`save_stats`, pytorch-fid, clean-fid), or VQFR's ``.pth``
    (``mean``, ``cov``). The fingerprint: ``{'kind', 'path', 'sha256', 'n_images',
    'extractor'}``; ``n_images`` is None when the file does not say, ``extractor`` names who
    computed the features (a FID is comparable only between equal extractors).
    """
    path = Path(spec).expanduser()
    if not path.exists():
        raise MetricError(f"FID reference {path} does not exist (a folder of images, an .npz "
                          "with mu/sigma, or VQFR's .pth with mean/cov)")
    if path.is_dir():
        files = folder_images(path)
        digest = folder_fingerprint(files)
        fid = fid or FID()
        if cache is None:
            from fsr.assets import fsr_home

            cache = fsr_home() / "fid_stats"
        cached = Path(cache) / f"folder-{digest[:32]}.npz"
        if cached.is_file():
            mu, sigma = load_stats(cached)
        else:
            from PIL import Image

            feats = fid.features(np.asarray(Image.open(f).convert("RGB")) for f in files)
            mu, sigma = feature_stats(feats)
            cached.parent.mkdir(parents=True, exist_ok=True)
            save_stats(cached, stats=(mu, sigma), count=len(files), folder=str(path))
        return mu, sigma, {"kind": "folder", "path": str(path), "sha256": digest,
                           "n_images": len(files), "extractor": EXTRACTOR_TAG}
    suffix = path.suffix.lower()
    if suffix == ".npz":
        mu, sigma = load_stats(path, extractor=None)
        with np.load(path) as data:
            count = int(data["count"]) if "count" in data and int(data["count"]) > 0 else None
            extractor = str(data["extractor"]) if "extractor" in data else "unknown (not stored)"
        kind = "npz"
    elif suffix in (".pth", ".pt"):
        mu, sigma, count = _load_vqfr_pth(path)
        kind, extractor = "vqfr-pth", VQFR_EXTRACTOR
    else:
        raise MetricError(f"FID reference {path}: expected a folder, an .npz or a .pth")
    if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
        raise MetricError(f"FID reference {path}: mu {mu.shape} and sigma {sigma.shape} "
                          "do not fit together")
    return mu, sigma, {"kind": kind, "path": str(path), "sha256": sha256_of(path),
                       "n_images": count, "extractor": extractor}
