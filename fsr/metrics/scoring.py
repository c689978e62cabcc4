"""Per-image scores the way the benchmark computes them, for every caller that reports a number
(the benchmark's per-image loop, training validation).

    >>> from fsr.metrics.scoring import Scorer
    >>> scorer = Scorer()
    >>> scorer.values('psnr', pred, gt)            # (N, 3, H, W) in [0, 1] -> N floats  # doctest: +SKIP
    [27.9, 28.4]

One convention, so a validation curve and the leaderboard measure the same thing: a metric is
named by its row of the metric table (``lpips-vgg``, not ``lpips`` with ``net: vgg``) and built
once with the table's arguments; inputs go to the scorer's device as float32; a no-reference
metric sees the prediction only; the result is one float per image. Predictions are scored as
given: methods return [0, 1] images (``fsr.methods`` clamps, so does training's ``test``).
"""

from __future__ import annotations

from fsr.metrics.errors import MetricError


class Scorer:
    """Builds each table metric once on ``device``; :meth:`values` scores a batch."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._fns: dict = {}

    @property
    def built(self) -> dict:
        """Metric name -> the metric object, for those built so far."""
        return dict(self._fns)

    def get(self, name: str):
        """The metric ``name`` of the table, built on first use (:class:`MetricError` if unknown
        or a set metric, which scores feature sets, not images)."""
        if name not in self._fns:
            from fsr.metrics import create_metric, get_spec

            if get_spec(name).mode == "set":
                raise MetricError(f"{name} is a set metric: it scores feature sets, not images")
            self._fns[name] = create_metric(name, device=self.device)
        return self._fns[name]

    def values(self, name: str, pred, ref=None) -> list[float]:
        """Scores of ``pred`` (N, 3, H, W) against ``ref`` (ignored by no-reference metrics)."""
        import numpy as np
        import torch

        fn = self.get(name)
        pred = pred.to(self.device, torch.float32)
        with torch.inference_mode():
            if fn.spec.mode == "NR":
                out = fn(pred)
            else:
                if ref is None:
                    raise MetricError(f"{name} is full-reference: pass the reference images")
                out = fn(pred, ref.to(self.device, torch.float32))
        vals = np.asarray(out.detach().cpu() if hasattr(out, "detach") else out).ravel()
        return [float(v) for v in vals]
