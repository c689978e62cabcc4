"""What every leaderboard rendering shares: a run's files, number formatting, the per-method
table (mean [95% CI], best in bold) and one task's overview (README block, model cards).

    >>> fmt(27.123456), fmt(0.123456), fmt(float("nan"))
    ('27.12', '0.1235', '-')
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from fsr.bench.leaderboard import LeaderboardError
from fsr.bench.leaderboard.identity_floor import floor_rows


def read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def fmt(v: float) -> str:
    if not math.isfinite(v):
        return "-"
    a = abs(v)
    return f"{v:.2f}" if a >= 10 else f"{v:.4f}" if a < 1 else f"{v:.3f}"


def arrow(lower: bool) -> str:
    return "↓" if lower else "↑"


def load(run_dir: Path) -> tuple[dict, list[dict], list[dict]]:
    mpath = run_dir / "manifest.json"
    if not mpath.is_file():
        raise LeaderboardError(f"{run_dir} has no manifest.json (run bench/run.py first)")
    manifest = json.loads(mpath.read_text())
    summary = read_csv(run_dir / "summary.csv")
    if not summary:
        raise LeaderboardError(f"{run_dir}/summary.csv is missing or empty")
    return manifest, summary, read_csv(run_dir / "set_metrics.csv")


def bucket_rank(label: str) -> tuple:
    """'all' first, then |yaw| buckets by their lower edge, 'unknown' last."""
    if label == "all":
        return (0, 0.0)
    try:
        return (1, float(label.split("-")[0].rstrip("+")))
    except ValueError:
        return (2, 0.0)


def table(rows: list[dict], sets: list[dict], metrics: list[str], lower: dict) -> list[str]:
    """One Markdown table: a row per method, a column per metric, best in bold."""
    methods = sorted({r["method"] for r in rows} | {s["method"] for s in sets})
    set_names = list(dict.fromkeys(s["metric"] for s in sets))
    cells: dict[tuple[str, str], tuple[float, str]] = {}
    n_by_method = {}
    for r in rows:
        mean, lo, hi = num(r["mean"]), num(r["ci_lo"]), num(r["ci_hi"])
        ci = f" [{fmt(lo)}, {fmt(hi)}]" if math.isfinite(lo) else ""
        cells[(r["method"], r["metric"])] = (mean, fmt(mean) + ci)
        n_by_method[r["method"]] = max(n_by_method.get(r["method"], 0), int(r["n"]))
    for s in sets:
        v = num(s["value"])
        cells[(s["method"], s["metric"])] = (v, fmt(v))
        n_by_method.setdefault(s["method"], int(s["n"]))
    cols = metrics + set_names
    best = {}
    for c in cols:
        vals = [cells[(m, c)][0] for m in methods if (m, c) in cells
                and math.isfinite(cells[(m, c)][0])]
        if len(vals) > 1:
            best[c] = min(vals) if lower.get(c, False) else max(vals)
    head = "| method | " + " | ".join(f"{c} {arrow(lower.get(c, False))}" for c in cols) + \
        " | n |"
    out = [head, "|---|" + "---:|" * (len(cols) + 1)]
    for m in methods:
        row = []
        for c in cols:
            if (m, c) not in cells:
                row.append("-")
                continue
            v, text = cells[(m, c)]
            row.append(f"**{text}**" if c in best and v == best[c] else text)
        out.append(f"| {m} | " + " | ".join(row) + f" | {n_by_method.get(m, 0)} |")
    return out


def task_overview(manifest: dict, summary: list[dict], sets: list[dict], task: str,
                  floors: list[dict] | None = None) -> list[str]:
    """One task's all-poses table and its PSNR per |yaw| bucket (README block, model cards);
    ``floors`` (``identity_floor.csv`` rows) add the different-people row under the table."""
    sweeps = {n for n, d in (manifest.get("datasets") or {}).items() if d.get("type") == "sweep"}
    summary = [r for r in summary if r["dataset"] not in sweeps]  # real photos only here
    sets = [s for s in sets if s["dataset"] not in sweeps]
    lower = {c: bool(d["lower_better"]) for c, d in manifest["metrics"].items()}
    metrics = [c for c in manifest["metrics"] if not manifest["metrics"][c].get("set_metric")]
    buckets = sorted({r["bucket"] for r in summary} - {"all", "unknown"}, key=bucket_rank)
    rows = [r for r in summary if r["task"] == task]
    if not rows:
        return []
    all_rows = [r for r in rows if r["bucket"] == "all"]
    n = max(int(r["n"]) for r in all_rows)
    lines = [f"**{task}** (all poses, n={n}; mean [95% bootstrap CI])", ""]
    all_sets = [s for s in sets if s["task"] == task and s["bucket"] == "all"]
    cols = [c for c in metrics if any(r["metric"] == c for r in all_rows)]
    lines += table(all_rows, all_sets, cols, lower)
    datasets = {r["dataset"] for r in all_rows}
    if floors and len(datasets) == 1:
        lines += floor_rows(floors, datasets.pop(), task, "all",
                            cols + list(dict.fromkeys(s["metric"] for s in all_sets)))
    psnr = {(r["method"], r["bucket"]): r for r in rows if r["metric"] == "psnr"}
    if psnr and buckets:
        counts = {b: max((int(r["n"]) for (m, bb), r in psnr.items() if bb == b), default=0)
                  for b in buckets}
        lines += ["", f"PSNR by |yaw| bucket ({task}; images per bucket in brackets):", "",
                  "| method | " + " | ".join(f"{b}° ({counts[b]})" for b in buckets) + " |",
                  "|---|" + "---:|" * len(buckets)]
        for m in sorted({m for m, _ in psnr}):
            cells = [fmt(num(psnr[(m, b)]["mean"])) if (m, b) in psnr else "-"
                     for b in buckets]
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines


def replace_block(text: str, begin: str, end: str, block: str, where) -> str:
    """``text`` with what lies between the ``begin`` and ``end`` markers replaced by ``block``."""
    if begin not in text or end not in text:
        raise LeaderboardError(f"{where} has no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{block}{end}{tail}"
