"""The sweep dataset (synthetic pose by face profiling) and its sweep/robustness tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]


def test_sweep_dataset_renders_once_and_labels_target_yaw(tmp_path, monkeypatch):
    from fsr.bench.inputs.datasets import open_dataset

    monkeypatch.setenv("FSR_HOME", str(tmp_path))
    cfg = {"name": "sweep", "type": "sweep", "split": "test", "yaws": [0, 30],
           "limit_sources": 2, "size": 128}
    ds = open_dataset(dict(cfg))
    assert len(ds.items) == 4 and "synthetic pose" in ds.describe()
    assert "4 are faces, 4 valid, all scored" in ds.describe()
    yaws = sorted(it.pose[0] for it in ds.items)
    assert yaws == [-30.0, 0.0, 0.0, 30.0]  # alternating signs: source 0 +30, source 1 -30
    for it in ds.items:
        f = it.meta["image_fields"]
        assert f["synthetic_pose"] and f["yaw_target"] == it.pose[0]
        assert it.id.endswith(f"@yaw{it.pose[0]:+03.0f}") and it.gt_path.is_file()
        gt = ds.load_gt(it, 64)
        assert gt.shape == (64, 64, 3) and gt.dtype == np.float32
        # validity, measured when the render was made: a 30-degree render is still a face
        assert f["is_face"] and f["detector_found"] and f["mediapipe_found"]
        assert 0.0 <= f["filled_fraction"] < 0.2 and f["valid"] == (f["identity_distance"] < 0.6)
        if it.pose[0] == 0:
            assert f["identity_distance"] == 0.0 and f["filled_fraction"] == 0.0
            assert abs(f["yaw_measured"] - f["yaw_source"]) < 1.0
        else:  # measured on the render: turned the asked way
            assert np.sign(f["yaw_measured"] - f["yaw_source"]) == np.sign(it.pose[0])
    metas = sorted((tmp_path / "profiles").glob("*/meta.json"))
    assert len(metas) == 2
    stamps = [m.stat().st_mtime_ns for m in metas]
    again = open_dataset(dict(cfg))  # cached: nothing rendered again
    assert [m.stat().st_mtime_ns for m in metas] == stamps
    assert [it.fingerprint for it in again.items] == [it.fingerprint for it in ds.items]


class _Store:
    def __init__(self, records):
        self.records = records


class _Info:
    def __init__(self):
        from fsr.bench.inputs.suite import parse_suite

        self.suite = parse_suite({"datasets": [{"name": "sweep", "type": "sweep"}],
                                  "tasks": [{"name": "sr-x4", "kind": "sr", "scale": 4}],
                                  "bootstrap": {"n": 200}}, Path("x.yml"))
        self.lower_better = {"psnr": False, "lpips": True}
        self.image_keys = []


def test_sweep_tables_drop_sign_and_identity_bootstrap(tmp_path):
    from fsr.bench.report.sweep import sweep_tables

    rows, records, info = [], {}, _Info()
    rng = np.random.default_rng(0)
    for k in range(6):
        ident = f"id{k // 2}"
        for y in (0.0, 30.0, 60.0):
            yaw = y if k % 2 == 0 else -y
            iid = f"src{k}@yaw{yaw:+03.0f}"
            key = f"sweep/{iid}|fp"
            info.image_keys.append(key)
            face = not (y == 60 and k >= 4)  # sources 4 and 5 are no face at 60
            records[key] = {"dataset": "sweep", "id": iid, "yaw_measured": yaw * 0.9 if face
                            else None, "detector_found": face, "mediapipe_found": face,
                            "is_face": face, "same_person": face, "valid": face,
                            "identity_distance": 0.2 + y / 300 if face else None,
                            "filled_fraction": y / 300}
            psnr = 30 - y / 10 + rng.normal(0, 0.1) - (5 if not face else 0)
            for metric, value in (("psnr", psnr), ("lpips", 0.1 + y / 300)):
                rows.append({"dataset": "sweep", "image_id": iid, "identity": ident,
                             "task": "sr-x4", "method": "m", "metric": metric, "value": value,
                             "yaw": yaw, "abs_yaw": abs(yaw)})
    sweep, rob = sweep_tables(pd.DataFrame(rows), _Store(records), info, info.image_keys)
    assert set(sweep["yaw_target"]) == {"0", "30", "60"} and (sweep["synthetic"] == 1).all()
    p60 = sweep[(sweep.metric == "psnr") & (sweep.yaw_target == "60")].iloc[0]
    assert p60["n"] == 6 and p60["identities"] == 3
    assert p60["yaw_measured_median"] == pytest.approx(54.0)  # over the 4 faces
    # validity beside the number: 4 of 6 renders at 60 are faces that keep the person
    assert p60["n_renders"] == 6 and p60["valid"] == pytest.approx(4 / 6)
    assert p60["is_face"] == pytest.approx(4 / 6) and p60["mediapipe_found"] == pytest.approx(4 / 6)
    assert p60["identity_distance_median"] == pytest.approx(0.4)
    assert p60["filled_fraction"] == pytest.approx(0.2)
    assert p60["n_valid"] == 4 and p60["mean_valid"] > p60["mean"] + 1  # the non-faces score 5 dB lower
    p0 = sweep[(sweep.metric == "psnr") & (sweep.yaw_target == "0")].iloc[0]
    assert p0["valid"] == 1.0 and p0["mean_valid"] == pytest.approx(p0["mean"])
    r = rob[rob.renders == "all"].set_index("metric")
    assert r.loc["psnr", "drop"] == pytest.approx(6.0 + 10 / 6, abs=0.2)  # 30 -> 24 dB, 2 of 6 -5
    assert r.loc["lpips", "drop"] == pytest.approx(0.2, abs=1e-9)  # higher LPIPS: also > 0
    assert r.loc["psnr", "identities"] == 3 and r.loc["psnr", "ci_lo"] <= r.loc["psnr", "drop"]
    v = rob[rob.renders == "valid"].set_index("metric")  # the same figure on valid renders only
    assert v.loc["psnr", "n"] == 4 and v.loc["psnr", "identities"] == 2
    assert v.loc["psnr", "drop"] == pytest.approx(6.0, abs=0.2)

    # the leaderboard's sweep section: validity beside the numbers, both robustness figures
    from fsr.bench.leaderboard.sweep_tables import sweep_section

    sweep.to_csv(tmp_path / "sweep.csv", index=False)
    rob.to_csv(tmp_path / "robustness.csv", index=False)
    text = "\n".join(sweep_section(tmp_path, ["sr-x4"], lambda v: f"{v:.2f}"))
    assert "### sweep: how much of each target is still a face (synthetic pose)" in text
    assert "| **valid** (a face that keeps the person) | **100%** | **100%** | **67%** |" in text
    assert "| MediaPipe finds a face | 100% | 100% | 67% |" in text
    assert "| *valid renders (a face that keeps the person)* | 6 of 6 | 6 of 6 | 4 of 6 |" in text
    assert "psnr all (n=6) | psnr valid only (n=4)" in text
