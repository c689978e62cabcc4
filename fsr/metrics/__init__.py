"""Image-quality metrics, pyiqa style: one table (:mod:`fsr.metrics.table`), one factory.

    >>> from fsr.metrics import create_metric, list_metrics
    >>> list_metrics(mode='FR')[:4]
    ['psnr', 'psnr-y', 'ssim', 'ssim-y']
    >>> psnr = create_metric('psnr')
    >>> psnr(pred, gt)                # (N, 3, H, W) RGB in [0, 1] -> (N,)   # doctest: +SKIP
    >>> psnr.lower_better, psnr.spec.value_range
    (False, (0.0, inf))

Full-reference metrics are called ``metric(pred, gt)``, no-reference ones ``metric(img)``;
set metrics (fid, kid) have ``metric.features(images)`` and ``metric(feats_a, feats_b)``.
Every row says whether it is a paper's definition or fsr's own (``spec.definition``) and under
which licences its engine and weights are (``spec.licence``). A metric this install cannot
build (weights absent, pyiqa not installed) raises :class:`MetricUnavailable` with one line
saying what to add and where. Importing this package does not import torch; building a
metric does.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

from fsr.metrics.errors import MetricError, MetricUnavailable
from fsr.metrics.stats import bootstrap_ci, finite_mean_ci, paired_bootstrap
from fsr.metrics.table import METRICS, PYIQA_ENGINE_LICENCE, MetricSpec

__all__ = ["METRICS", "MetricError", "MetricSpec", "MetricUnavailable", "bootstrap_ci",
           "availability", "create_metric", "finite_mean_ci", "get_spec", "list_metrics",
           "paired_bootstrap", "pyiqa_installed"]

# how a user adds the optional no-reference engine (pyproject.toml's `iqa` extra)
PYIQA_INSTALL = "pip install 'fsr[iqa]' (or: uv sync --extra iqa)"


def pyiqa_installed() -> bool:
    """True when pyiqa (the engine of the 'pyiqa' rows) can be imported; nothing is imported."""
    if "pyiqa" in sys.modules:  # imported already, or blocked (None)
        return sys.modules["pyiqa"] is not None
    return importlib.util.find_spec("pyiqa") is not None


def availability(name: str) -> str:
    """'ready', or what is missing (pyiqa, a weight file): read from the caches, never fetched.
    Weights with an offline source (a registry package, a converter) count as ready."""
    from fsr.assets import ASSETS
    from fsr.assets.resolver import local_copy

    spec = get_spec(name)
    if spec.engine == "pyiqa" and not pyiqa_installed():
        return f"needs pyiqa: {PYIQA_INSTALL}"
    optional = {"identity": {"arcface-resnet18"}}.get(name, set())  # dlib stands in
    missing = [a for a in spec.assets if a not in optional and local_copy(a) is None
               and not ASSETS[a].offline_source]
    return "ready" if not missing else "weights missing: " + ", ".join(
        ASSETS[a].filename for a in missing)


def list_metrics(mode: str | None = None) -> list[str]:
    """Metric names in table order, optionally only one mode ('FR', 'NR' or 'set')."""
    if mode is not None and mode not in ("FR", "NR", "set"):
        raise MetricError(f"mode must be 'FR', 'NR' or 'set', got {mode!r}")
    return [name for name, spec in METRICS.items() if mode is None or spec.mode == mode]


def get_spec(name: str) -> MetricSpec:
    """The table row of ``name``; unknown names raise :class:`MetricError` listing the known."""
    try:
        return METRICS[name]
    except KeyError:
        raise MetricError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from None


def create_metric(name: str, device: str | None = None, **kwargs: Any):
    """Build metric ``name`` (an ``nn.Module``) with the table's arguments updated by ``kwargs``.

    The result carries ``.metric_name``, ``.spec`` and ``.lower_better``; it is in eval mode
    and on ``device`` (default CPU).
    """
    spec = get_spec(name)
    if spec.engine == "pyiqa" and not pyiqa_installed():
        raise MetricUnavailable(f"{name}: needs pyiqa ({PYIQA_ENGINE_LICENCE}), which this "
                                f"install leaves out; to add it: {PYIQA_INSTALL}")
    module_name, _, class_name = spec.factory.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    args = {**spec.kwargs, **kwargs}
    if spec.mode == "set" and device is not None:
        args.setdefault("device", device)
    from fsr.assets import AssetError

    try:
        metric = cls(**args)
    except TypeError as exc:  # unknown keyword: say which metric, not a deep traceback
        raise MetricError(f"{name}: {exc}") from None
    except MetricUnavailable as exc:
        raise MetricUnavailable(str(exc) if str(exc).startswith(name) else f"{name}: {exc}"
                                ) from None
    except AssetError as exc:  # the resolver's line: file, sha256, where to put it
        raise MetricUnavailable(f"{name}: {exc}{_official_copy(spec)}") from None
    metric.metric_name, metric.spec, metric.lower_better = name, spec, spec.lower_better
    if device is not None and spec.mode != "set":
        metric = metric.to(device)
    return metric.eval()


def _official_copy(spec: MetricSpec) -> str:
    """'; official copy: ...' for the spec's user-only assets that have no direct URL (the
    asset's description names the release page), else ''."""
    from fsr.assets import ASSETS

    notes = [ASSETS[a].description.split("Official copy: ", 1)[1].split(" (")[0]
             for a in spec.assets
             if a in ASSETS and not ASSETS[a].urls and "Official copy: " in ASSETS[a].description]
    return f"; official copy: {notes[0]}" if notes else ""
