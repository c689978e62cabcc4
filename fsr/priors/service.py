"""The prior a prior-guided method gets, one way for training, the benchmark and restore: the
prior of an input, an optional disk cache keyed by content, and the packer into method
arguments.

    >>> lq = np.full((32, 32, 3), 0.5, np.float32)  # no face here: the frontal template
    >>> p = PriorCache(None).get(lq)                 # no disk cache: computed
    >>> p["render"].shape, p["coeffs"].shape, bool(p["fitted"])
    ((32, 32, 3), (117,), False)
    >>> {k: tuple(v.shape) for k, v in pack_priors([p, p]).items()}
    {'render': (2, 3, 32, 32), 'coeffs': (2, 117)}

Sources (``PRIOR_SOURCES``):

- ``degraded`` (the default, the only one a result without a label may use): the mesh is fitted
  on the degraded input the method sees (as uint8, :func:`fsr.imageio.to_uint8`) and rendered
  at the input's size: ``compute_prior(uint8(lq), size=lq side, with_maps=False)``.
- ``oracle`` (a labelled ablation): the mesh is fitted on the ground truth at its own size (the
  method's output size: the clean, full-resolution face) and rendered at the input's size, so
  the render lies on the input's pixels as the degraded prior does. Training and the benchmark
  both use this definition (the benchmark used to fit the ground truth resized to the input
  size first).

A cache entry is ``<folder>/<key>.npz`` with key ``<PRIOR_VERSION>-<source>-<HxW of the fitted
image>-<render size>-<sha256[:24] of its uint8 bytes>``: the prior is a pure function of those,
so two inputs with the same bytes share one entry and a changed input never reuses a stale one.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

from fsr.files import atomic_write
from fsr.imageio import to_uint8
from fsr.priors.prior import compute_prior

# Bump when fsr.priors changes what it renders, so stale cache entries are not reused.
PRIOR_VERSION = "p1"
PRIOR_SOURCES = ("degraded", "oracle")
PRIOR_KEYS = ("render", "coeffs", "fitted")


def default_prior_dir() -> Path:
    """``$FSR_HOME/priors`` (``~/.cache/fsr/priors`` by default): training's prior cache."""
    from fsr.assets.resolver import fsr_home

    return fsr_home() / "priors"


def fit_input(lq: np.ndarray, gt: np.ndarray | None = None,
              source: str = "degraded") -> tuple[np.ndarray, int | tuple[int, int]]:
    """(uint8 image the mesh is fitted on, render size) of ``source``'s prior for input ``lq``
    (float in [0, 1] or uint8, H x W x 3); ``gt`` is needed by (only) the oracle."""
    if source not in PRIOR_SOURCES:
        raise ValueError(f"prior source must be one of {PRIOR_SOURCES}, got {source!r}")
    if source == "oracle" and gt is None:
        raise ValueError("prior source 'oracle' needs the ground truth image")
    h, w = lq.shape[:2]
    size = h if h == w else (h, w)
    return to_uint8(gt if source == "oracle" else lq), size


def compute(img_u8: np.ndarray, size) -> dict[str, np.ndarray]:
    """One prior, uncached: fit on ``img_u8``, render at ``size``; float32 arrays plus a bool."""
    prior = compute_prior(img_u8, size=size, with_maps=False)
    return {"render": np.asarray(prior.render, dtype=np.float32),
            "coeffs": np.asarray(prior.coeffs, dtype=np.float32),
            "fitted": np.asarray(bool(prior.fitted))}


class PriorCache:
    """Compute-or-load priors. ``PriorCache(folder)`` keeps one ``.npz`` per key in ``folder``
    (training: :func:`default_prior_dir`; the benchmark: its run's ``cache/priors``);
    ``PriorCache(None)`` computes every time (restore, one-off calls). Entries are written
    atomically (:func:`fsr.files.atomic_write`), so parallel data-loader workers and killed
    runs never leave half files; an unreadable entry is recomputed and overwritten.
    """

    def __init__(self, folder: str | os.PathLike | None) -> None:
        self.folder = None if folder is None else Path(folder)

    @staticmethod
    def key(img_u8: np.ndarray, size, source: str) -> str:
        digest = hashlib.sha256(np.ascontiguousarray(img_u8).tobytes()).hexdigest()[:24]
        side = size if isinstance(size, int) else "x".join(str(s) for s in size)
        return f"{PRIOR_VERSION}-{source}-{img_u8.shape[0]}x{img_u8.shape[1]}-{side}-{digest}"

    def path(self, lq: np.ndarray, gt: np.ndarray | None = None,
             source: str = "degraded") -> Path | None:
        """Where the entry of ``get(lq, gt, source)`` lives (None without a folder)."""
        if self.folder is None:
            return None
        fit_on, size = fit_input(lq, gt, source)
        return self.folder / f"{self.key(fit_on, size, source)}.npz"

    def get(self, lq: np.ndarray, gt: np.ndarray | None = None,
            source: str = "degraded") -> dict[str, np.ndarray]:
        """``source``'s prior for input ``lq`` (float [0, 1] or uint8 H x W x 3), rendered at
        lq's size: ``{'render': float32 HxWx3, 'coeffs': float32 (117,), 'fitted': bool}``."""
        fit_on, size = fit_input(lq, gt, source)
        path = None
        if self.folder is not None:
            path = self.folder / f"{self.key(fit_on, size, source)}.npz"
            if path.is_file():
                try:
                    with np.load(path) as data:
                        return {k: data[k] for k in PRIOR_KEYS}
                except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                    pass  # torn or foreign entry: recompute and overwrite it
        out = compute(fit_on, size)
        if path is not None:
            with atomic_write(path) as tmp:
                np.savez(tmp, **out)
        return out


def pack_priors(priors: list[dict]) -> dict:
    """Prior dicts -> the ``prior`` argument of :class:`fsr.methods.Method`: ``{'render':
    float32 (N, 3, H, W), 'coeffs': float32 (N, K)}`` (a method without coefficients takes
    the render from the dict)."""
    import torch

    render = np.stack([np.asarray(p["render"], dtype=np.float32) for p in priors])
    coeffs = np.stack([np.asarray(p["coeffs"], dtype=np.float32) for p in priors])
    return {"render": torch.from_numpy(render).permute(0, 3, 1, 2).contiguous(),
            "coeffs": torch.from_numpy(coeffs)}
