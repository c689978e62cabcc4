"""Tables from the cache: results.csv, summary.csv, paired.csv, set_metrics.csv, pipeline.csv
(plots: ``plots.py``). Every statistic comes from :mod:`fsr.metrics.stats`.

Everything here reads only cached lines, so a resumed, a sharded-then-merged and a single run
give byte-identical tables. Pose buckets are applied here (not cached), so bucket edges can
change without recomputing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fsr.archs.pretrained import PRIOR_WEIGHT_ABLATION
from fsr.bench import BenchError
from fsr.bench.compute.store import Store, decode_feat, detect_key, ref_key, result_key
from fsr.bench.inputs.suite import Suite, bucket_of, bucket_order
from fsr.bench.report.identity_floor import write_identity_floor
from fsr.bench.report.ntire import write_ntire
from fsr.bench.report.sweep import write_sweep_tables
from fsr.metrics.stats import fid_low_rank, finite_mean_ci, kid_from_features, paired_bootstrap

RESULT_COLUMNS = ["dataset", "image_id", "identity", "task", "method", "metric", "value",
                  "yaw", "pitch", "roll", "abs_yaw", "pose_ok", "pose_from", "bucket"]
SUMMARY_COLUMNS = ["dataset", "task", "method", "metric", "bucket", "mean", "ci_lo", "ci_hi",
                   "n", "lower_better"]
PAIRED_COLUMNS = ["dataset", "task", "comparison", "method", "versus", "metric", "bucket",
                  "delta", "ci_lo", "ci_hi", "n", "clusters", "lower_better"]
# paired.csv compares every method with weights against the task's plain baseline (Task.baseline),
# and every method against its ablations, found by label: the same label with the tag in it
ABLATION_TAGS = {"-noprior": "prior vs no prior", "-plain": "MMRB vs plain blocks",
                 "-noselfsup": "self-supervised term vs none",
                 "-noattn": "path attention vs equal path weights",
                 f"-pw{PRIOR_WEIGHT_ABLATION}": f"prior weight 1 vs {PRIOR_WEIGHT_ABLATION}"}
# levers the other way round: the tagged method adds something to the untagged one, and is
# compared with it (tagged - untagged). The released identity-loss model is another training
# seed than the bundled one (a val rule chose among seeds, docs/mmrb.md), so its row mixes the
# lever with seed noise; the label says so
LEVER_TAGS = {"-idloss": "dlib identity loss vs none (other seed)"}
SET_COLUMNS = ["dataset", "task", "method", "metric", "bucket", "value", "n", "ref_n",
               "reference", "lower_better", "warning"]
PIPELINE_COLUMNS = ["dataset", "task", "detector", "bucket", "n", "found", "missed", "miss_rate"]
FID_DIM = 2048  # below this many images the FID covariance is rank-deficient (biased upward)
SET_METRICS = ("fid", "kid")


@dataclass
class RunInfo:
    """What a report covers: which images, which methods per task (label + cache signature)."""

    suite: Suite
    image_keys: list[str]  # "<dataset>/<id>|<fingerprint>", sorted
    methods: dict[str, list[dict]]  # task name -> [{"label", "signature", ...}]
    ref_keys: list[str] = field(default_factory=list)  # reference-set images (real-photo FID)
    lower_better: dict[str, bool] = field(default_factory=dict)  # metric column -> bool
    face_pipeline: dict | None = None  # FaceFinder.describe() of the run; None: not counted
    # (image key, task, method label) with no result by design: a missing output scored with
    # --allow-missing, an unreadable output file (skipped)
    absent: set = field(default_factory=set)


def collect(info: RunInfo, store: Store):
    """(results DataFrame, features dict (dataset, task, method) -> {image_key: feat},
    reference features dict size -> {image_key: feat}, ref feature by image for synthetic)."""
    import pandas as pd

    suite = info.suite
    rows, feats, gt_feats = [], {}, {}
    missing = 0
    wanted = [s.column for s in suite.metrics]
    for ikey in info.image_keys:
        img = store.records.get(ikey)
        if img is None:
            missing += 1
            continue
        yaw, pitch, roll = (img.get("pose") or [None] * 3)
        ok = bool(img.get("pose_ok"))
        bucket = bucket_of(yaw, ok, suite.edges)
        base = {"dataset": img["dataset"], "image_id": img["id"],
                "identity": img.get("identity", ""), "yaw": yaw, "pitch": pitch, "roll": roll,
                "abs_yaw": abs(yaw) if yaw is not None else None, "pose_ok": ok,
                "pose_from": img.get("pose_from", ""), "bucket": bucket}
        for task in suite.tasks_for(img["dataset"]):
            ref = store.records.get(ref_key(ikey, task.size))
            if ref is not None:
                gt_feats.setdefault((img["dataset"], task.name), {})[ikey] = \
                    (decode_feat(ref["feat"]), bucket)
            for m in info.methods.get(task.name, []):
                rec = store.records.get(result_key(ikey, task, m["label"], m["signature"]))
                if rec is None:
                    missing += (ikey, task.name, m["label"]) not in info.absent
                    continue
                for metric in wanted:
                    if metric in rec["metrics"]:
                        rows.append(base | {"task": task.name, "method": m["label"],
                                            "metric": metric, "value": rec["metrics"][metric]})
                if rec.get("feat") is not None:
                    feats.setdefault((img["dataset"], task.name, m["label"]), {})[ikey] = \
                        (decode_feat(rec["feat"]), bucket)
    ref_feats = {}
    for rkey in info.ref_keys:
        for size in sorted({t.size for t in suite.tasks}):
            rec = store.records.get(ref_key(rkey, size))
            if rec is not None:
                ref_feats.setdefault(size, []).append(decode_feat(rec["feat"]))
    if missing:
        raise BenchError(f"{missing} cached result(s) are missing for this report; "
                         "rerun bench/run.py on this --out to compute them")
    df = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    order = {t.name: i for i, t in enumerate(suite.tasks)}
    df["_t"] = df["task"].map(order)
    df["_m"] = df["metric"].map({m: i for i, m in enumerate(wanted)})
    df = df.sort_values(["dataset", "_t", "method", "_m", "image_id"], kind="stable")
    return df.drop(columns=["_t", "_m"]).reset_index(drop=True), feats, ref_feats, gt_feats


def summarize(df, info: RunInfo):
    import pandas as pd

    boot = info.suite.bootstrap
    out = []
    buckets = bucket_order(info.suite.edges)
    for (ds, task, method, metric), g in df.groupby(["dataset", "task", "method", "metric"],
                                                    sort=False):
        for b in buckets:
            vals = g["value"].to_numpy(float) if b == "all" else \
                g.loc[g["bucket"] == b, "value"].to_numpy(float)
            vals = vals[np.isfinite(vals)]  # e.g. PSNR of an exact copy (+inf): not averaged
            if vals.size == 0:
                continue
            mean, lo, hi = finite_mean_ci(vals, n=int(boot["n"]), seed=int(boot["seed"]),
                                          alpha=float(boot["alpha"]))
            out.append({"dataset": ds, "task": task, "method": method, "metric": metric,
                        "bucket": b, "mean": mean, "ci_lo": lo, "ci_hi": hi, "n": int(vals.size),
                        "lower_better": info.lower_better.get(metric, False)})
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def _warning(n: int, metric: str) -> str:
    if n < 2:
        return "fewer than 2 images: undefined"
    if metric == "fid" and n < FID_DIM:
        return f"n={n} < {FID_DIM}: FID is biased upward at small n; compare only at equal n"
    if metric == "kid" and n < 100:
        return f"n={n}: KID is unbiased but noisy at this n"
    return ""


def set_metrics(info: RunInfo, feats: dict, ref_feats: dict, gt_feats: dict):
    """FID/KID per dataset x task x method x bucket, against the same images' ground truth
    (synthetic sets) or the suite's reference set (real photos, one reference for all buckets)."""
    import pandas as pd

    wanted = [m for m in info.suite.set_metrics if m in SET_METRICS]
    unknown = [m for m in info.suite.set_metrics if m not in SET_METRICS]
    if unknown:
        raise BenchError(f"unknown set metric(s) {unknown}; known: {list(SET_METRICS)}")
    sizes = {t.name: t.size for t in info.suite.tasks}
    ref_name = (info.suite.reference or {}).get("name", "reference")
    out = []
    for (ds, task, method), per_image in feats.items():
        gt = gt_feats.get((ds, task), {})
        for b in bucket_order(info.suite.edges):
            keys = [k for k, (_, kb) in per_image.items() if b == "all" or kb == b]
            if not keys:
                continue
            x = np.stack([per_image[k][0] for k in keys])
            if gt:
                y = np.stack([gt[k][0] for k in keys if k in gt])
                reference = "ground truth of the same images"
            elif ref_feats.get(sizes[task]):
                y = np.stack(ref_feats[sizes[task]])
                reference = ref_name
            else:
                continue
            for metric in wanted:
                value = float("nan") if min(len(x), len(y)) < 2 else \
                    fid_low_rank(x, y) if metric == "fid" else kid_from_features(x, y)[0]
                out.append({"dataset": ds, "task": task, "method": method, "metric": metric,
                            "bucket": b, "value": value, "n": len(x), "ref_n": len(y),
                            "reference": reference, "lower_better": True,
                            "warning": _warning(min(len(x), len(y)), metric)})
    out += paper_reference_fid(info, feats)
    df = pd.DataFrame(out, columns=SET_COLUMNS)
    if len(df):
        order = {t.name: i for i, t in enumerate(info.suite.tasks)}
        border = {b: i for i, b in enumerate(bucket_order(info.suite.edges))}
        df = df.assign(_t=df["task"].map(order), _b=df["bucket"].map(border)).sort_values(
            ["dataset", "_t", "method", "metric", "_b"], kind="stable").drop(columns=["_t", "_b"])
    return df.reset_index(drop=True)


