#!/usr/bin/env python
"""Markdown leaderboard from a bench output folder (summary.csv, paired.csv, set_metrics.csv,
pipeline.csv, manifest.json); also the README's blocks and the model cards' benchmark part
(``cards.py``), so every number in them is rendered from one run.

    python leaderboard/make.py results/pose                  # prints Markdown
    python leaderboard/make.py results/pose -o LEADERBOARD.md
    python leaderboard/make.py leaderboard/pose --readme README.md   # README's results + notes
    python leaderboard/make.py leaderboard/pose --cards weights      # model cards' benchmark part

Protocol first (datasets, degradations, metric definitions and weights, identity model, FID
sample-size warning), then per task an overall table and one table per |yaw| bucket:
mean [95% bootstrap CI] and n, the best mean of each column in bold (lower or higher is
better per metric). Then, when the run has pipeline.csv, how many faces whole-photo mode's
detector misses per task and bucket. The output depends only on the folder's files: the same
results give the same bytes (the only date is the run's, from manifest.json).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path


class LeaderboardError(Exception):
    pass


def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def fmt(v: float) -> str:
    if not math.isfinite(v):
        return "-"
    a = abs(v)
    return f"{v:.2f}" if a >= 10 else f"{v:.4f}" if a < 1 else f"{v:.3f}"


def _arrow(lower: bool) -> str:
    return "↓" if lower else "↑"


def load(run_dir: Path) -> tuple[dict, list[dict], list[dict]]:
    mpath = run_dir / "manifest.json"
    if not mpath.is_file():
        raise LeaderboardError(f"{run_dir} has no manifest.json (run bench/run.py first)")
    manifest = json.loads(mpath.read_text())
    summary = _read_csv(run_dir / "summary.csv")
    if not summary:
        raise LeaderboardError(f"{run_dir}/summary.csv is missing or empty")
    return manifest, summary, _read_csv(run_dir / "set_metrics.csv")


def _bucket_rank(label: str) -> tuple:
    """'all' first, then |yaw| buckets by their lower edge, 'unknown' last."""
    if label == "all":
        return (0, 0.0)
    try:
        return (1, float(label.split("-")[0].rstrip("+")))
    except ValueError:
        return (2, 0.0)


def _pipeline(m: dict, rows: list[dict]) -> list[str]:
    """'Faces not detected' table: a row per (dataset /) task, a column per bucket, missed/n."""
    if not rows:
        return []
    fp = m.get("face_pipeline") or {}
    sizes = {t["name"]: t["size"] // t["scale"] for t in m["suite"]["tasks"]}
    tasks = [t["name"] for t in m["suite"]["tasks"]]
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    buckets = sorted({r["bucket"] for r in rows}, key=_bucket_rank)
    detector = ", ".join(dict.fromkeys(r["detector"] for r in rows))
    asked = f" (suite asked for `{fp['requested']}`)" if fp.get("requested") not in \
        (None, detector) else ""
    thr = f", score threshold {fp['threshold']:g} (its default)" if "threshold" in fp else ""
    out = ["## Face pipeline (whole-photo mode): faces not detected", "",
           "Whole-photo mode (`fsr.restore.restore(photo, method, aligned=False)`) first runs "
           "`fsr.face.pipeline.FacePipeline`'s detector on the low-quality photo; a face it misses "
           f"is not restored at all. Detector: **{detector}**{asked}{thr}. Each face is shown to "
           "it as the task's degraded input at its native size, edge-padded by half its side on "
           "every side (a photo twice the input's side); it counts as found when a detection's "
           "box centre lies inside the unpadded input. The view is never upscaled, so faces "
           "below the detector's smallest face size are misses. Cells: missed / n faces.", "",
           "| task | input | " + " | ".join(b if b in ("all", "unknown") else f"{b}°"
                                          for b in buckets) + " |",
           "|---|---:|" + "---:|" * len(buckets)]
    cells = {(r["dataset"], r["task"], r["bucket"]): f"{r['missed']}/{r['n']}" for r in rows}
    for ds in datasets:
        for task in tasks:
            if not any((ds, task, b) in cells for b in buckets):
                continue
            name = task if len(datasets) == 1 else f"{ds} / {task}"
            out.append(f"| {name} | {sizes.get(task, '?')} px | " +
                       " | ".join(cells.get((ds, task, b), "-") for b in buckets) + " |")
    return [*out, ""]


def _protocol(m: dict, link) -> list[str]:
    suite = m["suite"]
    out = ["## Protocol", ""]
    if suite.get("description"):
        out += [suite["description"].strip(), ""]
    out += ["| dataset | type | images |", "|---|---|---:|"]
    for name, d in m["datasets"].items():
        role = f" ({d['role']})" if d.get("role") else ""
        out.append(f"| {name}{role} | {d['type']} | {d['images']} |")
    out += ["", "| task | kind | input -> output | degradation |", "|---|---|---|---|"]
    for t in suite["tasks"]:
        deg = "given by the dataset" if t["degradation"] is None else \
            ", ".join(f"{k}={v}" for k, v in t["degradation"].items())
        out.append(f"| {t['name']} | {t['kind']} | {t['size'] // t['scale']} -> {t['size']} px "
                   f"| {deg} |")
    out += ["", "- Each image gets one degraded input per task (seed fixed per image and task), "
                "shared by every method.",
            f"- 3D priors of prior-guided methods are computed from **"
            f"{'the ground truth (oracle ablation)' if suite['prior'] == 'oracle' else 'the degraded input only'}"
            "**.",
            f"- Pose buckets by |yaw| in degrees, edges {suite['pose_edges']} (pose from the "
            "ground truth for synthetic pairs, from the input for real photos; 'unknown' = no "
            "face found, counted in 'all' only).",
            f"- Mean over images with a 95% percentile-bootstrap interval "
            f"(n={suite['bootstrap']['n']}, seed {suite['bootstrap']['seed']}).", "",
            "| metric | better | definition | weights sha256 |", "|---|---|---|---|"]
    for col, d in m["metrics"].items():
        sha = "; ".join(f"{k} `{(v or 'absent')[:16]}`" for k, v in
                        (d.get("weights_sha256") or {}).items()) or "none"
        against = " (vs the input)" if d.get("against") == "input" else ""
        out.append(f"| {col} | {_arrow(d['lower_better'])} | {d.get('description', '')}"
                   f"{against} | {sha} |")
    models = [f"{col}: `{d['model']}`" for col, d in m["metrics"].items() if d.get("model")]
    if models:
        out += ["", "Models behind the learned metrics: " + ", ".join(models) + "."]
    if any(d.get("set_metric") for d in m["metrics"].values()):
        out += ["", "**FID/KID sample size:** FID from fewer than 2048 images is biased upward "
                "(rank-deficient covariance) and per-bucket values rest on a few images: compare "
                "FID only between methods at the same n, and prefer KID (unbiased) across "
                "buckets. These numbers are not comparable with FID against 50k/70k FFHQ "
                "statistics."]
    out += ["", "| method | task | prior | weights sha256 | licence | description |",
            "|---|---|---|---|---|---|"]
    seen = set()
    for methods in m["methods"].values():
        for e in methods:
            if e["label"] in seen:
                continue
            seen.add(e["label"])
            sha = f"`{e['weights_sha256'][:16]}`" if e.get("weights_sha256") else "weight-free"
            out.append(f"| {e['label']} | {e['task']} x{e['scale']} | {e.get('prior') or '-'} "
                       f"| {sha} | {e.get('licence') or '?'} | {e.get('description', '')} |")
    git = m.get("git") or {}
    dev = m.get("device") or {}
    vers = m.get("versions") or {}
    out += ["", f"Run {m.get('created', '?')}, commit `{(git.get('commit') or '?')[:12]}`"
                f"{' (uncommitted changes)' if git.get('dirty') else ''}, "
                f"{dev.get('device', '?')} ({dev.get('cpu_count', '?')} cores), torch "
                f"{vers.get('torch', '?')}, command `{m.get('command', '')}`.", ""]
    return out


def _table(rows: list[dict], sets: list[dict], metrics: list[str], lower: dict) -> list[str]:
    """One Markdown table: a row per method, a column per metric, best in bold."""
    methods = sorted({r["method"] for r in rows} | {s["method"] for s in sets})
    set_names = list(dict.fromkeys(s["metric"] for s in sets))
    cells: dict[tuple[str, str], tuple[float, str]] = {}
    n_by_method = {}
    for r in rows:
        mean, lo, hi = _num(r["mean"]), _num(r["ci_lo"]), _num(r["ci_hi"])
        ci = f" [{fmt(lo)}, {fmt(hi)}]" if math.isfinite(lo) else ""
        cells[(r["method"], r["metric"])] = (mean, fmt(mean) + ci)
        n_by_method[r["method"]] = max(n_by_method.get(r["method"], 0), int(r["n"]))
    for s in sets:
        v = _num(s["value"])
        cells[(s["method"], s["metric"])] = (v, fmt(v))
        n_by_method.setdefault(s["method"], int(s["n"]))
    cols = metrics + set_names
    best = {}
    for c in cols:
        vals = [cells[(m, c)][0] for m in methods if (m, c) in cells
                and math.isfinite(cells[(m, c)][0])]
        if len(vals) > 1:
            best[c] = min(vals) if lower.get(c, False) else max(vals)
    head = "| method | " + " | ".join(f"{c} {_arrow(lower.get(c, False))}" for c in cols) + \
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


def make(run_dir: Path, out_file: Path | None = None) -> str:
    manifest, summary, sets = load(run_dir)
    suite = manifest["suite"]
    lower = {c: bool(d["lower_better"]) for c, d in manifest["metrics"].items()}
    base = out_file.parent if out_file else Path.cwd()

    def link(rel: str) -> str:
        return Path(os.path.relpath(run_dir / rel, base)).as_posix()

    lines = [f"# Leaderboard: {suite['name']}", ""]
    lines += _protocol(manifest, link)
    metrics = [c for c in manifest["metrics"] if not manifest["metrics"][c].get("set_metric")]
    datasets = list(dict.fromkeys(r["dataset"] for r in summary))
    buckets = list(dict.fromkeys(r["bucket"] for r in summary))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from identity_floor import floor_rows, read_floor

    floors = read_floor(run_dir)
    sweeps = {n for n, d in (manifest.get("datasets") or {}).items() if d.get("type") == "sweep"}
    for ds in datasets:
        if ds in sweeps:  # synthetic pose: tables against target yaw, below
            continue
        for task in [t["name"] for t in suite["tasks"]]:
            rows = [r for r in summary if r["dataset"] == ds and r["task"] == task]
            if not rows:
                continue
            title = f"{task}" if len(datasets) == 1 else f"{ds} / {task}"
            lines += [f"## {title}", ""]
            for b in buckets:
                brows = [r for r in rows if r["bucket"] == b]
                if not brows:
                    continue
                bsets = [s for s in sets if s["dataset"] == ds and s["task"] == task
                         and s["bucket"] == b]
                n = max(int(r["n"]) for r in brows)
                name = "All poses" if b == "all" else f"|yaw| {b}°" if b != "unknown" \
                    else "Pose unknown"
                lines += [f"### {name} (n={n})", ""]
                cols = [c for c in metrics if any(r["metric"] == c for r in brows)]
                lines += _table(brows, bsets, cols, lower)
                # the identity columns' value for different people: the scale a swap scores
                lines += floor_rows(floors, ds, task, b,
                                    cols + list(dict.fromkeys(s["metric"] for s in bsets)))
                if any(s.get("warning") for s in bsets):
                    ns = sorted({int(s["n"]) for s in bsets})
                    refs = sorted({s["reference"] for s in bsets})
                    lines += ["", f"FID/KID from n={'/'.join(map(str, ns))} image(s) per method "
                              f"against {' / '.join(refs)}: small sample, see the protocol's "
                              "warning."]
                lines.append("")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sweep_tables import sweep_section

    lines += sweep_section(run_dir, [t["name"] for t in suite["tasks"]], fmt)
    from ablations import ablation_section

    lines += ablation_section(run_dir, sweeps)
    lines += _pipeline(manifest, _read_csv(run_dir / "pipeline.csv"))
    plots = manifest.get("plots") or []
    if plots:
        lines += ["## Plots", ""]
        lines += [f"- [{Path(p).stem.replace('_', ' ')}]({link(p)})" for p in plots]
        lines.append("")
    return "\n".join(lines)


README_BEGIN = "<!-- leaderboard:begin (python leaderboard/make.py DIR --readme README.md) -->"
README_END = "<!-- leaderboard:end -->"


def task_overview(manifest: dict, summary: list[dict], sets: list[dict], task: str,
                  floors: list[dict] | None = None) -> list[str]:
    """One task's all-poses table and its PSNR per |yaw| bucket (README block, model cards);
    ``floors`` (``identity_floor.csv`` rows) add the different-people row under the table."""
    sweeps = {n for n, d in (manifest.get("datasets") or {}).items() if d.get("type") == "sweep"}
    summary = [r for r in summary if r["dataset"] not in sweeps]  # real photos only here
    sets = [s for s in sets if s["dataset"] not in sweeps]
    lower = {c: bool(d["lower_better"]) for c, d in manifest["metrics"].items()}
    metrics = [c for c in manifest["metrics"] if not manifest["metrics"][c].get("set_metric")]
    buckets = sorted({r["bucket"] for r in summary} - {"all", "unknown"}, key=_bucket_rank)
    rows = [r for r in summary if r["task"] == task]
    if not rows:
        return []
    all_rows = [r for r in rows if r["bucket"] == "all"]
    n = max(int(r["n"]) for r in all_rows)
    lines = [f"**{task}** (all poses, n={n}; mean [95% bootstrap CI])", ""]
    all_sets = [s for s in sets if s["task"] == task and s["bucket"] == "all"]
    cols = [c for c in metrics if any(r["metric"] == c for r in all_rows)]
    lines += _table(all_rows, all_sets, cols, lower)
    datasets = {r["dataset"] for r in all_rows}
    if floors and len(datasets) == 1:
        from identity_floor import floor_rows

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
            cells = [fmt(_num(psnr[(m, b)]["mean"])) if (m, b) in psnr else "-"
                     for b in buckets]
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines


def overview(run_dir: Path) -> str:
    """The README's block: per task, the all-poses table and PSNR per |yaw| bucket."""
    manifest, summary, sets = load(run_dir)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from identity_floor import read_floor

    floors = read_floor(run_dir)
    lines = []
    for task in [t["name"] for t in manifest["suite"]["tasks"]]:
        part = task_overview(manifest, summary, sets, task, floors)
        if part:
            lines += [*part, ""]
    return "\n".join(lines)


