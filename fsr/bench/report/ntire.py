"""The NTIRE 2025 Real-World Face Restoration challenge's score, per task x method x |yaw| bucket.

What the challenge's ``eval.py`` (github.com/zhengchen1999/NTIRE2025_RealWorld_Face_Restoration,
``eval.py`` and README) does, reproduced here without its code:

* per image: NIQE, CLIP-IQA, MANIQA, MUSIQ (pyiqa defaults) and Q-Align of the restored face,
  and the AdaFace IR-50 cosine between the restored face and its low-quality input;
* per dataset: the mean of each metric; overall: ``sum(mean_d * count_d) / 450`` with the
  fixed counts CelebA 100, LFW-Test 100, CelebChild-Test 50, WebPhoto-Test 100, Wider-Test 100;
* FID of all restored images together against FFHQ (VQFR's ``inception_FFHQ_512.pth`` stats);
* ``Score = CLIPIQA + MANIQA + MUSIQ/100 + QALIGN/5 + max(0, (10 - NIQE)/10)
  + max(0, (100 - FID)/100)``, summing the terms it has (``--use_qalign False`` drops Q-Align);
* identity check: an image is "low ID" when its cosine is below the dataset's threshold
  (CelebA 0.5, LFW-Test 0.6, CelebChild-Test 0.6, WebPhoto-Test 0.3, Wider-Test 0.3); a
  submission fails with more than ten low-ID faces.

Differences, stated in ``ntire_score.csv``'s ``notes`` column:

* per |yaw| bucket the weights are the challenge counts of the datasets present in the bucket
  (the same as ``/450`` when all five are, as for the challenge's bucket-free total);
* Q-Align is not in fsr's metric table (a 7B-parameter model): its term is absent, as with
  ``--use_qalign False``; every other term is absent when its metric was not in the run;
* FID is fsr's (TF-FID Inception features, exact low-rank formula) against the suite's
  reference folder (FFHQ), not VQFR's precomputed statistics;
* identity: the challenge's AdaFace IR-50 cosine (column ``identity-adaface-vs-input``,
  :mod:`fsr.metrics.adaface`) against the thresholds above when its weights are present (the
  alignment points are MTCNN's on the input, not the challenge's per-image CSV); else, with dlib's
  ResNet (the model available offline), a face is low-ID when dlib says "different person"
  (descriptor distance >= 0.6, column ``identity-match-vs-input``), because dlib's cosine has
  no such scale; else fsr's ``identity`` cosine (ArcFace) against the same thresholds.
"""

from __future__ import annotations

import numpy as np

# eval.py: thresholds, dataset_counts
THRESHOLDS = {"CelebA": 0.5, "LFW-Test": 0.6, "CelebChild-Test": 0.6, "Wider-Test": 0.3,
              "WebPhoto-Test": 0.3}
COUNTS = {"CelebA": 100, "LFW-Test": 100, "CelebChild-Test": 50, "WebPhoto-Test": 100,
          "Wider-Test": 100}
MAX_LOW_ID = 10  # README: "fails if more than ten faces fall below the threshold"
# challenge metric -> fsr metric column
METRICS = {"NIQE": "niqe", "CLIP_IQA": "clipiqa", "MANIQA": "maniqa", "MUSIQ": "musiq",
           "QALIGN": "qalign"}
COLUMNS = ["task", "method", "bucket", "n", "datasets", *METRICS, "FID", "score_terms", "score",
           "low_id", "identity_rule", "valid", "notes"]


def score_terms(values: dict[str, float]) -> dict[str, float]:
    """eval.py's weighted-score terms of the metrics present (NaN-valued ones left out).

    >>> score_terms({'NIQE': 4.0, 'CLIP_IQA': 0.6, 'MUSIQ': 70.0, 'FID': 40.0})
    {'NIQE': 0.6, 'CLIP_IQA': 0.6, 'MUSIQ': 0.7, 'FID': 0.6}
    """
    rules = {"FID": lambda v: max(0.0, (100 - v) / 100), "NIQE": lambda v: max(0.0, (10 - v) / 10),
             "CLIP_IQA": lambda v: v, "MANIQA": lambda v: v, "MUSIQ": lambda v: v / 100,
             "QALIGN": lambda v: v / 5}
    return {k: float(rules[k](v)) for k, v in values.items()
            if k in rules and v is not None and np.isfinite(v)}


def weighted_mean(per_dataset: dict[str, float]) -> float:
    """eval.py's overall mean: per-dataset means weighted by the challenge's image counts."""
    present = {d: v for d, v in per_dataset.items() if np.isfinite(v)}
    if not present:
        return float("nan")
    return float(sum(v * COUNTS[d] for d, v in present.items()) /
                 sum(COUNTS[d] for d in present))


