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
Importing this package does not import torch; building a metric does.
"""

from __future__ import annotations

import importlib
from typing import Any

from fsr.metrics.errors import MetricError
from fsr.metrics.stats import bootstrap_ci, finite_mean_ci, paired_bootstrap
from fsr.metrics.table import METRICS, MetricSpec

__all__ = ["METRICS", "MetricError", "MetricSpec", "bootstrap_ci", "create_metric",
           "finite_mean_ci", "get_spec", "list_metrics", "paired_bootstrap"]


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
    module_name, _, class_name = spec.factory.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    args = {**spec.kwargs, **kwargs}
    if spec.mode == "set" and device is not None:
        args.setdefault("device", device)
    try:
        metric = cls(**args)
    except TypeError as exc:  # unknown keyword: say which metric, not a deep traceback
        raise MetricError(f"{name}: {exc}") from None
    metric.metric_name, metric.spec, metric.lower_better = name, spec, spec.lower_better
    if device is not None and spec.mode != "set":
        metric = metric.to(device)
    return metric.eval()
