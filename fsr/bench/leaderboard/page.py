"""The whole leaderboard page (LEADERBOARD.md) from a bench output folder.

Protocol first (datasets, degradations, metric definitions and weights, identity model, FID
sample-size warning), then per task an overall table and one table per |yaw| bucket:
mean [95% bootstrap CI] and n, the best mean of each column in bold (lower or higher is
better per metric). Then, when the run has pipeline.csv, how many faces whole-photo mode's
detector misses per task and bucket. The output depends only on the folder's files: the same
results give the same bytes (the only date is the run's, from manifest.json).
"""

from __future__ import annotations

import os
from pathlib import Path

from fsr.bench.leaderboard.ablations import ablation_section
from fsr.bench.leaderboard.identity_floor import floor_rows, read_floor
from fsr.bench.leaderboard.published import published_block
from fsr.bench.leaderboard.sweep_tables import sweep_section
from fsr.bench.leaderboard.tables import arrow, bucket_rank, fmt, load, read_csv, table


def _pipeline(m: dict, rows: list[dict]) -> list[str]:
    """'Faces not detected' table: a row per (dataset /) task, a column per bucket, missed/n."""
    if not rows:
        return []
    fp = m.get("face_pipeline") or {}
    sizes = {t["name"]: t["size"] // t["scale"] for t in m["suite"]["tasks"]}
    tasks = [t["name"] for t in m["suite"]["tasks"]]
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    buckets = sorted({r["bucket"] for r in rows}, key=bucket_rank)
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
            "Each column says whose definition it is: a paper's evaluation script, computed "
            "exactly (comparable with that paper's tables under the same protocol), or fsr's own "
            "statistic or stand-in (never under a paper's name).", "",
            "| metric | better | whose | definition | licence | weights sha256 |",
            "|---|---|---|---|---|---|"]
    for col, d in m["metrics"].items():
        sha = "; ".join(f"{k} `{(v or 'absent')[:16]}`" for k, v in
                        (d.get("weights_sha256") or {}).items()) or "none"
        against = " (vs the input)" if d.get("against") == "input" else ""
        whose = str(d.get("definition") or "fsr").replace("|", "/")
        out.append(f"| {col} | {arrow(d['lower_better'])} | {whose} | "
                   f"{d.get('description', '')}{against} | {d.get('licence') or '?'} | {sha} |")
    for col, line in (m.get("dropped_metrics") or {}).items():
        out.append(f"| {col} | - | not run here | {line} | - | - |")
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
            if e.get("outputs_sha256"):  # a folder of saved outputs (NAME=outputs:PATH)
                sha = f"outputs `{e['outputs_sha256'][:16]}` ({e['outputs_files']} files)"
                kind = ", ".join(e.get("tasks") or [])
            else:
                sha = f"`{e['weights_sha256'][:16]}`" if e.get("weights_sha256") \
                    else "weight-free"
                kind = f"{e['task']} x{e['scale']}"
            out.append(f"| {e['label']} | {kind} | {e.get('prior') or '-'} "
                       f"| {sha} | {e.get('licence') or '?'} | {e.get('description', '')} |")
    out += _fingerprints(m)
    if m.get("sources"):
        return out + _sources(m)
    git = m.get("git") or {}
    dev = m.get("device") or {}
    vers = m.get("versions") or {}
    out += ["", f"Run {m.get('created', '?')}, commit `{(git.get('commit') or '?')[:12]}`"
                f"{' (uncommitted changes)' if git.get('dirty') else ''}, "
                f"{dev.get('device', '?')} ({dev.get('cpu_count', '?')} cores), torch "
                f"{vers.get('torch', '?')}, command `{m.get('command', '')}`.", ""]
    return out


def _fingerprints(m: dict) -> list[str]:
    """The protocol fingerprint of each dataset x task (fsr.bench.inputs.protocol)."""
    protocol = m.get("protocol") or {}
    if not protocol:
        return []
    out = ["", "Protocol fingerprints (dataset content, task and degradation, seed rule, pose "
               "edges, metric weights, FID reference; `leaderboard/make.py` merges only runs "
               "whose fingerprints' parts agree):", "", "| dataset / task | fingerprint |",
           "|---|---|"]
    out += [f"| {k} | `{v['fingerprint']}` |" for k, v in protocol.items()]
    return out


def _sources(m: dict) -> list[str]:
    """A merged page: the runs its rows come from."""
    out = ["", "### Source runs", "", "| run | commit | date | device | by | methods |",
           "|---|---|---|---|---|---|"]
    for s in m["sources"]:
        commit = f"`{(s.get('commit') or '?')[:12]}`" + (" (dirty)" if s.get("dirty") else "")
        out.append(f"| {s['run']} | {commit} | {s.get('date') or '?'} | {s.get('device')} | "
                   f"{s.get('submitted_by') or '-'} | {', '.join(s['methods'])} |")
    out += [""] + [f"- {note}" for note in m.get("merge_notes") or []]
    return [*out, ""]


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
            fp = (manifest.get("protocol") or {}).get(f"{ds}/{task}")
            if fp:
                lines += [f"Protocol `{ds}/{task}`: `{fp['fingerprint']}`", ""]
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
                lines += table(brows, bsets, cols, lower)
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
                if b == "all":  # the papers' own rows for this benchmark, marked as such
                    lines += published_block(manifest)
    lines += sweep_section(run_dir, [t["name"] for t in suite["tasks"]], fmt)
    lines += ablation_section(run_dir, sweeps)
    lines += _pipeline(manifest, read_csv(run_dir / "pipeline.csv"))
    plots = manifest.get("plots") or []
    if plots:
        lines += ["## Plots", ""]
        lines += [f"- [{Path(p).stem.replace('_', ' ')}]({link(p)})" for p in plots]
        lines.append("")
    return "\n".join(lines)