def paper_reference_fid(info: RunInfo, feats: dict) -> list[dict]:
    """Rows ``fid-<name>`` against the suite's ``fid_reference`` (a paper's reference: folder,
    .npz or VQFR .pth), its fingerprint in the reference column; one printed line and no rows
    when the reference is not on this machine."""
    import os
    import sys

    from fsr.metrics import MetricError
    from fsr.metrics.fid import fid_features_vs_stats, load_reference

    cfg = info.suite.fid_reference
    if not cfg or "fid" not in info.suite.set_metrics:
        return []
    where = cfg.get("path") or os.environ.get(cfg.get("env", ""), "")
    if not where:
        print(f"fsr: fid-{cfg['name']} dropped: set {cfg.get('env')} to the reference "
              "(a folder of images, an .npz with mu/sigma, or VQFR's inception_FFHQ_512.pth)",
              file=sys.stderr)
        return []
    try:
        mu_r, sigma_r, fp = load_reference(os.path.expandvars(os.path.expanduser(where)))
    except MetricError as exc:
        print(f"fsr: fid-{cfg['name']} dropped: {exc}", file=sys.stderr)
        return []
    reference = (f"{cfg['name']} ({fp['kind']} {fp['path']}, sha256 {fp['sha256'][:16]}, "
                 f"n={fp['n_images'] if fp['n_images'] is not None else '?'}, "
                 f"extractor {fp['extractor']})")
    out = []
    for (ds, task, method), per_image in feats.items():
        for b in bucket_order(info.suite.edges):
            x = [per_image[k][0] for k, (_, kb) in per_image.items() if b == "all" or kb == b]
            if not x:
                continue
            value = float("nan") if len(x) < 2 else \
                fid_features_vs_stats(np.stack(x), mu_r, sigma_r)
            out.append({"dataset": ds, "task": task, "method": method,
                        "metric": f"fid-{cfg['name']}", "bucket": b, "value": value,
                        "n": len(x), "ref_n": fp["n_images"] or 0, "reference": reference,
                        "lower_better": True, "warning": _warning(len(x), "fid")})
    return out


