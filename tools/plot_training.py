"""Training curves from the runs' CSV logs: ``docs/training_curves.png``.

    python tools/plot_training.py docs/training_logs/*.csv --baseline "SR x4=bicubic=27.91"

One row of panels per task family (SR x4, SR x8, restoration): the training loss (mean since
the previous validation) and the validation PSNR against the iteration, labelled with the
split each run validated on (old runs: test; runs since the val split: val).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def read(path: Path) -> dict[str, list[float]]:
    rows = list(csv.DictReader(open(path)))
    cols = {k for r in rows for k in r}
    return {k: [float(r[k]) if r.get(k) not in (None, "") else float("nan") for r in rows]
            for k in cols if k != "dataset"}


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", type=Path)
    parser.add_argument("--baseline", action="append", default=[],
                        help="FAMILY=NAME=PSNR reference line, e.g. 'SR x4=bicubic (test)=27.91'")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "training_curves.png")
    args = parser.parse_args()
    groups: dict[str, list[Path]] = {}
    for p in sorted(args.logs):
        family = "SR x4" if "_x4" in p.stem else "SR x8" if "_x8" in p.stem else "restoration"
        groups.setdefault(family, []).append(p)
    fig, axes = plt.subplots(len(groups), 2, figsize=(10, 3.2 * len(groups)), squeeze=False)
    for (family, paths), (ax_loss, ax_val) in zip(groups.items(), axes, strict=True):
        splits = set()
        for p in paths:
            log = read(p)
            splits |= {r["dataset"].rsplit("-", 1)[-1] for r in csv.DictReader(open(p))}
            losses = [k for k in log if k.startswith("l_") and k != "l_d_r1"]
            for k in losses:
                ax_loss.plot(log["iter"], log[k], marker=".", label=f"{p.stem}: {k}")
            ax_val.plot(log["iter"], log["val_psnr"], marker="o", label=p.stem)
        for spec in args.baseline:
            fam, label, value = spec.split("=")
            if fam == family:
                ax_val.axhline(float(value), ls="--", color="grey", label=label)  # name its split
        ax_loss.set_yscale("log")
        ax_loss.set_title(f"{family}: training losses")
        ax_val.set_title(f"{family}: {'/'.join(sorted(splits))}-split PSNR (EMA weights)")
        ax_val.set_ylabel("dB")
        for ax in (ax_loss, ax_val):
            ax.set_xlabel("iteration")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(args.out)


if __name__ == "__main__":
    main()
