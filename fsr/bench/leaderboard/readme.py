"""The README's results block, one compact table, and the full results page beside it
(``docs/results.md``: each task's all-poses table and PSNR per |yaw| bucket, then the notes:
paired differences, the whole-photo detector's misses, the run's timings), rendered from a
bench run between their markers; the rest of both files is hand-written.

    >>> compact_cells({"psnr": 27.9123, "lpips": 0.24}, {"psnr": 27.9123, "lpips": 0.09},
    ...               ["psnr", "lpips"])
    ['**27.91**', '0.2400']
"""

from __future__ import annotations

import math
from pathlib import Path

from fsr.bench.leaderboard import LeaderboardError
from fsr.bench.leaderboard.identity_floor import read_floor
from fsr.bench.leaderboard.paired import delta, paired_rows, verdict
from fsr.bench.leaderboard.tables import (
    arrow,
    bucket_rank,
    fmt,
    load,
    num,
    read_csv,
    replace_block,
    task_overview,
)

README_BEGIN = "<!-- leaderboard:begin (python leaderboard/make.py DIR --readme README.md) -->"
README_END = "<!-- leaderboard:end -->"
RESULTS_PAGE = Path("docs") / "results.md"  # beside the README
RESULTS_BEGIN = "<!-- results:begin (python leaderboard/make.py DIR --readme README.md) -->"
RESULTS_END = "<!-- results:end -->"
NOTES_BEGIN = "<!-- leaderboard-notes:begin (python leaderboard/make.py DIR --readme README.md) -->"
NOTES_END = "<!-- leaderboard-notes:end -->"


def compact_cells(means: dict, best: dict, cols: list[str]) -> list[str]:
    """One method's means as cells, the task's best of a column in bold, '-' where absent."""
    return ["-" if c not in means else f"**{fmt(means[c])}**" if means[c] == best.get(c)
            else fmt(means[c]) for c in cols]


def compact(run_dir: Path) -> str:
    """The README's block: one table, a row per task and method on the real photos, the
    all-poses mean of each per-image metric (best of the task in bold) and PSNR per |yaw|
    bucket; intervals, set metrics and the rest are on the results page."""
    manifest, summary, _ = load(run_dir)
    sweeps = {n for n, d in (manifest.get("datasets") or {}).items() if d.get("type") == "sweep"}
    summary = [r for r in summary if r["dataset"] not in sweeps]
    lower = {c: bool(d["lower_better"]) for c, d in manifest["metrics"].items()}
    cols = [c for c in manifest["metrics"] if not manifest["metrics"][c].get("set_metric")
            and any(r["metric"] == c for r in summary)]
    buckets = sorted({r["bucket"] for r in summary} - {"all", "unknown"}, key=bucket_rank)
    counts = {b: max(int(r["n"]) for r in summary if r["bucket"] == b) for b in buckets}
    datasets = list(dict.fromkeys(r["dataset"] for r in summary))
    n = max((int(r["n"]) for r in summary if r["bucket"] == "all"), default=0)
    yaw = " / ".join(f"{b}°" for b in buckets)
    lines = [f"All-poses means on {' + '.join(datasets)} (n={n} per method), best of each task "
             f"in bold; the last column is PSNR per |yaw| bucket ({yaw}: "
             f"{' / '.join(str(counts[b]) for b in buckets)} faces).", "",
             "| task | method | " + " | ".join(f"{c} {arrow(lower[c])}" for c in cols)
             + " | PSNR by abs(yaw) |", "|---|---|" + "---:|" * (len(cols) + 1)]
    for ds in datasets:
        for task in [t["name"] for t in manifest["suite"]["tasks"]]:
            rows = [r for r in summary if r["dataset"] == ds and r["task"] == task]
            means = {}
            for r in rows:
                if r["bucket"] == "all" and math.isfinite(num(r["mean"])):
                    means.setdefault(r["method"], {})[r["metric"]] = num(r["mean"])
            best = {}
            for c in cols:
                vals = [m[c] for m in means.values() if c in m]
                if len(vals) > 1:
                    best[c] = min(vals) if lower[c] else max(vals)
            psnr = {(r["method"], r["bucket"]): num(r["mean"]) for r in rows
                    if r["metric"] == "psnr"}
            name = task if len(datasets) == 1 else f"{ds} / {task}"
            for method in sorted(means):
                by_yaw = " / ".join(fmt(psnr[(method, b)]) if (method, b) in psnr else "-"
                                    for b in buckets)
                lines.append(f"| {name} | {method} | "
                             + " | ".join(compact_cells(means[method], best, cols))
                             + f" | {by_yaw} |")
    return "\n".join(lines) + "\n"


