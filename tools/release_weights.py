"""Turn finished training runs into release files + the training part of their model cards.

    python tools/release_weights.py experiments/sam3d_x4_samples experiments/sam3d_x4_noprior_samples
    python tools/release_weights.py experiments/mmrb_sg2_128_idloss_samples_seed5 --as mmrb_sg2_128_idloss_samples
    python bench/run.py --suite pose --out results/pose                  # score them (one path)
    python leaderboard/make.py results/pose --cards weights              # the cards' numbers

For each experiment: ``weights/<name>-<sha256[:8]>.pth`` ({'params', 'params_ema'} of
``models/net_g_latest.pth``), ``weights/<name>.md`` (model card: architecture, data,
degradation, budget, training command, log) and ``docs/training_logs/<name>.csv`` (the run's
CSV log). It measures nothing: a card's evaluation numbers are the benchmark's, rendered by
``leaderboard/make.py --cards`` between the card's ``bench`` markers from a bench run (the
run finds the weights through ``fsr.assets``; the card is matched to its method by sha256).
An existing card's benchmark block is kept until that render replaces it.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from pathlib import Path

import torch

from fsr.assets.resolver import sha256_of
from fsr.data.samples import load_samples

REPO = Path(__file__).resolve().parents[1]
CARD_BEGIN = "<!-- bench:begin (python leaderboard/make.py DIR --cards weights) -->"
CARD_END = "<!-- bench:end -->"
PENDING = ("Not measured yet: run `python bench/run.py --suite pose` with these weights, then "
           "`python leaderboard/make.py <run folder> --cards weights`.\n")


def _split(split: str) -> str:
    rows = load_samples(split)
    return f"{len(rows)} crops of {len({r.identity for r in rows})} identities"


def card(name: str, opt: dict, release: Path, digest: str, log: list[dict], sessions: int,
         n_params: int, bench_block: str = PENDING, best: dict | None = None,
         run: str | None = None) -> str:
    run = run or name  # the experiment (and options file) the weights come from
    as_name = f" --as {name}" if run != name else ""
    net = {k: v for k, v in opt["network_g"].items()}
    arch = net.pop("type")
    train = opt["train"]
    tr = opt["datasets"]["train"]
    task = tr.get("task", "sr")
    scale = int(opt.get("scale", 1))
    last = log[-1] if log else {}
    minutes = float(last.get("elapsed_s", "nan")) / 60
    resumed = (f"; {sessions} sessions (killed, then continued with `--auto_resume`)"
               if sessions > 1 else "")
    is_sam3d = opt["model_type"] == "SAM3DModel"
    in_size = 128 // scale if task == "sr" else 128
    rng = "[0, 1]" if is_sam3d else "[-1, 1] (the model maps [0, 1] images with x * 2 - 1)"
    prior = ("3D prior render at LR size, fitted on the degraded input by `fsr.priors` "
             "(`forward(lr, render)`)" if is_sam3d and net.get("use_prior", True) else
             "none (no-prior ablation: the render argument is ignored)" if is_sam3d else "none")
    deg = (f"bicubic x{scale} (antialiased) of the 128x128 ground truth" if task == "sr" else
           f"GFPGAN-style blind degradation at 128 ({tr.get('degradation', {})}), a new draw per "
           "training sample; test inputs fixed by `seed_for(id, 'restore')`")
    ended = int(float(last.get("iter", train["total_iter"])))
    ran = (f"{ended} iterations" if ended == train["total_iter"] else
           f"{ended} of {train['total_iter']} iterations")
    selection = "the last iteration's weights (no early stopping)"
    if best:
        stop = opt.get("val", {}).get("early_stop", {})
        selection = (f"early stopping on the val split ({stop.get('metric', best['metric'])}, "
                     f"patience {stop.get('patience', '?')} validations): the iteration "
                     f"{best['iter']} weights, best val {best['metric']} {best['value']:.4g}")
        if ended < train["total_iter"]:
            selection += "; the run ended early, on patience or by hand (docs/training.md)"
    aug = tr.get("profile_aug")
    aug_text = (f"; augmented with profiled faces (`fsr.synth.profile`, p={aug.get('p')}, "
                f"|yaw| in {aug.get('yaws')}, both signs), flips and colour" if aug else "")
    lines = [
        f"# {name}", "",
        f"{'SAM3D' if is_sam3d else 'MMRB + StyleGAN2 prior'} trained by fsr on the embedded "
        f"sample set, on a shared 2-core CPU. A small, honest demonstration model: minutes of "
        f"training on {len(load_samples('train'))} faces. It is not the authors' model and not a benchmark entry to "
        "compare with published numbers.", "",
        "| field | value |", "|---|---|",
        f"| file | `weights/{release.name}` ({release.stat().st_size / 1e6:.1f} MB) |",
        f"| sha256 | `{digest}` |",
        "| keys | `params`, `params_ema` (use `params_ema`) |",
        f"| architecture | `{arch}` with `{net}` ({n_params:,} parameters) |",
        f"| input | RGB {rng}, {in_size}x{in_size} |",
        "| output | RGB, 128x128, same range as the input |",
        f"| prior | {prior} |",
        f"| task | {f'face SR x{scale}' if task == 'sr' else 'blind face restoration'} |",
        f"| data | `samples/` train split: {_split('train')}, aligned 256-px real-face crops "
        f"resized to 128; validated on the val split ({_split('val')}); benchmarked on the test "
        f"split ({_split('test')}); splits by identity{aug_text} |",
        f"| degradation | {deg} |",
        f"| budget | {ran} x batch {tr['batch_size_per_gpu']}, "
        f"Adam lr {train['optim_g']['lr']}, EMA {train.get('ema_decay', 0)}; "
        f"{minutes:.0f} min wall on 1 thread of a shared 2-core CPU{resumed} |",
        f"| released | {selection} |",
        f"| command | `python -m fsr.train -opt options/{run}.yml` then "
        f"`python tools/release_weights.py experiments/{run}{as_name}` |", "",
        CARD_BEGIN, bench_block + CARD_END,
    ]
    val = opt["datasets"].get("val", {})
    lines += ["", "## Training log", "",
              f"`docs/training_logs/{name}.csv` (one row per validation on the "
              f"`{val.get('split', '?')}` split, scored like the benchmark; curves in "
              "`docs/training_curves.png`).", "",
              "## Load it", "", "```python",
              "from basicsr.utils.registry import ARCH_REGISTRY",
              "import fsr.archs  # registers the architectures",
              "from fsr.archs.checkpoint import load_checkpoint", "",
              f"net = ARCH_REGISTRY.get('{arch}')(**{net}).eval()",
              f"load_checkpoint(net, 'weights/{release.name}')   # picks params_ema",
              "```", ""]
    return "\n".join(lines)


def own_sections(old: str, new: str) -> str:
    """The ``## `` sections of an old card that the generated one lacks (hand-written notes,
    e.g. the MMRB card's prior-weight section), so that a re-release keeps them."""
    tail = old.split(CARD_END, 1)[1] if CARD_END in old else old
    generated = {line for line in new.splitlines() if line.startswith("## ")}
    sections = ["## " + part for part in tail.split("\n## ")[1:]]
    kept = [sec.rstrip("\n") for sec in sections if sec.splitlines()[0] not in generated]
    return "".join(f"\n{sec}\n" for sec in kept)