def challenge_name(dataset_cfg: dict) -> str:
    name = dataset_cfg.get("ntire", dataset_cfg["name"])
    if name not in COUNTS:
        from fsr.bench import BenchError

        raise BenchError(f"dataset {dataset_cfg['name']}: ntire name must be one of "
                         f"{', '.join(COUNTS)}, got {name!r}")
    return name


def low_identity(df, names: dict[str, str]) -> tuple[int | None, str]:
    """Count of low-ID faces among ``df``'s images and the rule used."""
    adaface = df[df["metric"] == "identity-adaface-vs-input"]
    match = df[df["metric"] == "identity-match-vs-input"]
    cos = df[df["metric"] == "identity-vs-input"]
    if len(adaface):  # the challenge's own model and thresholds
        thr = adaface["dataset"].map(lambda d: THRESHOLDS[names[d]])
        return int((adaface["value"].to_numpy(float) < thr.to_numpy(float)).sum()), \
            "AdaFace IR-50 cosine < the challenge's per-dataset threshold"
    if len(match):  # dlib, whose model is fixed: its own threshold
        return int((match["value"].to_numpy(float) < 0.5).sum()), \
            "dlib distance >= 0.6 (stand-in for AdaFace's cosine thresholds)"
    if len(cos):  # the challenge's rule; its thresholds are AdaFace IR-50's
        thr = cos["dataset"].map(lambda d: THRESHOLDS[names[d]])
        return int((cos["value"].to_numpy(float) < thr.to_numpy(float)).sum()), \
            "cosine < the challenge's per-dataset threshold"
    return None, "no identity metric in the run"


def _fid(x: np.ndarray, y: np.ndarray) -> float:
    from fsr.metrics.stats import fid_low_rank

    return float(fid_low_rank(x, y))


def ntire_table(info, df, feats: dict, ref_feats: dict):
    """One row per task x method x bucket (incl. 'all'); ``df`` is results.csv's frame,
    ``feats``/``ref_feats`` the features :func:`fsr.bench.report.tables.collect` returns."""
    import pandas as pd

    from fsr.bench.inputs.suite import bucket_order

    suite = info.suite
    names = {d["name"]: challenge_name(d) for d in suite.datasets}
    sizes = {t.name: t.size for t in suite.tasks}
    rows = []
    for (task, method), g in df.groupby(["task", "method"], sort=False):
        for b in bucket_order(suite.edges):
            gb = g if b == "all" else g[g["bucket"] == b]
            if gb.empty:
                continue
            means = {}
            for key, col in METRICS.items():
                per_ds = {names[d]: float(v) for d, v in
                          gb[gb["metric"] == col].groupby("dataset")["value"].mean().items()}
                means[key] = weighted_mean(per_ds) if per_ds else float("nan")
            x = [f for (ds, t, m), per in feats.items() if t == task and m == method
                 for f, kb in per.values() if b == "all" or kb == b]
            y = ref_feats.get(sizes[task], [])
            fid = _fid(np.stack(x), np.stack(y)) if len(x) >= 2 and len(y) >= 2 \
                else float("nan")
            terms = score_terms({**means, "FID": fid})
            low, rule = low_identity(gb, names)
            present = sorted({names[d] for d in gb["dataset"]})
            missing = [k for k in (*METRICS, "FID") if k not in terms]
            notes = "all six terms" if not missing else "without " + ", ".join(missing)
            if len(present) < len(COUNTS):
                notes += f"; {len(present)} of {len(COUNTS)} datasets"
            n = int(gb[["dataset", "image_id"]].drop_duplicates().shape[0])
            rows.append({"task": task, "method": method, "bucket": b, "n": n,
                         "datasets": " ".join(present), **means, "FID": fid,
                         "score_terms": " ".join(terms), "score": sum(terms.values()),
                         "low_id": low, "identity_rule": rule,
                         "valid": (low <= MAX_LOW_ID) if (low is not None and b == "all")
                         else None, "notes": notes})
    return pd.DataFrame(rows, columns=COLUMNS)


def write_ntire(info, df, feats: dict, ref_feats: dict, out_dir):
    """``ntire_score.csv`` for a suite with ``score: ntire2025`` (else nothing); the frame."""
    if info.suite.score != "ntire2025":
        return None
    table = ntire_table(info, df, feats, ref_feats)
    table.to_csv(out_dir / "ntire_score.csv", index=False)
    return table
