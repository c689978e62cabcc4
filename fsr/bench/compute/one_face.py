"""One face through one task, the benchmark's way, for callers outside the engine (the demo's
"simulate a low-resolution capture" mode).

    >>> from fsr.bench.compute import one_face
    >>> from fsr.bench.inputs.suite import load_suite
    >>> suite = load_suite("pose")
    >>> task = one_face.task_for(suite, "sr", 4)                          # sr-x4: 32 -> 128
    >>> lq = one_face.task_input(gt128, task, "demo/1a2b3c/face1")          # doctest: +SKIP
    >>> out = one_face.run_method(method, lq)                               # doctest: +SKIP
    >>> one_face.score(metrics, suite.metrics, out, gt128, lq, task, "face 1")  # doctest: +SKIP
    {'psnr': 27.1, 'ssim': 0.83, 'lpips': 0.21, 'identity': 0.93}

Every step is the engine's own call: :func:`fsr.bench.compute.lib.degrade` (the task's recipe,
seed ``seed_for(image_key, task.name)``), :class:`fsr.priors.PriorCache` from the degraded
input only, the method on a (1, 3, h, w) tensor, and
:meth:`fsr.bench.compute.lib.Metrics.value` against the ground truth at the task's size
(``against: gt``) or the input resized to it (``against: input``), as ``compute.engine`` /
``compute.batching`` score a benchmark image. Failures raise :class:`fsr.bench.BenchError` with
one line naming the step; nothing becomes NaN.
"""

from __future__ import annotations

import numpy as np

from fsr.bench import BenchError, first_line
from fsr.bench.compute import lib
from fsr.bench.inputs.suite import Task
from fsr.priors import PriorCache


def task_for(suite, kind: str, scale: int = 1) -> Task:
    """The suite's task for a method of ``kind`` ('sr'/'restore') and ``scale``."""
    for task in suite.tasks:
        if task.kind == kind and (kind != "sr" or task.scale == int(scale)) \
                and task.degradation is not None:
            return task
    raise BenchError(f"suite {suite.name} has no synthetic {kind} task"
                     + (f" at x{scale}" if kind == "sr" else ""))


def task_input(gt: np.ndarray, task: Task, image_key: str) -> np.ndarray:
    """The task's degraded input (float32) from a float [0, 1] ground truth at ``task.size``."""
    if gt.shape[:2] != (task.size, task.size):
        raise BenchError(f"ground truth is {gt.shape[1]}x{gt.shape[0]}; task {task.name} needs "
                         f"{task.size}x{task.size}")
    return lib.degrade(np.asarray(gt, np.float32), task.degradation, image_key, task.name)


def run_method(m, lq: np.ndarray, task: Task | None = None):
    """``m`` on one float input (prior computed from that input), -> (1, 3, S, S) tensor."""
    try:
        out, _ = lib.run_network(m, [lq], [PriorCache(None).get(lq)] if m.needs_prior else None)
    except Exception as err:  # noqa: BLE001 - one line naming the method
        raise BenchError(f"method {m.label} failed: "
                         f"{first_line(err)}") from err
    if task is not None and tuple(out.shape) != (1, 3, task.size, task.size):
        raise BenchError(f"method {m.label} returned {tuple(out.shape)} for task {task.name}; "
                         f"expected (1, 3, {task.size}, {task.size})")
    return out


def score(metrics: lib.Metrics, specs, out, gt: np.ndarray | None, lq: np.ndarray, task: Task,
          where: str) -> dict[str, float]:
    """Each metric column of ``out`` ((1, 3, S, S)) against its reference; ``gt=None`` (a real
    photo) leaves out the ground-truth columns of full-reference metrics, as the engine does."""
    from fsr.bench.inputs.datasets.base import resize_image

    values, refs = {}, {}
    for spec in specs:
        info = metrics.info.get(spec.name) or lib.metric_info(spec.name)
        if spec.against == "gt" and gt is None and info.reference == "full":
            continue
        if spec.against not in refs:
            src = gt if spec.against == "gt" else lq
            refs[spec.against] = None if src is None else lib.to_tensor(resize_image(src, task.size))
        try:
            values[spec.column] = metrics.value(spec.name, out, refs[spec.against])
        except ValueError as err:  # fsr's MetricError: bad size, no face found, ...
            raise BenchError(f"metric {spec.name} failed on {where} ({task.name}): "
                             f"{first_line(err)}") from err
    return values
