"""paired.csv: per-image differences method - baseline and prior - no prior, with the
identity-cluster bootstrap of fsr.metrics.stats (the numbers the model cards and README show)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from fsr.bench.inputs.suite import Task  # noqa: E402
from fsr.bench.report.tables import RESULT_COLUMNS, comparisons, paired  # noqa: E402
from fsr.metrics import paired_bootstrap  # noqa: E402


def _info():
    suite = SimpleNamespace(tasks=[Task(name="sr-x4", kind="sr", size=128, scale=4)],
                            bootstrap={"n": 300, "seed": 0, "alpha": 0.05}, edges=(0, 15, 30))
    methods = {"sr-x4": [
        {"label": "bicubic-x4", "needs_prior": False, "weights_sha256": None},
        {"label": "sam3d-x4-noprior-samples", "needs_prior": False, "weights_sha256": "b" * 64},
        {"label": "sam3d-x4-samples", "needs_prior": True, "weights_sha256": "a" * 64},
        {"label": "lanczos-x4", "needs_prior": False, "weights_sha256": None}]}
    return SimpleNamespace(suite=suite, methods=methods, lower_better={"psnr": False})


def _results(rng):
    import pandas as pd

    rows = []
    for i in range(12):
        ident, yaw = f"id{i % 5}", (5.0 if i < 9 else 20.0)
        base = rng.normal(28.0, 1.0)
        for method, gain in (("bicubic-x4", 0.0), ("lanczos-x4", 0.2),
                             ("sam3d-x4-noprior-samples", 1.0), ("sam3d-x4-samples", 1.1)):
            value = np.inf if (method == "sam3d-x4-samples" and i == 3) else \
                base + gain + rng.normal(0, 0.1)
            rows.append({"dataset": "samples", "image_id": f"im{i}", "identity": ident,
                         "task": "sr-x4", "method": method, "metric": "psnr", "value": value,
                         "yaw": yaw, "abs_yaw": yaw, "pose_ok": True, "pose_from": "gt",
                         "bucket": "0-15" if yaw < 15 else "15-30"})
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def test_which_pairs_are_compared():
    assert comparisons(_info()) == [
        ("sr-x4", "sam3d-x4-noprior-samples", "bicubic-x4", "vs baseline"),
        ("sr-x4", "sam3d-x4-samples", "bicubic-x4", "vs baseline"),
        ("sr-x4", "sam3d-x4-samples", "sam3d-x4-noprior-samples", "prior vs no prior")]


def test_levers_compare_the_tagged_method_with_its_base():
    suite = SimpleNamespace(tasks=[Task(name="restore", kind="restore", size=128)])
    methods = {"restore": [
        {"label": "input", "weights_sha256": None},
        {"label": "mmrb-sg2-128-idloss-samples", "weights_sha256": "c" * 64},
        {"label": "mmrb-sg2-128-samples", "weights_sha256": "a" * 64},
        {"label": "mmrb-sg2-128-plain-samples", "weights_sha256": "b" * 64}]}
    info = SimpleNamespace(suite=suite, methods=methods)
    assert comparisons(info) == [
        ("restore", "mmrb-sg2-128-idloss-samples", "input", "vs baseline"),
        ("restore", "mmrb-sg2-128-idloss-samples", "mmrb-sg2-128-samples",
         "dlib identity loss vs none (other seed)"),
        ("restore", "mmrb-sg2-128-samples", "input", "vs baseline"),
        ("restore", "mmrb-sg2-128-samples", "mmrb-sg2-128-plain-samples", "MMRB vs plain blocks"),
        ("restore", "mmrb-sg2-128-plain-samples", "input", "vs baseline")]
    # without its base in the run, a lever has nothing to be compared with
    methods["restore"].pop(2)
    assert ("restore", "mmrb-sg2-128-idloss-samples", "mmrb-sg2-128-samples",
            "dlib identity loss vs none (other seed)") not in comparisons(info)


def test_paired_rows_are_fsr_metrics_paired_bootstrap():
    df = _results(np.random.default_rng(0))
    table = paired(df, _info())
    row = table[(table["comparison"] == "prior vs no prior") & (table["bucket"] == "all")].iloc[0]
    wide = df.pivot(index="image_id", columns="method", values="value")
    wide = wide[np.isfinite(wide["sam3d-x4-samples"])]  # the +inf image is left out
    ident = df.drop_duplicates("image_id").set_index("image_id")["identity"]
    ref = paired_bootstrap(wide["sam3d-x4-samples"], wide["sam3d-x4-noprior-samples"],
                           list(ident[wide.index]), n=300, seed=0)
    assert row["n"] == 11 and row["clusters"] == 5
    assert (row["delta"], row["ci_lo"], row["ci_hi"]) == pytest.approx(ref[:3])
    assert 0.0 < row["delta"] < 0.2
    buckets = set(table["bucket"])
    assert buckets == {"all", "0-15", "15-30"}
    base = table[(table["method"] == "sam3d-x4-noprior-samples") & (table["bucket"] == "all")]
    assert base.iloc[0]["delta"] == pytest.approx(1.0, abs=0.1) and base.iloc[0]["n"] == 12