def comparisons(info: RunInfo) -> list[tuple[str, str, str, str]]:
    """(task, method, versus, comparison) pairs of paired.csv, in task and method order."""
    out = []
    for task in info.suite.tasks:
        methods = info.methods.get(task.name, [])
        labels = {m["label"]: m for m in methods}
        base = task.baseline
        for m in methods:
            if (m.get("weights_sha256") or m.get("outputs_sha256")) and base in labels:
                out.append((task.name, m["label"], base, "vs baseline"))
            out += [(task.name, m["label"], other, kind) for tag, kind in ABLATION_TAGS.items()
                    for other in labels if tag in other and other.replace(tag, "") == m["label"]]
            out += [(task.name, m["label"], m["label"].replace(tag, ""), kind)
                    for tag, kind in LEVER_TAGS.items()
                    if tag in m["label"] and m["label"].replace(tag, "") in labels]
    return out


def paired(df, info: RunInfo):
    """Paired per-image differences (method - versus) per metric and |yaw| bucket, with
    :func:`fsr.metrics.stats.paired_bootstrap`'s interval over identities (an image without
    an identity is its own cluster); images where either score is not finite are left out."""
    import pandas as pd

    boot = info.suite.bootstrap
    out = []
    buckets = bucket_order(info.suite.edges)
    for task, method, versus, kind in comparisons(info):
        for (ds, metric), g in df[df["task"] == task].groupby(["dataset", "metric"], sort=False):
            wide = g.pivot_table(index=["image_id", "identity", "bucket"], columns="method",
                                 values="value", aggfunc="first").reset_index()
            if method not in wide or versus not in wide:
                continue
            wide = wide[np.isfinite(wide[method].to_numpy(float))
                        & np.isfinite(wide[versus].to_numpy(float))]
            for b in buckets:
                sel = wide if b == "all" else wide[wide["bucket"] == b]
                if sel.empty:
                    continue
                a, v = sel[method].to_numpy(float), sel[versus].to_numpy(float)
                clusters = [i or f"image:{k}" for i, k in zip(sel["identity"], sel["image_id"],
                                                              strict=True)]
                if len(a) < 2:
                    d = (float(a[0] - v[0]), float("nan"), float("nan"), 1, 1)
                else:
                    d = paired_bootstrap(a, v, clusters, n=int(boot["n"]), seed=int(boot["seed"]),
                                         alpha=float(boot["alpha"]))
                out.append({"dataset": ds, "task": task, "comparison": kind, "method": method,
                            "versus": versus, "metric": metric, "bucket": b, "delta": d[0],
                            "ci_lo": d[1], "ci_hi": d[2], "n": d[3], "clusters": d[4],
                            "lower_better": info.lower_better.get(metric, False)})
    return pd.DataFrame(out, columns=PAIRED_COLUMNS)


