"""Metric-vs-|yaw| plots (matplotlib Agg) and the console summary printed at the end of a run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def _edges_finite(edges) -> list[float]:
    return [e for e in edges if math.isfinite(e)]


def plot_metrics(df, suite, out_dir: Path, lower_better: dict) -> list[str]:
    """One PNG per (dataset, metric): a panel per task, points per image, bucket means as lines.

    Returns the written paths relative to ``out_dir``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(exist_ok=True)
    datasets = list(dict.fromkeys(df["dataset"]))
    edges = _edges_finite(suite.edges)
    for ds in datasets:
        dsub = df[(df["dataset"] == ds) & df["abs_yaw"].notna()]
        for metric in sorted(dsub["metric"].unique()):
            msub = dsub[dsub["metric"] == metric]
            tasks = [t.name for t in suite.tasks if (msub["task"] == t.name).any()]
            if not tasks:
                continue
            fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 3.6),
                                     squeeze=False, sharey=False)
            for ax, task in zip(axes[0], tasks, strict=True):
                tsub = msub[msub["task"] == task]
                for i, method in enumerate(sorted(tsub["method"].unique())):
                    g = tsub[tsub["method"] == method]
                    colour = f"C{i % 10}"
                    x = g["abs_yaw"].to_numpy(float)
                    y = g["value"].to_numpy(float)
                    ax.scatter(x, y, s=9, alpha=0.35, color=colour)
                    bins = edges + [max(edges[-1] + 15, float(np.nanmax(x)) + 1)]
                    centres, means = [], []
                    for lo, hi in zip(bins, bins[1:], strict=False):
                        sel = (x >= lo) & (x < hi)
                        if sel.any():
                            centres.append((lo + hi) / 2)
                            means.append(float(np.nanmean(y[sel])))
                    ax.plot(centres, means, "-o", color=colour, label=method, lw=1.5, ms=4)
                for e in edges[1:]:
                    ax.axvline(e, color="0.85", lw=0.8, zorder=0)
                arrow = "lower is better" if lower_better.get(metric) else "higher is better"
                ax.set_title(f"{task}", fontsize=10)
                ax.set_xlabel("|yaw| (degrees)")
                ax.set_ylabel(f"{metric} ({arrow})")
                ax.grid(alpha=0.25)
                ax.legend(fontsize=7, loc="best")
            fig.suptitle(f"{suite.name} / {ds}: {metric} vs |yaw| (lines: bucket means)",
                         fontsize=10)
            fig.tight_layout()
            name = f"{metric}_vs_yaw.png" if len(datasets) == 1 else f"{ds}_{metric}_vs_yaw.png"
            fig.savefig(plot_dir / name, dpi=110, metadata={"Software": None})
            plt.close(fig)
            written.append(f"plots/{name}")
    return written


def _fmt(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    a = abs(v)
    return f"{v:.2f}" if a >= 10 else f"{v:.4f}" if a < 1 else f"{v:.3f}"


def print_summary(summary, sets, timings: dict, cached_compute: dict, total_s: float,
                  file=None) -> None:
    """A short table (bucket 'all') per dataset x task, then the timing breakdown."""
    import sys

    file = file or sys.stdout
    if summary is not None and len(summary):
        allb = summary[summary["bucket"] == "all"]
        for (ds, task), g in allb.groupby(["dataset", "task"], sort=False):
            metrics = list(dict.fromkeys(g["metric"]))
            set_rows = sets[(sets["dataset"] == ds) & (sets["task"] == task) &
                            (sets["bucket"] == "all")] if sets is not None and len(sets) else None
            set_names = list(dict.fromkeys(set_rows["metric"])) if set_rows is not None else []
            head = ["method", *metrics, *set_names, "n"]
            lines = []
            for method, gm in g.groupby("method", sort=False):
                vals = [_fmt(gm.loc[gm["metric"] == m, "mean"].iloc[0])
                        if (gm["metric"] == m).any() else "-" for m in metrics]
                for m in set_names:
                    sel = set_rows[(set_rows["method"] == method) & (set_rows["metric"] == m)]
                    vals.append(_fmt(sel["value"].iloc[0]) if len(sel) else "-")
                lines.append([method, *vals, str(int(gm["n"].max()))])
            widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]
            print(f"\n{ds} / {task} (mean over all poses)", file=file)
            for r in [head, *lines]:
                print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)), file=file)
    print("\ntiming (seconds, this run | cached compute reused):", file=file)
    base = {"io", "degradation", "pose", "prior"}
    keys = sorted(set(timings) | set(cached_compute) | base, key=_timing_order)
    for k in keys:
        now = timings.get(k, {}).get("seconds", 0.0)
        was = cached_compute.get(k, 0.0)
        print(f"  {k:34s} {now:9.2f} | {was:9.2f}", file=file)
    print(f"  {'total wall clock':34s} {total_s:9.2f}", file=file)


def print_pipeline(pipeline, file=None) -> None:
    """pipeline.csv as 'missed/n' per task (rows) and |yaw| bucket (columns)."""
    import sys

    if pipeline is None or not len(pipeline):
        return
    file = file or sys.stdout
    buckets = list(dict.fromkeys(pipeline["bucket"]))
    for (ds, det), g in pipeline.groupby(["dataset", "detector"], sort=False):
        print(f"\n{ds}: face pipeline (whole-photo mode, {det}): faces not detected, missed/n",
              file=file)
        rows = [["task", *buckets]]
        for task, gt in g.groupby("task", sort=False):
            cells = {r.bucket: f"{r.missed}/{r.n}" for r in gt.itertuples()}
            rows.append([task, *(cells.get(b, "-") for b in buckets)])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)), file=file)


def _timing_order(k: str) -> tuple:
    first = ["setup", "io", "degradation", "pose", "prior", "detect"]
    if k in first:
        return (0, first.index(k), k)
    return (1 if k.startswith("method:") else 2 if k.startswith("metric:") else 3, 0, k)
