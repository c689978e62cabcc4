"""pose_error.csv: how far the pose estimate is from the labels of the real pose-labelled sets."""

from __future__ import annotations

import math

import numpy as np

from fsr.bench.inputs.datasets.posed import TYPES

POSE_ERROR_COLUMNS = ["dataset", "label", "n", "estimated", "median_abs_yaw_error",
                      "median_abs_yaw_error_sign_flipped", "median_abs_pitch_error",
                      "median_abs_roll_error", "median_estimated_abs_yaw",
                      "estimated_abs_yaw_ge_45"]


def pose_error_table(store, info):
    """pose_error.csv rows for the labelled datasets of a run (None when there are none)."""
    import pandas as pd

    labelled = {d["name"] for d in info.suite.datasets if d.get("type") in TYPES}
    if not labelled:
        return None
    groups: dict[tuple[str, str], list[dict]] = {}
    for ikey in info.image_keys:
        img = store.records.get(ikey)
        if img is not None and img.get("dataset") in labelled:
            groups.setdefault((img["dataset"], str(img.get("label", ""))), []).append(img)
    out = []
    for (ds, label), imgs in sorted(groups.items()):
        yaw_err, flip_err, p_err, r_err, est_abs = [], [], [], [], []
        for img in imgs:
            lab = img.get("pose_label")
            est = img.get("pose_estimated") if lab is not None else \
                (img.get("pose") if img.get("pose_ok") else None)
            if est is None or est[0] is None:
                continue
            est_abs.append(abs(est[0]))
            if lab is not None:
                yaw_err.append(abs(est[0] - lab[0]))
                flip_err.append(abs(est[0] + lab[0]))
                if lab[1] is not None:
                    p_err.append(abs(est[1] - lab[1]))
                    r_err.append(abs(est[2] - lab[2]))

        def med(v):
            return float(np.median(v)) if v else math.nan

        out.append({"dataset": ds, "label": label, "n": len(imgs), "estimated": len(est_abs),
                    "median_abs_yaw_error": med(yaw_err),
                    "median_abs_yaw_error_sign_flipped": med(flip_err),
                    "median_abs_pitch_error": med(p_err), "median_abs_roll_error": med(r_err),
                    "median_estimated_abs_yaw": med(est_abs),
                    "estimated_abs_yaw_ge_45": float(np.mean(np.array(est_abs) >= 45))
                    if est_abs else math.nan})
    return pd.DataFrame(out, columns=POSE_ERROR_COLUMNS)