def pipeline_table(info: RunInfo, store: Store):
    """Faces whole-photo mode's detector found / missed per dataset x task x |yaw| bucket.

    The bucket comes from the image line, exactly as for results; empty buckets are left out.
    """
    import pandas as pd

    fp = info.face_pipeline
    counts: dict[tuple[str, str], dict[str, list[int]]] = {}  # (ds, task) -> bucket -> [n, found]
    missing = 0
    for ikey in info.image_keys:
        img = store.records.get(ikey)
        if img is None:
            missing += 1
            continue
        yaw = (img.get("pose") or [None])[0]
        bucket = bucket_of(yaw, bool(img.get("pose_ok")), info.suite.edges)
        for task in info.suite.tasks_for(img["dataset"]):
            rec = store.records.get(detect_key(ikey, task, fp["detector"], fp["signature"]))
            if rec is None:
                missing += 1
                continue
            per = counts.setdefault((img["dataset"], task.name), {})
            for b in ("all", bucket):
                n_found = per.setdefault(b, [0, 0])
                n_found[0] += 1
                n_found[1] += bool(rec["found"])
    if missing:
        raise BenchError(f"{missing} cached face-pipeline line(s) are missing for this report; "
                         "rerun bench/run.py on this --out to compute them")
    out = []
    for (ds, task), per in counts.items():  # image keys come sorted by dataset, tasks in order
        for b in bucket_order(info.suite.edges):
            if b in per:
                n, found = per[b]
                out.append({"dataset": ds, "task": task, "detector": fp["detector"],
                            "bucket": b, "n": n, "found": found, "missed": n - found,
                            "miss_rate": round((n - found) / n, 4)})
    return pd.DataFrame(out, columns=PIPELINE_COLUMNS)


def write_tables(info: RunInfo, store: Store, out_dir) -> dict:
    """Write the CSVs; returns {'results': df, 'summary': df, 'paired': df, 'set': df,
    'pipeline': df} ('set' and 'pipeline' are None when the suite asks for neither; paired.csv
    is written only when the run has a pair to compare)."""
    df, feats, ref_feats, gt_feats = collect(info, store)
    summary = summarize(df, info)
    pairs = paired(df, info)
    sets = set_metrics(info, feats, ref_feats, gt_feats) if info.suite.set_metrics else None
    pipeline = pipeline_table(info, store) if info.face_pipeline else None
    df.to_csv(out_dir / "results.csv", index=False)
    summary.to_csv(out_dir / "summary.csv", index=False)
    for name, table in (("paired.csv", pairs if len(pairs) else None),
                        ("set_metrics.csv", sets), ("pipeline.csv", pipeline)):
        if table is not None:
            table.to_csv(out_dir / name, index=False)
        elif (out_dir / name).exists():
            (out_dir / name).unlink()
    write_sweep_tables(df, store, info, out_dir)  # sweep.csv, robustness.csv (synthetic pose)
    write_ntire(info, df, feats, ref_feats, out_dir)  # ntire_score.csv (score: ntire2025)
    write_identity_floor(info, df, store, out_dir)  # the identity columns for different people
    return {"results": df, "summary": summary, "paired": pairs, "set": sets,
            "pipeline": pipeline}
