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
STYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (1, 3)))


def read(path: Path) -> dict[str, list[float]]:
    rows = list(csv.DictReader(open(path)))
    cols = {k for r in rows for k in r}
    return {k: [float(r[k]) if r.get(k) not in (None, "") else float("nan") for r in rows]
            for k in cols if k != "dataset"}


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

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
    fig, axes = plt.subplots(len(groups), 2, figsize=(11, 3.6 * len(groups)), squeeze=False)
    for (family, paths), (ax_loss, ax_val) in zip(groups.items(), axes, strict=True):
        splits, terms = set(), {}
        for i, p in enumerate(paths):
            log = read(p)
            colour = f"C{i % 10}"
            splits |= {r["dataset"].rsplit("-", 1)[-1] for r in csv.DictReader(open(p))}
            # a run's colour, a loss term's line style: two short legends, not runs x terms
            for k in sorted(k for k in log if k.startswith("l_") and k != "l_d_r1"):
                style = terms.setdefault(k, STYLES[len(terms) % len(STYLES)])
                ax_loss.plot(log["iter"], log[k], color=colour, ls=style, lw=1)
            ax_val.plot(log["iter"], log["val_psnr"], color=colour, marker="o", ms=3, label=p.stem)
        runs = [Line2D([], [], color=f"C{i % 10}", label=p.stem) for i, p in enumerate(paths)]
        styles = [Line2D([], [], color="black", ls=st, label=k) for k, st in terms.items()]
        ax_loss.add_artist(ax_loss.legend(handles=runs, fontsize=6, loc="upper right"))
        ax_loss.legend(handles=styles, fontsize=6, loc="lower left")
        for spec in args.baseline:
            fam, label, value = spec.split("=")
            if fam == family:
                ax_val.axhline(float(value), ls="--", color="grey", label=label)  # name its split
        ax_loss.set_yscale("log")
        ax_loss.set_title(f"{family}: training losses")
        ax_val.set_title(f"{family}: {'/'.join(sorted(splits))}-split PSNR (EMA weights)")
        ax_val.set_ylabel("dB")
        ax_val.legend(fontsize=6)
        for ax in (ax_loss, ax_val):
            ax.set_xlabel("iteration")
            ax.grid(alpha=0.3)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(args.out)


if __name__ == "__main__":
    main()
