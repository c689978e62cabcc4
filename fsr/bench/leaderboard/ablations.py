"""The leaderboard's ablation section, from a bench run's paired.csv.

Every comparison that is not "vs baseline" (prior vs no prior, MMRB vs plain blocks: the
papers' claims) gets a table per dataset and task: a row per abs(yaw) bucket (the target yaws on a
synthetic-pose sweep), the paired mean difference method - ablation per metric with its 95%
bootstrap interval over identities, and a verdict where the interval excludes 0.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

METRICS = ("psnr", "lpips", "identity-dist")


def _rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _cell(r: dict | None) -> str:
    if r is None:
        return "-"
    d, lo, hi = (float(r[k] or "nan") for k in ("delta", "ci_lo", "ci_hi"))
    text = f"{d:+.3f}" + (f" [{lo:+.3f}, {hi:+.3f}]" if math.isfinite(lo) else "")
    if math.isfinite(lo) and (lo > 0 or hi < 0):
        better = (d < 0) == (r["lower_better"] == "True")
        text += " better" if better else " worse"
    return text


def _target(bucket: str) -> str:
    """A sweep's bucket as its target yaw: the suite's edges are the targets, so each target
    is the lower edge of its own bucket ('45-60' -> '45', '60+' -> '60'; 'all' stays)."""
    return bucket if bucket == "all" else bucket.split("-")[0].rstrip("+")


def ablation_section(run_dir: Path, sweeps: set[str]) -> list[str]:
    """Markdown lines (empty when paired.csv has no ablation rows)."""
    rows = [r for r in _rows(Path(run_dir) / "paired.csv") if r["comparison"] != "vs baseline"]
    if not rows:
        return []
    out = ["## Ablations: the papers' claims, paired per pose bucket", "",
           "Mean per-image difference `method - ablation` on the same inputs, 95% bootstrap "
           "interval resampling identities (`paired.csv`); 'better'/'worse' only where the "
           "interval excludes 0. Both models of a pair share data, budget and seed.", ""]
    groups = dict.fromkeys((r["dataset"], r["task"], r["comparison"], r["method"], r["versus"])
                           for r in rows)
    for ds, task, kind, method, versus in groups:
        sel = [r for r in rows if (r["dataset"], r["task"], r["comparison"], r["method"],
                                   r["versus"]) == (ds, task, kind, method, versus)]
        metrics = [m for m in METRICS if any(r["metric"] == m for r in sel)]
        synthetic = " (SYNTHETIC POSE: buckets are target yaws)" if ds in sweeps else ""
        first_col = "target abs(yaw), °" if synthetic else "abs(yaw) bucket, °"
        out += [f"### {ds} / {task}: {kind}, `{method}` - `{versus}`{synthetic}", "",
                f"| {first_col} | " + " | ".join(metrics) + " | images / identities |",
                "|---|" + "---:|" * (len(metrics) + 1)]
        for b in dict.fromkeys(r["bucket"] for r in sel):
            by = {r["metric"]: r for r in sel if r["bucket"] == b}
            first = next(iter(by.values()))
            out.append(f"| {_target(b) if synthetic else b} | "
                       + " | ".join(_cell(by.get(m)) for m in metrics)
                       + f" | {first['n']} / {first['clusters']} |")
        out.append("")
    return out