def released_checkpoint(exp: Path) -> tuple[Path, dict | None]:
    """``models/net_g_best.pth`` when the run early-stopped on val (with its ``best.json``),
    else ``models/net_g_latest.pth``."""
    best = exp / "models" / "net_g_best.pth"
    info = exp / "models" / "best.json"
    if best.is_file() and info.is_file():
        return best, json.loads(info.read_text())
    return exp / "models" / "net_g_latest.pth", None


def release(exp: Path, out: Path, logs: Path = REPO / "docs" / "training_logs",
            name: str | None = None) -> None:
    """Release ``exp`` as ``name`` (default: the experiment's own name). A record's name outlives
    the run behind it: a rule that picks among seeds releases the winner under the record."""
    from basicsr.archs import build_network

    from fsr.archs.checkpoint import load_checkpoint, read_state_dict, save_checkpoint
    from fsr.options import load_options

    run = exp.name
    name = name or run
    opt = load_options(exp / f"{run}.yml")
    chosen, best = released_checkpoint(exp)
    params, _, _ = read_state_dict(chosen, key="params")
    ema, _, _ = read_state_dict(chosen, key="params_ema")
    for old in out.glob(f"{name}-*.pth"):
        old.unlink()
    path = save_checkpoint(out / f"{name}.pth", params, ema, add_sha256_suffix=True)
    digest = sha256_of(path)
    net = build_network(dict(opt["network_g"]))
    load_checkpoint(net, path)  # the release file loads into its architecture
    log_src = exp / "train_log.csv"
    logs.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(log_src))) if log_src.is_file() else []
    if rows:
        shutil.copy(log_src, logs / f"{name}.csv")
    n_params = sum(p.numel() for p in net.parameters())
    card_path = out / f"{name}.md"
    old = card_path.read_text() if card_path.is_file() else ""
    block = PENDING
    if digest in old and CARD_BEGIN in old and CARD_END in old:  # same weights: keep numbers
        block = old.split(CARD_BEGIN, 1)[1].split(CARD_END, 1)[0].lstrip("\n")
    sessions = len(list(exp.glob(f"train_{run}_*.log")))
    text = card(name, opt, path, digest, rows, sessions, n_params, block, best, run)
    card_path.write_text(text + own_sections(old, text))
    print(f"  -> {path} ({path.stat().st_size / 1e6:.1f} MB), {card_path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=REPO / "weights")
    parser.add_argument("--logs", type=Path, default=REPO / "docs" / "training_logs",
                        help="where the runs' CSV logs go")
    parser.add_argument("--as", dest="name", metavar="NAME",
                        help="release the (single) experiment under this name, e.g. a seed "
                        "chosen by a rule under its record's name")
    args = parser.parse_args()
    if args.name and len(args.experiments) != 1:
        parser.error("--as names one experiment")
    torch.set_num_threads(1)
    import fsr.models  # noqa: F401  (registers archs)

    args.out.mkdir(parents=True, exist_ok=True)
    for exp in args.experiments:
        if not released_checkpoint(exp)[0].is_file():
            print(f"{exp}: no models/net_g_best.pth or net_g_latest.pth (training not "
                  "finished?)", file=sys.stderr)
            return 1
        release(exp.resolve(), args.out, args.logs, args.name)
    print("next: score them with bench/run.py, then leaderboard/make.py RUN --cards "
          f"{args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
