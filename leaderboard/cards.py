"""The model cards' benchmark section and the README's notes, rendered from a bench run.

    python leaderboard/make.py leaderboard/pose --cards weights        # every weights/*.md
    python leaderboard/make.py leaderboard/pose --readme README.md     # results block + notes

A card names its weights' sha256; the run's manifest says which method those weights are, so
the card shows that method's numbers in the run: the all-poses table of its task, PSNR per
|yaw| bucket, and the paired per-image differences against the task's baseline and (for a
prior-guided method) its no-prior ablation, from ``paired.csv`` (``fsr.metrics.stats.
paired_bootstrap``: mean difference, 95% interval resampling identities). The README's notes
give the same paired differences in prose, the whole-photo detector's misses (pipeline.csv)
and the run's timings (manifest.json). Only text between the markers is rewritten; the rest of
a card (training command, budget, curves) is tools/release_weights.py's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from make import LeaderboardError, _read_csv, fmt, load, replace_block, task_overview

CARD_BEGIN = "<!-- bench:begin (python leaderboard/make.py DIR --cards weights) -->"
CARD_END = "<!-- bench:end -->"
NOTES_BEGIN = "<!-- leaderboard-notes:begin (python leaderboard/make.py DIR --readme README.md) -->"
NOTES_END = "<!-- leaderboard-notes:end -->"
PAIRED_METRICS = ("psnr", "ssim", "lpips", "identity-dist", "identity-match")
_SHA = re.compile(r"^\| sha256 \| `([0-9a-f]{64})` \|$", re.M)


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _signed(v: float, digits: int) -> str:
    return "-" if v != v else f"{v:+.{digits}f}"  # v != v: nan


def _delta(row: dict, unit: str = "") -> str:
    """'+1.360 dB [+1.131, +1.829]': PSNR-like values with 3 decimals, scores in [0, 1] with 4."""
    d, lo, hi = _num(row["delta"]), _num(row["ci_lo"]), _num(row["ci_hi"])
    digits = 2 if max(abs(d), abs(lo) if lo == lo else 0) >= 10 else 3 if unit else 4
    ci = f" [{_signed(lo, digits)}, {_signed(hi, digits)}]" if lo == lo else ""
    return f"{_signed(d, digits)}{unit}{ci}"


def _verdict(row: dict) -> str:
    """What a paired interval says, in words (lower-is-better metrics flip the sign)."""
    lo, hi = _num(row["ci_lo"]), _num(row["ci_hi"])
    if lo != lo:
        return "too few identities for an interval"
    if lo <= 0 <= hi:
        return "no measurable difference, the interval contains 0"
    better = (hi < 0) == (row["lower_better"] == "True")
    return f"{row['method']} is {'better' if better else 'worse'}"


def _pairs(run_dir: Path, manifest: dict, method: str | None = None,
           task: str | None = None) -> list[dict]:
    """paired.csv's all-poses rows on real faces (a synthetic-pose sweep has its own tables),
    of one method and one task if given (a method can run in several tasks)."""
    sweeps = {n for n, d in (manifest.get("datasets") or {}).items() if d.get("type") == "sweep"}
    rows = [r for r in _read_csv(run_dir / "paired.csv") if r["bucket"] == "all"
            and r["dataset"] not in sweeps]
    return [r for r in rows if (method is None or r["method"] == method)
            and (task is None or r["task"] == task)]


def _method_of(manifest: dict, card: Path, text: str) -> tuple[str, str]:
    """(task name, method label) of the weights a card describes, matched by sha256."""
    m = _SHA.search(text)
    if not m:
        raise LeaderboardError(f"{card} has no '| sha256 | `...` |' row to match a method by")
    for task, entries in manifest["methods"].items():
        for e in entries:
            if e.get("weights_sha256") == m.group(1):
                return task, e["label"]
    raise LeaderboardError(f"{card}: no method of the run has its weights (sha256 "
                           f"{m.group(1)[:16]}); run the benchmark with them first")


def card_block(run_dir: Path, card: Path, text: str | None = None) -> str:
    """The benchmark section of one model card (between CARD_BEGIN and CARD_END)."""
    manifest, summary, sets = load(run_dir)
    text = card.read_text() if text is None else text
    task, label = _method_of(manifest, card, text)
    spec = next(t for t in manifest["suite"]["tasks"] if t["name"] == task)
    ds = ", ".join(f"{name} ({d['images']} images)" for name, d in manifest["datasets"].items())
    run = Path(os.path.relpath(run_dir, card.parent)).as_posix()
    git = (manifest.get("git") or {}).get("commit") or "?"
    models = ", ".join(f"{c} `{d['model']}`" for c, d in manifest["metrics"].items()
                       if d.get("model"))
    lines = ["## Benchmark", "",
             f"`{label}` in the bench run [`{run}`]({run}) (suite `{manifest['suite']['name']}`, "
             f"{manifest.get('created', '?')}, commit `{git[:12]}`): task **{task}** "
             f"({spec['size'] // spec['scale']} -> {spec['size']} px) on {ds}, the same "
             "inputs, metrics and bootstrap as the leaderboard (its protocol defines them"
             f"{'; models: ' + models if models else ''}).", ""]
    lines += task_overview(manifest, summary, sets, task)
    pairs = _pairs(run_dir, manifest, label, task)
    if pairs:
        lines += ["", f"Paired per-image differences `{label}` - other method on the same "
                  "inputs: mean [95% bootstrap interval resampling identities]:", "",
                  "| versus | comparison | " + " | ".join(PAIRED_METRICS) + " | images / identities |",
                  "|---|---|" + "---:|" * (len(PAIRED_METRICS) + 1)]
        for versus in dict.fromkeys(r["versus"] for r in pairs):
            rows = {r["metric"]: r for r in pairs if r["versus"] == versus}
            first = next(iter(rows.values()))
            lines.append(f"| {versus} | {first['comparison']} | " +
                         " | ".join(_delta(rows[m]) if m in rows else "-"
                                    for m in PAIRED_METRICS) +
                         f" | {first['n']} / {first['clusters']} |")
        lines += ["", "LPIPS: lower is better, so a negative difference is an improvement."]
    return "\n".join(lines) + "\n"


def update_cards(run_dir: Path, folder: Path) -> list[Path]:
    """Rewrite the benchmark block of every card in ``folder`` that has the markers."""
    done = []
    for card in sorted(folder.glob("*.md")):
        text = card.read_text()
        if CARD_BEGIN not in text:
            continue
        card.write_text(replace_block(text, CARD_BEGIN, CARD_END, card_block(run_dir, card, text),
                                      card))
        done.append(card)
    if not done:
        raise LeaderboardError(f"no model card in {folder} has the {CARD_BEGIN} marker")
    return done


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
    for r in _pairs(run_dir, manifest):
        by_key.setdefault((r["task"], r["method"], r["versus"], r["comparison"]), {})[
            r["metric"]] = r
    if not by_key:
        raise LeaderboardError(f"{run_dir}/paired.csv is missing or has no 'all' rows")
    for (task, method, versus, kind), rows in by_key.items():
        shown = [m for m in ("psnr", "lpips") if m in rows]
        parts = [f"{m} {_delta(rows[m], units.get(m, ''))}" for m in shown]
        verdict = "" if kind == "vs baseline" else \
            " (" + "; ".join(f"{m}: {_verdict(rows[m])}" for m in shown) + ")"
        lines.append(f"- {task}, {kind}: `{method}` - `{versus}`: {', '.join(parts)}{verdict}.")
    pipe = _read_csv(run_dir / "pipeline.csv")
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


__all__ = ["CARD_BEGIN", "CARD_END", "NOTES_BEGIN", "NOTES_END", "card_block", "fmt", "notes",
           "update_cards"]
