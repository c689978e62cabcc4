"""The leaderboard's synthetic-pose section, from a bench run's sweep.csv and robustness.csv.

Per task: each metric against the target yaw (mean [95% bootstrap CI], a row per method, the
median MediaPipe |yaw| measured on the renders under each target), then the pose-robustness
figure per method: the drop from target 0 to the largest target (positive = worse there),
with its 95% interval from a bootstrap over identities. Every heading says synthetic pose.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path


def _rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _num(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _cell(mean: float, lo: float, hi: float, fmt) -> str:
    return fmt(mean) + (f" [{fmt(lo)}, {fmt(hi)}]" if math.isfinite(lo) else "")


def sweep_section(run_dir: Path, tasks: list[str], fmt) -> list[str]:
    """Markdown lines (empty when the run has no sweep.csv)."""
    sweep = _rows(Path(run_dir) / "sweep.csv")
    if not sweep:
        return []
    robust = _rows(Path(run_dir) / "robustness.csv")
    out = ["## Synthetic pose sweep (face profiling)", "",
           "Near-frontal test crops turned to each target yaw by `fsr.synth.profile` (3D face + "
           "head depth model, rotated and re-rendered): **synthetic pose**, not photographs "
           "at that pose. Columns are target |yaw|; the last row is the median |yaw| MediaPipe "
           "measures on those renders (over the renders where it finds a face; beyond 45 degrees it "
           "often finds none). See docs/profiling.md for the renderer's accuracy.", ""]
    for ds in dict.fromkeys(r["dataset"] for r in sweep):
        for task in tasks:
            rows = [r for r in sweep if r["dataset"] == ds and r["task"] == task]
            if not rows:
                continue
            targets = sorted({r["yaw_target"] for r in rows}, key=float)
            for metric in dict.fromkeys(r["metric"] for r in rows):
                mrows = {(r["method"], r["yaw_target"]): r for r in rows if r["metric"] == metric}
                lower = any(r["lower_better"] == "True" for r in mrows.values())
                n = {t: max((int(r["n"]) for (m, tt), r in mrows.items() if tt == t), default=0)
                     for t in targets}
                out += [f"### {ds} / {task}: {metric} {'↓' if lower else '↑'} against target "
                        "yaw (synthetic pose)", "",
                        "| method | " + " | ".join(f"{t}° (n={n[t]})" for t in targets) + " |",
                        "|---|" + "---:|" * len(targets)]
                for m in sorted({m for m, _ in mrows}):
                    cells = [_cell(_num(mrows[(m, t)]["mean"]), _num(mrows[(m, t)]["ci_lo"]),
                                   _num(mrows[(m, t)]["ci_hi"]), fmt) if (m, t) in mrows
                             else "-" for t in targets]
                    out.append(f"| {m} | " + " | ".join(cells) + " |")
                meas = {t: next((_num(r["yaw_measured_median"]) for (_, tt), r in mrows.items()
                                 if tt == t), math.nan) for t in targets}
                out += ["| *MediaPipe \\|yaw\\| on the renders (median)* | " +
                        " | ".join(f"{v:.1f}°" if math.isfinite(v) else "-"
                                   for v in meas.values()) + " |", ""]
            rrows = [r for r in robust if r["dataset"] == ds and r["task"] == task]
            if rrows:
                metrics = list(dict.fromkeys(r["metric"] for r in rrows))
                to = rrows[0]["to_yaw"]
                cells = {(r["method"], r["metric"]): r for r in rrows}
                ids = max(int(r["identities"]) for r in rrows)
                out += [f"### {ds} / {task}: pose robustness, drop from 0° to {to}° "
                        f"(synthetic pose; positive = worse at {to}°; 95% bootstrap over "
                        f"{ids} identities)", "",
                        "| method | " + " | ".join(metrics) + " |", "|---|" + "---:|" * len(metrics)]
                for m in sorted({r["method"] for r in rrows}):
                    vals = [_cell(_num(cells[(m, c)]["drop"]), _num(cells[(m, c)]["ci_lo"]),
                                  _num(cells[(m, c)]["ci_hi"]), fmt) if (m, c) in cells else "-"
                            for c in metrics]
                    out.append(f"| {m} | " + " | ".join(vals) + " |")
                out.append("")
    return out