def replace_block(text: str, begin: str, end: str, block: str, where) -> str:
    """``text`` with what lies between the ``begin`` and ``end`` markers replaced by ``block``."""
    if begin not in text or end not in text:
        raise LeaderboardError(f"{where} has no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{block}{end}{tail}"


def update_readme(readme: Path, block: str, notes: str | None = None) -> None:
    """Rewrite the README's results block and, when given, its notes block."""
    text = replace_block(readme.read_text(), README_BEGIN, README_END, block, readme)
    if notes is not None:
        cards = _cards()
        text = replace_block(text, cards.NOTES_BEGIN, cards.NOTES_END, notes, readme)
    readme.write_text(text)


def _cards():
    """leaderboard/cards.py, sharing this module (and so LeaderboardError) as ``make``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if __name__ in sys.modules:
        sys.modules.setdefault("make", sys.modules[__name__])
    import cards

    return cards


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="leaderboard/make.py", description=__doc__.split("\n\n")[0])
    p.add_argument("dir", type=Path, help="a bench output folder (results/<suite>)")
    p.add_argument("-o", "--output", type=Path, help="write the Markdown here (default: stdout)")
    p.add_argument("--readme", type=Path, help="instead, rewrite the results and notes blocks "
                   "between the leaderboard markers of this README")
    p.add_argument("--cards", type=Path, metavar="FOLDER", help="instead (or as well as "
                   "--readme), rewrite the benchmark block of the model cards in FOLDER")
    args = p.parse_args(argv)
    try:
        if args.readme or args.cards:
            cards = _cards()
            if args.readme:
                update_readme(args.readme, overview(args.dir), cards.notes(args.dir))
                print(f"updated {args.readme}")
            for card in cards.update_cards(args.dir, args.cards) if args.cards else []:
                print(f"updated {card}")
            return 0
        text = make(args.dir, args.output)
    except LeaderboardError as err:
        print(f"leaderboard: error: {err}", file=sys.stderr)
        return 2
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
