"""The 3D prior of a training/validation input, computed once and cached by image hash.

SAM3D is conditioned on a render of the face's 3D prior at LR size. At evaluation that prior
must come from the degraded input only, so the datasets compute it from the LR image exactly
as the benchmark does (``compute_prior(uint8(lr), size=lr side, with_maps=False)``; the fit
itself runs on the input upsampled to 256). ``source='oracle'`` fits the ground truth instead
and renders at LR size: a labelled ablation, never a default.

    cache = PriorCache()                       # $FSR_HOME/priors
    p = cache.get(lr)                          # float32 HxWx3 in [0, 1]
    p['render'].shape, p['coeffs'].shape, bool(p['fitted'])  # -> ((32, 32, 3), (117,), True)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

# Bump when fsr.priors changes what it renders, so stale cache entries are not reused.
PRIOR_VERSION = "p1"
PRIOR_SOURCES = ("degraded", "oracle")


def default_prior_dir() -> Path:
    """``$FSR_HOME/priors`` (``~/.cache/fsr/priors`` by default)."""
    from fsr.assets.resolver import fsr_home

    return fsr_home() / "priors"


def to_uint8(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray((np.clip(img, 0, 1) * 255.0).round().astype(np.uint8))


class PriorCache:
    """Compute-or-load priors keyed by (version, source, size, sha256 of the uint8 image).

    ``folder=None`` uses :func:`default_prior_dir`; ``folder=False`` disables the disk cache
    (every call computes). Entries are small ``.npz`` files written atomically, so parallel
    data-loader workers and killed runs never leave half files.
    """

    def __init__(self, folder: str | os.PathLike | None | bool = None) -> None:
        if folder is False:
            self.folder = None
        else:
            self.folder = Path(folder) if folder not in (None, True) else default_prior_dir()

    @staticmethod
    def key(img_u8: np.ndarray, size: int, source: str) -> str:
        digest = hashlib.sha256(img_u8.tobytes()).hexdigest()[:24]
        return f"{PRIOR_VERSION}-{source}-{img_u8.shape[0]}x{img_u8.shape[1]}-{size}-{digest}"

    def get(self, lr: np.ndarray, gt: np.ndarray | None = None,
            source: str = "degraded") -> dict[str, np.ndarray]:
        """Prior of ``lr`` (float HxWx3 in [0, 1]) rendered at lr's size.

        ``source='oracle'`` fits ``gt`` (the ablation) and still renders at lr's size.
        Returns ``{'render': float32 HxWx3, 'coeffs': float32 (117,), 'fitted': bool array}``.
        """
        if source not in PRIOR_SOURCES:
            raise ValueError(f"prior source must be one of {PRIOR_SOURCES}, got {source!r}")
        if source == "oracle" and gt is None:
            raise ValueError("prior_source 'oracle' needs the ground truth image")
        size = int(lr.shape[0])
        fit_on = to_uint8(gt if source == "oracle" else lr)
        path = None
        if self.folder is not None:
            path = self.folder / f"{self.key(fit_on, size, source)}.npz"
            if path.is_file():
                try:
                    with np.load(path) as data:
                        return {k: data[k] for k in ("render", "coeffs", "fitted")}
                except (OSError, ValueError, KeyError):
                    pass  # unreadable entry: recompute and overwrite it
        out = compute(fit_on, size)
        if path is not None:
            _save_npz(path, out)
        return out


def compute(img_u8: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """One prior, uncached: fit on ``img_u8``, render at ``size`` x ``size``."""
    from fsr.priors import compute_prior

    prior = compute_prior(img_u8, size=size, with_maps=False)
    return {"render": np.asarray(prior.render, dtype=np.float32),
            "coeffs": np.asarray(prior.coeffs, dtype=np.float32),
            "fitted": np.asarray(bool(prior.fitted))}


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