def overview(run_dir: Path) -> str:
    """The README's block: per task, the all-poses table and PSNR per |yaw| bucket."""
    manifest, summary, sets = load(run_dir)
    floors = read_floor(run_dir)
    lines = []
    for task in [t["name"] for t in manifest["suite"]["tasks"]]:
        part = task_overview(manifest, summary, sets, task, floors)
        if part:
            lines += [*part, ""]
    return "\n".join(lines)


def _timings(manifest: dict) -> str:
    t = manifest.get("timings") or {}
    cached = t.get("cached_compute") or {}
    top = sorted(cached.items(), key=lambda kv: -kv[1])[:5]
    names = ", ".join(f"{k.split(':', 1)[-1]} {v:.0f} s" for k, v in top)
    dev = manifest.get("device") or {}
    wall = t.get("total_wall_clock_s")
    computed = manifest.get("computed_images", 0)
    return (f"Timings ({dev.get('device', '?')}, {dev.get('cpu_count', '?')} cores): the cached "
            f"lines behind these numbers took {sum(cached.values()):.0f} s of method and metric "
            f"compute when they were made (largest: {names}); this run took "
            f"{f'{wall:.0f}' if wall is not None else '?'} s wall clock and computed {computed} of "
            f"{len(manifest.get('images') or [])} images ("
            f"{'all cached' if computed == 0 else 'the rest cached'}).")


def notes(run_dir: Path) -> str:
    """The README's notes: paired differences, detector misses and timings, as sentences."""
    manifest, _, _ = load(run_dir)
    units = {"psnr": " dB"}
    lines = ["Paired per image on the same inputs (mean difference, 95% bootstrap interval "
             "resampling identities; from `paired.csv`):", ""]
    by_key: dict[tuple, dict] = {}
    for r in paired_rows(run_dir, manifest):
        by_key.setdefault((r["task"], r["method"], r["versus"], r["comparison"]), {})[
            r["metric"]] = r
    if not by_key:
        raise LeaderboardError(f"{run_dir}/paired.csv is missing or has no 'all' rows")
    for (task, method, versus, kind), rows in by_key.items():
        shown = [m for m in ("psnr", "lpips") if m in rows]
        parts = [f"{m} {delta(rows[m], units.get(m, ''))}" for m in shown]
        said = "" if kind == "vs baseline" else \
            " (" + "; ".join(f"{m}: {verdict(rows[m])}" for m in shown) + ")"
        lines.append(f"- {task}, {kind}: `{method}` - `{versus}`: {', '.join(parts)}{said}.")
    pipe = read_csv(run_dir / "pipeline.csv")
    if pipe:
        sizes = {t["name"]: t["size"] // t["scale"] for t in manifest["suite"]["tasks"]}
        det = ", ".join(dict.fromkeys(r["detector"] for r in pipe))
        def missed(task: str) -> str:
            rows = [r for r in pipe if r["task"] == task]
            total = next(r for r in rows if r["bucket"] == "all")
            every = [f"all {r['n']} at {r['bucket']}°" for r in rows if r["bucket"] != "all"
                     and r["missed"] == r["n"] and int(r["n"]) > 0]
            return (f"{task} ({sizes.get(task, '?')} px input) {total['missed']}/{total['n']}"
                    + (f" ({', '.join(every)})" if every and total["missed"] != total["n"] else ""))

        per = "; ".join(missed(t) for t in dict.fromkeys(r["task"] for r in pipe))
        lines.append(f"- Whole-photo mode's detector ({det}) misses, of the degraded inputs: "
                     f"{per}.")
    lines.append(f"- {_timings(manifest)}")
    return "\n".join(lines) + "\n"


def update_readme(readme: Path, run_dir: Path) -> list[Path]:
    """Rewrite the README's block (:func:`compact`) and, on the results page beside it, the
    full results (:func:`overview`) and the notes; returns the files written."""
    page = Path(readme).parent / RESULTS_PAGE
    if not page.is_file():
        raise LeaderboardError(f"{page} is missing: the README's results page, whose "
                               f"{RESULTS_BEGIN} and notes markers --readme fills")
    text = replace_block(readme.read_text(), README_BEGIN, README_END, compact(run_dir), readme)
    full = replace_block(page.read_text(), RESULTS_BEGIN, RESULTS_END, overview(run_dir), page)
    full = replace_block(full, NOTES_BEGIN, NOTES_END, notes(run_dir), page)
    readme.write_text(text)
    page.write_text(full)
    return [readme, page]
