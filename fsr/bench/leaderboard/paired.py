"""paired.csv's per-image differences (``fsr.metrics.stats.paired_bootstrap``: mean
difference, 95% interval resampling identities) as the cards and the README's notes show them.

    >>> delta({"delta": "1.36", "ci_lo": "1.131", "ci_hi": "1.829"}, " dB")
    '+1.360 dB [+1.131, +1.829]'
"""

from __future__ import annotations

from pathlib import Path

from fsr.bench.leaderboard.tables import num, read_csv


def signed(v: float, digits: int) -> str:
    return "-" if v != v else f"{v:+.{digits}f}"  # v != v: nan


def delta(row: dict, unit: str = "") -> str:
    """'+1.360 dB [+1.131, +1.829]': PSNR-like values with 3 decimals, scores in [0, 1] with 4."""
    d, lo, hi = num(row["delta"]), num(row["ci_lo"]), num(row["ci_hi"])
    digits = 2 if max(abs(d), abs(lo) if lo == lo else 0) >= 10 else 3 if unit else 4
    ci = f" [{signed(lo, digits)}, {signed(hi, digits)}]" if lo == lo else ""
    return f"{signed(d, digits)}{unit}{ci}"


def verdict(row: dict) -> str:
    """What a paired interval says, in words (lower-is-better metrics flip the sign)."""
    lo, hi = num(row["ci_lo"]), num(row["ci_hi"])
    if lo != lo:
        return "too few identities for an interval"
    if lo <= 0 <= hi:
        return "no measurable difference, the interval contains 0"
    better = (hi < 0) == (row["lower_better"] == "True")
    return f"{row['method']} is {'better' if better else 'worse'}"


def paired_rows(run_dir: Path, manifest: dict, method: str | None = None,
           task: str | None = None) -> list[dict]:
    """paired.csv's all-poses rows on real faces (a synthetic-pose sweep has its own tables),
    of one method and one task if given (a method can run in several tasks)."""
    sweeps = {n for n, d in (manifest.get("datasets") or {}).items() if d.get("type") == "sweep"}
    rows = [r for r in read_csv(run_dir / "paired.csv") if r["bucket"] == "all"
            and r["dataset"] not in sweeps]
    return [r for r in rows if (method is None or r["method"] == method)
            and (task is None or r["task"] == task)]
