"""Wall-clock accounting by category (I/O, degradation, pose, prior, method:<m>, metric:<m>),
and what the speed scripts (bench/speed.py, bench/scoring_speed.py) share: one call's seconds
on a device, and the machine load printed beside CPU timings (a shared machine's numbers move
with it)."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from contextlib import contextmanager


class Timer:
    """``with timer('io'): ...`` adds the block's seconds to the 'io' total."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.start = time.perf_counter()

    @contextmanager
    def __call__(self, category: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(category, time.perf_counter() - t0)

    def add(self, category: str, seconds: float, count: int = 1) -> None:
        self.seconds[category] += seconds
        self.counts[category] += count

    def total(self) -> float:
        return time.perf_counter() - self.start

    def as_dict(self) -> dict:
        return {k: {"seconds": round(v, 3), "count": self.counts[k]}
                for k, v in sorted(self.seconds.items())}


def timed(fn, device: str = "cpu") -> float:
    """Seconds ``fn()`` takes; on a CUDA device the queued work is waited for before and after
    (kernels run asynchronously, so the call alone would time only their launch)."""
    sync = None
    if str(device).startswith("cuda"):
        import torch

        sync = torch.cuda.synchronize
        sync()
    t0 = time.perf_counter()
    fn()
    if sync is not None:
        sync()
    return time.perf_counter() - t0


def load_average() -> float:
    """The 1-minute load average (0.0 where the system has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on Windows
        return 0.0


def machine_load(label: str = "load average") -> str:
    """``'load average 3.2 on 2 CPUs'``: printed in a timing table's header."""
    return f"{label} {load_average():.1f} on {os.cpu_count()} CPUs".lstrip()
