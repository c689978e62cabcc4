"""sweep.csv and robustness.csv: the synthetic pose sweep's tables, from the run's cached lines.

Tables (from results.csv's rows of sweep datasets; nothing is cached separately):

* ``sweep.csv``: dataset x task x method x metric x target |yaw|: mean [95% bootstrap CI over
  identities], n, the median MediaPipe |yaw| measured on those renders, the same mean over the
  valid renders only (``mean_valid``, ``n_valid``), and the renders' validity: the shares where
  dlib / MediaPipe find a face, that are faces, that keep the person and that are valid, the
  median dlib distance to the source, the mean filled share;
* ``robustness.csv``: per dataset x task x method x metric, the pose-robustness figure: the
  mean per-source drop from target 0 to the largest target (60 in the pose suite), signed so
  that a positive drop is worse at 60 (value(0) - value(60), or the reverse for lower-better
  metrics such as LPIPS), with a cluster-bootstrap interval over identities (``fsr.metrics.stats``);
  ``renders`` = ``all`` (every source), then ``valid`` (the sources whose renders at both ends
  are valid).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from fsr.bench.report.pose_error import pose_error_table

VALIDITY_COLUMNS = ["n_renders", "detector_found", "mediapipe_found", "is_face", "same_person",
                    "valid", "identity_distance_median", "filled_fraction"]
SWEEP_COLUMNS = ["dataset", "task", "method", "metric", "yaw_target", "mean", "ci_lo", "ci_hi",
                 "n", "identities", "yaw_measured_median", "mean_valid", "n_valid",
                 *VALIDITY_COLUMNS, "lower_better", "synthetic"]
ROBUST_COLUMNS = ["dataset", "task", "method", "metric", "renders", "from_yaw", "to_yaw", "drop",
                  "ci_lo", "ci_hi", "n", "identities", "lower_better", "synthetic"]


def _targets(df):
    return sorted({abs(float(y)) for y in df["yaw"].dropna()})


def validity_summary(recs: list[dict]) -> dict:
    """The validity columns over image records of one target yaw (shares in [0, 1])."""
    n = len(recs)
    if not n:
        return {"n_renders": 0, **{c: math.nan for c in VALIDITY_COLUMNS[1:]}}

    def share(key):
        return sum(bool(r.get(key)) for r in recs) / n

    dist = [float(r["identity_distance"]) for r in recs if r.get("identity_distance") is not None]
    return {"n_renders": n, "detector_found": share("detector_found"),
            "mediapipe_found": share("mediapipe_found"), "is_face": share("is_face"),
            "same_person": share("same_person"), "valid": share("valid"),
            "identity_distance_median": float(np.median(dist)) if dist else math.nan,
            "filled_fraction": float(np.mean([float(r.get("filled_fraction", math.nan))
                                              for r in recs]))}


def _drop(a, b, lower: bool, boot: dict):
    """Paired drop from table ``a`` (target 0) to ``b`` (largest target), per source."""
    from fsr.metrics.stats import paired_bootstrap

    common = [s for s in a.index if s in b.index and np.isfinite(a.at[s, "value"])
              and np.isfinite(b.at[s, "value"])]
    if len(common) < 2:
        return None
    v0 = a.loc[common, "value"].to_numpy(float)
    v1 = b.loc[common, "value"].to_numpy(float)
    worse_first = (v1, v0) if lower else (v0, v1)  # drop > 0: worse
    return paired_bootstrap(*worse_first, list(a.loc[common, "identity"]), n=int(boot["n"]),
                            seed=int(boot["seed"]), alpha=float(boot["alpha"]))


def sweep_tables(df, store, info, image_keys):
    """(sweep.csv, robustness.csv) DataFrames for the rows of sweep datasets (None if none)."""
    import pandas as pd

    from fsr.metrics.stats import finite_mean_ci

    sweeps = {d["name"] for d in info.suite.datasets if d.get("type") == "sweep"}
    rows = df[df["dataset"].isin(sweeps)]
    if rows.empty:
        return None, None
    images = {}
    for ikey in image_keys:
        img = store.records.get(ikey)
        if img is not None and img.get("dataset") in sweeps:
            images[(img["dataset"], img["id"])] = img
    boot = info.suite.bootstrap
    out, rob = [], []
    lower = info.lower_better

    def ci(vals):
        fin = vals[np.isfinite(vals)]
        if not len(fin):
            return math.nan, math.nan, math.nan, 0
        return (*finite_mean_ci(fin, n=int(boot["n"]), seed=int(boot["seed"]),
                                alpha=float(boot["alpha"])), len(fin))

    for (ds, task, method, metric), g in rows.groupby(["dataset", "task", "method", "metric"],
                                                      sort=False):
        targets = _targets(g)
        by_target = {}
        for t in targets:
            sel = g[g["abs_yaw"].astype(float) == t]
            recs = [images.get((ds, i), {}) for i in sel["image_id"]]
            valid = np.array([bool(r.get("valid")) for r in recs], bool)
            vals = sel["value"].to_numpy(float)
            mean, lo, hi, n = ci(vals)
            mean_valid, _, _, n_valid = ci(vals[valid])
            meas = [abs(r["yaw_measured"]) for r in recs if r.get("yaw_measured") is not None]
            out.append({"dataset": ds, "task": task, "method": method, "metric": metric,
                        "yaw_target": f"{t:g}", "mean": mean, "ci_lo": lo, "ci_hi": hi,
                        "n": n, "identities": sel["identity"].nunique(),
                        "yaw_measured_median": float(np.median(meas)) if meas else math.nan,
                        "mean_valid": mean_valid, "n_valid": n_valid, **validity_summary(recs),
                        "lower_better": lower.get(metric, False), "synthetic": 1})
            by_target[t] = sel.assign(src=sel["image_id"].str.split("@").str[0],
                                      valid=valid)
        if len(targets) < 2 or 0.0 not in by_target:
            continue
        hi_t = max(targets)
        a = by_target[0.0].set_index("src")
        b = by_target[hi_t].set_index("src")
        for renders, (aa, bb) in (("all", (a, b)), ("valid", (a[a["valid"]], b[b["valid"]]))):
            d = _drop(aa, bb, lower.get(metric, False), boot)
            if d is None:
                continue
            rob.append({"dataset": ds, "task": task, "method": method, "metric": metric,
                        "renders": renders, "from_yaw": 0, "to_yaw": f"{hi_t:g}", "drop": d.delta,
                        "ci_lo": d.lo, "ci_hi": d.hi, "n": d.n, "identities": d.clusters,
                        "lower_better": lower.get(metric, False), "synthetic": 1})
    return pd.DataFrame(out, columns=SWEEP_COLUMNS), pd.DataFrame(rob, columns=ROBUST_COLUMNS)


def write_sweep_tables(df, store, info, out_dir: Path) -> None:
    """sweep.csv and robustness.csv (synthetic pose), pose_error.csv (labelled real sets)."""
    sweep, rob = sweep_tables(df, store, info, info.image_keys)
    for name, table in (("sweep.csv", sweep), ("robustness.csv", rob),
                        ("pose_error.csv", pose_error_table(store, info))):
        path = Path(out_dir) / name
        if table is not None and len(table):
            table.to_csv(path, index=False)
        elif path.exists():
            path.unlink()
