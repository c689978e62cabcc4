"""The ntire-realworld suite: the NTIRE 2025 real-world face challenge's score (eval.py), its
datasets and identity count, run end to end on stand-in folders (sample-set faces, degraded
here; synthetic stand-ins, not the challenge's data)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ENVS = {"celeba": "FSR_NTIRE_CELEBA_DIR", "lfw-test": "FSR_LFW_TEST_DIR",
        "celebchild-test": "FSR_CELEBCHILD_TEST_DIR", "webphoto-test": "FSR_WEBPHOTO_DIR",
        "wider-test": "FSR_WIDER_TEST_DIR"}


def test_score_is_the_challenges_formula():
    from fsr.bench.report.ntire import COUNTS, score_terms, weighted_mean

    # eval.py by hand: per-dataset means weighted by 100/100/50/100/100 over 450
    niqe = {"CelebA": 4.0, "LFW-Test": 5.0, "CelebChild-Test": 6.0, "WebPhoto-Test": 3.0,
            "Wider-Test": 7.0}
    overall = (4 * 100 + 5 * 100 + 6 * 50 + 3 * 100 + 7 * 100) / 450
    assert weighted_mean(niqe) == pytest.approx(overall)
    assert sum(COUNTS.values()) == 450
    terms = score_terms({"NIQE": overall, "CLIP_IQA": 0.7, "MANIQA": 0.6, "MUSIQ": 72.0,
                         "QALIGN": 4.0, "FID": 45.0})
    expected = 0.7 + 0.6 + 0.72 + 4.0 / 5 + max(0, (10 - overall) / 10) + (100 - 45) / 100
    assert sum(terms.values()) == pytest.approx(expected)
    # lower-is-better terms floor at 0, missing metrics drop out (eval.py --use_qalign False)
    assert score_terms({"NIQE": 12.0, "FID": 150.0, "QALIGN": float("nan")}) == \
        {"NIQE": 0.0, "FID": 0.0}


def test_suite_names_the_challenge_datasets_and_metrics():
    from fsr.bench.inputs.suite import load_suite

    suite = load_suite("ntire-realworld")
    assert {d["name"]: d["env"] for d in suite.datasets} == ENVS
    assert [d["ntire"] for d in suite.datasets] == ["CelebA", "LFW-Test", "CelebChild-Test",
                                                    "WebPhoto-Test", "Wider-Test"]
    assert [m.column for m in suite.metrics] == ["niqe", "clipiqa", "maniqa", "musiq",
                                                 "identity-adaface-vs-input",
                                                 "identity-dist-vs-input",
                                                 "identity-match-vs-input"]
    assert suite.set_metrics == ["fid"] and suite.score == "ntire2025"
    assert all(d["type"] == "real" for d in suite.datasets)


def test_missing_dataset_is_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FSR_HOME": str(tmp_path / "fsr")}
    r = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--suite",
                        "ntire-realworld", "--out", str(tmp_path / "out"), "--quiet"],
                       capture_output=True, text=True, env=env, cwd=REPO)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "FSR_NTIRE_CELEBA_DIR" in r.stderr


def _stand_ins(root: Path) -> dict[str, str]:
    from PIL import Image, ImageFilter

    crops = sorted((REPO / "samples" / "crops").glob("*.png"))
    env = {}
    for k, (name, var) in enumerate(ENVS.items()):
        folder = root / name
        folder.mkdir()
        for i in range(2):
            im = Image.open(crops[(7 * k + 3 * i) % len(crops)]).convert("RGB")
            small = im.resize((96, 96), Image.BICUBIC).filter(ImageFilter.GaussianBlur(0.8))
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=30)
            Image.open(buf).convert("RGB").resize((512, 512), Image.BICUBIC).save(
                folder / f"{name}_{i}.png")
        env[var] = str(folder)
    ffhq = root / "ffhq"
    ffhq.mkdir()
    for i, p in enumerate(crops[100:104]):
        Image.open(p).convert("RGB").resize((512, 512), Image.BICUBIC).save(ffhq / f"{i}.png")
    env["FSR_FFHQ_DIR"] = str(ffhq)
    return env


@pytest.mark.slow
def test_stand_in_run_writes_the_challenge_score(tmp_path, monkeypatch):
    """The suite's own file with the metrics whose weights are offline here (pyiqa NIQE, dlib
    identity); CLIP-IQA/MANIQA/MUSIQ need user weights and stop a run with the resolver's line."""
    pytest.importorskip("pyiqa", reason="NIQE runs on pyiqa, the optional 'iqa' extra "
                                        "(uv run installs it)")
    import pandas as pd

    from fsr.bench.report.ntire import COUNTS, score_terms

    raw = yaml.safe_load((REPO / "bench" / "suites" / "ntire-realworld.yml").read_text())
    raw["metrics"] = [m for m in raw["metrics"] if m not in ("clipiqa", "maniqa", "musiq")]
    suite = tmp_path / "ntire-offline.yml"
    suite.write_text(yaml.safe_dump(raw))
    for var, value in _stand_ins(tmp_path).items():
        monkeypatch.setenv(var, value)
    out = tmp_path / "out"
    from bench_testing import run_bench

    assert run_bench("--suite", str(suite), "--out", str(out), "--methods", "input") == 0
    res = pd.read_csv(out / "results.csv")
    score = pd.read_csv(out / "ntire_score.csv")
    row = score[(score["bucket"] == "all") & (score["method"] == "input")].iloc[0]
    names = {d["name"]: d["ntire"] for d in raw["datasets"]}
    niqe = res[res["metric"] == "niqe"].groupby("dataset")["value"].mean()
    expected_niqe = sum(niqe[d] * COUNTS[names[d]] for d in niqe.index) / 450
    assert row["NIQE"] == pytest.approx(expected_niqe) and row["n"] == 10
    fid = float(row["FID"])
    assert np.isfinite(fid)
    terms = score_terms({"NIQE": expected_niqe, "FID": fid})
    assert row["score"] == pytest.approx(sum(terms.values()))
    assert row["score_terms"] == "NIQE FID" and "without CLIP_IQA, MANIQA, MUSIQ, QALIGN" in \
        row["notes"]
    match = res[res["metric"] == "identity-match-vs-input"]["value"]
    assert row["low_id"] == int((match < 0.5).sum()) and bool(row["valid"]) is True
    # per |yaw| bucket like every suite
    from fsr.bench.inputs.suite import bucket_order

    assert "all" in set(score["bucket"]) and len(set(score["bucket"])) >= 2
    assert set(score["bucket"]) <= set(bucket_order((0.0, 15.0, 30.0, 45.0, float("inf"))))
