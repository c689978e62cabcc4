"""Wall-clock accounting by category (I/O, degradation, pose, prior, method:<m>, metric:<m>)."""

from __future__ import annotations

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
