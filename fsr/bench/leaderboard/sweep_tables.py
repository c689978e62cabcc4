"""The leaderboard's synthetic-pose section, from a bench run's sweep.csv and robustness.csv.

Per dataset, first how much of each target is still a face (the renders' validity: the shares
where dlib and MediaPipe find a face, that keep the person, that are valid, the median dlib
distance to the source, the filled share). Then per task: each metric against the target yaw
(mean over every render [95% bootstrap CI], a row per method, then the valid renders' count
and the median MediaPipe |yaw| under each target), then the pose-robustness figure per method:
the drop from target 0 to the largest target (positive = worse there), with its 95% interval
from a bootstrap over identities, on every source and on the sources valid at both ends. Every
heading says synthetic pose.
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


VALIDITY_ROWS = (  # sweep.csv column, row label, format
    ("n_renders", "renders", lambda v: f"{v:.0f}"),
    ("detector_found", "dlib (HOG, else MMOD) finds a face", lambda v: f"{v:.0%}"),
    ("mediapipe_found", "MediaPipe finds a face", lambda v: f"{v:.0%}"),
    ("same_person", "keeps the person (dlib distance < 0.6)", lambda v: f"{v:.0%}"),
    ("identity_distance_median", "median dlib distance to the source", lambda v: f"{v:.3f}"),
    ("filled_fraction", "filled (not real-texture) share of pixels", lambda v: f"{v:.1%}"),
    ("valid", "**valid** (a face that keeps the person)", lambda v: f"**{v:.0%}**"),
)


def validity_table(rows: list[dict], targets: list[str]) -> list[str]:
    """Markdown rows: each validity measure (a row) under each target yaw (a column)."""
    first = {}
    for r in rows:
        first.setdefault(r["yaw_target"], r)
    out = ["| renders at target yaw | " + " | ".join(f"{t}°" for t in targets) + " |",
           "|---|" + "---:|" * len(targets)]
    for col, label, fmt in VALIDITY_ROWS:
        vals = [_num(first[t].get(col)) if t in first else math.nan for t in targets]
        out.append(f"| {label} | " + " | ".join(fmt(v) if math.isfinite(v) else "-"
                                                for v in vals) + " |")
    return out


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
           "measures on those renders (over the renders where it finds a face). **Every render "
           "is scored**, also one that no detector finds a face in (kept in, flagged): each "
           "dataset's first table says how much of each target is still a face, the row under "
           "each metric table how many renders were valid (a face, dlib or MediaPipe, that keeps "
           "the person), and `sweep.csv` has each mean over the valid renders only "
           "(`mean_valid`). See docs/profiling.md for the renderer's accuracy.", ""]
    for ds in dict.fromkeys(r["dataset"] for r in sweep):
        drows = [r for r in sweep if r["dataset"] == ds]
        dtargets = sorted({r["yaw_target"] for r in drows}, key=float)
        if "valid" in drows[0]:
            out += [f"### {ds}: how much of each target is still a face (synthetic pose)", "",
                    *validity_table(drows, dtargets), ""]
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
                valid = {t: next((f"{r['n_valid']} of {r['n']}" for (_, tt), r in mrows.items()
                                  if tt == t and "n_valid" in r), "-") for t in targets}
                out += ["| *valid renders (a face that keeps the person)* | " +
                        " | ".join(valid.values()) + " |",
                        "| *MediaPipe \\|yaw\\| on the renders (median)* | " +
                        " | ".join(f"{v:.1f}°" if math.isfinite(v) else "-"
                                   for v in meas.values()) + " |", ""]
            rrows = [r for r in robust if r["dataset"] == ds and r["task"] == task]
            if rrows:
                metrics = list(dict.fromkeys(r["metric"] for r in rrows))
                to = rrows[0]["to_yaw"]
                cells = {(r["method"], r["metric"], r.get("renders") or "all"): r for r in rrows}
                kinds = [k for k in ("all", "valid") if any(c[2] == k for c in cells)]
                ids = max(int(r["identities"]) for r in rrows)
                n = {k: max((int(r["n"]) for c, r in cells.items() if c[2] == k), default=0)
                     for k in kinds}
                label = {"all": f"all (n={n.get('all', 0)})",
                         "valid": f"valid only (n={n.get('valid', 0)})"}
                out += [f"### {ds} / {task}: pose robustness, drop from 0° to {to}° "
                        f"(synthetic pose; positive = worse at {to}°; 95% bootstrap over "
                        f"{ids} identities)", "",
                        "*all*: every source; *valid only*: the sources whose renders at 0° and "
                        f"{to}° are both faces that keep the person.", "",
                        "| method | " + " | ".join(f"{c} {label[k]}" for c in metrics
                                                    for k in kinds) + " |",
                        "|---|" + "---:|" * (len(metrics) * len(kinds))]
                for m in sorted({r["method"] for r in rrows}):
                    vals = [_cell(_num(cells[(m, c, k)]["drop"]), _num(cells[(m, c, k)]["ci_lo"]),
                                  _num(cells[(m, c, k)]["ci_hi"]), fmt) if (m, c, k) in cells
                            else "-" for c in metrics for k in kinds]
                    out.append(f"| {m} | " + " | ".join(vals) + " |")
                out.append("")
    return out
