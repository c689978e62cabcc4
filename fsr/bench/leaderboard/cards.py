"""The model cards' benchmark section, rendered from a bench run.

    python leaderboard/make.py leaderboard/pose --cards weights        # every weights/*.md

A card names its weights' sha256; the run's manifest says which method those weights are, so
the card shows that method's numbers in the run: the all-poses table of its task, PSNR per
|yaw| bucket, and the paired per-image differences against the task's baseline and (for a
prior-guided method) its no-prior ablation, from ``paired.csv`` (``fsr.metrics.stats.
paired_bootstrap``: mean difference, 95% interval resampling identities). Only text between
the markers is rewritten; the rest of a card (training command, budget, curves) is
tools/release_weights.py's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from fsr.bench.leaderboard import LeaderboardError
from fsr.bench.leaderboard.paired import delta, paired_rows
from fsr.bench.leaderboard.tables import load, replace_block, task_overview

CARD_BEGIN = "<!-- bench:begin (python leaderboard/make.py DIR --cards weights) -->"
CARD_END = "<!-- bench:end -->"
PAIRED_METRICS = ("psnr", "ssim", "lpips", "identity-dist", "identity-match")
_SHA = re.compile(r"^\| sha256 \| `([0-9a-f]{64})` \|$", re.M)


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
    pairs = paired_rows(run_dir, manifest, label, task)
    if pairs:
        lines += ["", f"Paired per-image differences `{label}` - other method on the same "
                  "inputs: mean [95% bootstrap interval resampling identities]:", "",
                  "| versus | comparison | " + " | ".join(PAIRED_METRICS) + " | images / identities |",
                  "|---|---|" + "---:|" * (len(PAIRED_METRICS) + 1)]
        for versus in dict.fromkeys(r["versus"] for r in pairs):
            rows = {r["metric"]: r for r in pairs if r["versus"] == versus}
            first = next(iter(rows.values()))
            lines.append(f"| {versus} | {first['comparison']} | " +
                         " | ".join(delta(rows[m]) if m in rows else "-"
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
