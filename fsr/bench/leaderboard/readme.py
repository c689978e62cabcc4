"""The README's results block (each task's all-poses table and PSNR per |yaw| bucket) and its
notes (paired differences, the whole-photo detector's misses, the run's timings), rendered
from a bench run between the README's markers; the rest of the README is hand-written.
"""

from __future__ import annotations

from pathlib import Path

from fsr.bench.leaderboard import LeaderboardError
from fsr.bench.leaderboard.identity_floor import read_floor
from fsr.bench.leaderboard.paired import delta, paired_rows, verdict
from fsr.bench.leaderboard.tables import load, read_csv, replace_block, task_overview

README_BEGIN = "<!-- leaderboard:begin (python leaderboard/make.py DIR --readme README.md) -->"
README_END = "<!-- leaderboard:end -->"
NOTES_BEGIN = "<!-- leaderboard-notes:begin (python leaderboard/make.py DIR --readme README.md) -->"
NOTES_END = "<!-- leaderboard-notes:end -->"


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


def update_readme(readme: Path, block: str, notes: str | None = None) -> None:
    """Rewrite the README's results block and, when given, its notes block."""
    text = replace_block(readme.read_text(), README_BEGIN, README_END, block, readme)
    if notes is not None:
        text = replace_block(text, NOTES_BEGIN, NOTES_END, notes, readme)
    readme.write_text(text)
