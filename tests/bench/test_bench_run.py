"""End-to-end tests of bench/run.py and leaderboard/make.py on a tiny suite of real faces.

Six real face crops (the sample set's, samples/crops) resized to 64 px,
SR x4 and x8 with bicubic and Lanczos, PSNR and SSIM. Checks the CSV contents against an
independent computation, resume after SIGKILL (only the missing images are computed, same
bytes, pipeline.csv included), shard + merge = single run, leaderboard determinism and bold
best values, and the one-line exit-2 errors.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from bench_testing import REPO, load_script, run_bench, write_face_suite

FACES = ["audrey_crop", "bill-murray-snl_crop", "cage2_crop", "chuck_crop", "kim1_crop",
         "obama4_crop"]
SUITE = """
name: tiny
datasets:
  - {{name: faces, type: folder, path: {path}}}
tasks:
  - {{name: sr-x4, kind: sr, scale: 4, size: 64, degradation: {{type: bicubic, scale: 4}}}}
  - {{name: sr-x8, kind: sr, scale: 8, size: 64, degradation: {{type: bicubic, scale: 8}}}}
methods: [bicubic-x4, lanczos-x4, bicubic-x8, lanczos-x8]
metrics: [psnr, ssim]
pose: {{edges: [0, 15, 30, 45]}}
bootstrap: {{n: 200, seed: 0, alpha: 0.05}}
"""


def _face_sources() -> list[Path]:
    return [REPO / "samples" / "crops" / f"{name}-0.png" for name in FACES]


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    faces = {src.stem: src for src in _face_sources()}
    return write_face_suite(tmp_path_factory.mktemp("tiny"), SUITE, faces, 96)


bench = run_bench


@pytest.fixture(scope="module")
def single(suite_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("single")
    assert bench("--suite", str(suite_file), "--out", str(out)) == 0
    return out


def test_results_and_summary_content(single, suite_file):
    import pandas as pd
    import torch

    from fsr.archs.interp_arch import resize_bicubic
    from fsr.bench.compute.lib import to_tensor
    from fsr.bench.inputs.datasets.base import resize_image

    res = pd.read_csv(single / "results.csv")
    assert len(res) == 6 * 2 * 2 * 2  # images x tasks x methods per task x metrics
    assert set(res["method"]) == {"bicubic-x4", "lanczos-x4", "bicubic-x8", "lanczos-x8"}
    assert res["bucket"].isin(["0-15", "15-30", "30-45", "45+", "unknown"]).all()
    assert res.loc[res["pose_ok"], "abs_yaw"].between(0, 90).all()
    # one value recomputed independently: bicubic x4 PSNR of the first face
    row = res[(res.method == "bicubic-x4") & (res.metric == "psnr")].iloc[0]
    from fsr.imageio import read_image

    gt = resize_image(read_image(next(suite_file.parent.glob(f"faces/{row.image_id}.png")))
                      .astype(np.float32) / 255, 64)
    lr = resize_bicubic(to_tensor(gt), size=(16, 16)).clamp(0, 1)
    sr = resize_bicubic(lr, size=(64, 64)).clamp(0, 1)
    mse = torch.mean((sr - to_tensor(gt)) ** 2).item()
    assert row.value == pytest.approx(10 * np.log10(1 / mse), abs=0.05)
    # x8 is harder than x4 for the same interpolator
    means = res.groupby(["method", "metric"])["value"].mean()
    assert means["bicubic-x4", "psnr"] > means["bicubic-x8", "psnr"]

    summ = pd.read_csv(single / "summary.csv")
    allb = summ[summ.bucket == "all"]
    assert len(allb) == 4 * 2 and (allb["n"] == 6).all()
    for _, s in allb.iterrows():
        vals = res[(res.method == s.method) & (res.metric == s.metric)]["value"]
        assert s["mean"] == pytest.approx(vals.mean())
        assert s.ci_lo <= s["mean"] <= s.ci_hi
    per_bucket = summ[summ.bucket != "all"].groupby(["method", "metric"])["n"].sum()
    assert (per_bucket == 6).all()  # buckets partition the images
    manifest = json.loads((single / "manifest.json").read_text())
    assert manifest["computed_images"] == 6
    assert manifest["metrics"]["psnr"]["lower_better"] is False
    assert (single / "plots" / "psnr_vs_yaw.png").stat().st_size > 1000
    # a folder dataset's contact sheet: its first 4 images by name (pose is not known at plan time)
    from PIL import Image

    assert manifest["plots"].count("plots/sheet_faces_sr-x4.png") == 1
    # columns: ground truth, input, bicubic, lanczos; rows: 4 faces
    assert Image.open(single / "plots" / "sheet_faces_sr-x4.png").size == (150 + 4 * 128, 28 + 4 * 128)


def test_warm_rerun_computes_nothing(single, suite_file):
    before = (single / "results.csv").read_bytes()
    assert bench("--suite", str(suite_file), "--out", str(single)) == 0
    assert json.loads((single / "manifest.json").read_text())["computed_images"] == 0
    assert (single / "results.csv").read_bytes() == before


def _cached_images(records: Path) -> int:
    if not records.is_file():
        return 0
    count = 0
    for line in records.read_text().splitlines():
        try:
            count += json.loads(line)["type"] == "image"
        except json.JSONDecodeError:  # the line being written as we read
            pass
    return count


def test_resume_after_sigkill(single, suite_file, tmp_path):
    out = tmp_path / "killed"
    records = out / "cache" / "records.jsonl"
    # one image per cache append, killed (SIGKILL, as a user's kill -9) once one is on disk
    proc = subprocess.Popen([sys.executable, str(REPO / "bench" / "run.py"), "--suite",
                             str(suite_file), "--out", str(out), "--quiet", "--batch-size", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while _cached_images(records) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the run ended before the kill: {err[-2000:]}"
    done = _cached_images(records)
    assert 1 <= done < 6
    with open(records, "a") as f:  # what a kill in the middle of a write leaves
        f.write('{"type": "result", "key": "faces/x|')
    assert bench("--suite", str(suite_file), "--out", str(out)) == 0
    assert json.loads((out / "manifest.json").read_text())["computed_images"] == 6 - done
    for name in ("results.csv", "summary.csv", "pipeline.csv"):
        assert (out / name).read_bytes() == (single / name).read_bytes()


def test_shard_and_merge_equal_single_run(single, suite_file, tmp_path):
    parts = [tmp_path / "s1", tmp_path / "s2"]
    assert bench("--suite", str(suite_file), "--out", str(parts[0]), "--shard", "1/2") == 0
    assert bench("--suite", str(suite_file), "--out", str(parts[1]), "--shard", "2/2") == 0
    n1 = json.loads((parts[0] / "manifest.json").read_text())["computed_images"]
    assert n1 == 3
    merged = tmp_path / "merged"
    assert bench("--merge", str(parts[0]), str(parts[1]), "--out", str(merged)) == 0
    for name in ("results.csv", "summary.csv", "pipeline.csv", "plots/sheet_faces_sr-x8.png"):
        assert (merged / name).read_bytes() == (single / name).read_bytes()


def test_leaderboard_deterministic_and_bold_best(single, tmp_path):
    import pandas as pd

    from fsr.bench.leaderboard.page import make

    lb_main = load_script("leaderboard_make", REPO / "leaderboard" / "make.py").main

    text = make(single)
    assert text == make(single)
    assert lb_main([str(single), "-o", str(tmp_path / "LB.md")]) == 0
    assert (tmp_path / "LB.md").read_text() == make(single, tmp_path / "LB.md")
    assert text.index("## Protocol") < text.index("## sr-x4")
    assert "| weights sha256 | licence |" in text and "| none (no weights) |" in text
    summ = pd.read_csv(single / "summary.csv")
    best = summ[(summ.bucket == "all") & (summ.task == "sr-x4") & (summ.metric == "psnr")]
    winner = best.loc[best["mean"].idxmax(), "method"]
    loser = best.loc[best["mean"].idxmin(), "method"]
    section = text.split("## sr-x4")[1].split("###")[1]
    rows = {line.split("|")[1].strip(): line for line in section.splitlines()
            if line.startswith("| ") and "method" not in line}
    assert "**" in rows[winner].split("|")[2] and "**" not in rows[loser].split("|")[2]
    assert "plots/psnr_vs_yaw.png" in text


def test_missing_dataset_exit_2_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FSR_FFHQ_DIR", raising=False)
    assert bench("--suite", "ffhq", "--out", str(tmp_path / "x")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "dataset ffhq not found: set FSR_FFHQ_DIR to a folder holding" in err


@pytest.mark.parametrize("args, needle", [
    (["--suite", "no-such-suite"], "unknown suite 'no-such-suite'"),
    (["--methods", "no-such-method"], "unknown method 'no-such-method'"),
    (["--shard", "3/2"], "--shard"),
])
def test_bad_input_exit_2(args, needle, suite_file, tmp_path, capsys):
    if args[0] != "--suite":
        args = ["--suite", str(suite_file), *args]
    assert bench(*args, "--out", str(tmp_path / "x")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err


def test_dataset_task_subset(suite_file, tmp_path, capsys):
    # a dataset entry's `tasks:` limits it to those tasks (the pose suite's sweep runs two)
    import csv

    faces = suite_file.parent / "faces"
    line = f"  - {{name: faces, type: folder, path: {faces}}}\n"
    text = SUITE.format(path=faces).replace(
        line, line + f"  - {{name: few, type: folder, path: {faces}, limit: 2, tasks: [sr-x4]}}\n")
    text = text.replace("methods: [bicubic-x4, lanczos-x4, bicubic-x8, lanczos-x8]",
                        "methods: [bicubic-x4, bicubic-x8]").replace("[psnr, ssim]", "[psnr]")
    assert "name: few" in text
    path = tmp_path / "subset.yml"
    path.write_text(text)
    out = tmp_path / "out"
    assert bench("--suite", str(path), "--out", str(out)) == 0
    with open(out / "results.csv", newline="") as f:
        pairs = {(r["dataset"], r["task"]) for r in csv.DictReader(f)}
    assert pairs == {("faces", "sr-x4"), ("faces", "sr-x8"), ("few", "sr-x4")}
    path.write_text(text.replace("tasks: [sr-x4]", "tasks: [sr-x2]"))
    capsys.readouterr()
    assert bench("--suite", str(path), "--out", str(tmp_path / "bad")) == 2
    err = capsys.readouterr()
    assert "tasks must be a non-empty list" in err.out + err.err


def test_user_checkpoints_are_named_with_their_files(suite_file, tmp_path, capsys):
    # NAME@PATH rows are labelled NAME@<sha256[:8]>; the run says which file each label is,
    # so two runs of one recipe cannot be swapped when their numbers are copied out
    import shutil

    from fsr.assets import resolve

    faces = suite_file.parent / "faces"
    text = SUITE.format(path=faces).replace(
        "size: 64, degradation: {type: bicubic, scale: 4}",
        "size: 128, degradation: {type: blind, preset: gfpgan-128}").replace(
        "name: sr-x4, kind: sr, scale: 4", "name: restore, kind: restore")
    path = tmp_path / "restore.yml"
    path.write_text(text.replace(
        "  - {name: sr-x8, kind: sr, scale: 8, size: 64, degradation: {type: bicubic, scale: 8}}\n",
        ""))
    mine = tmp_path / "a" / "net_g_best.pth"
    mine.parent.mkdir()
    shutil.copy(resolve("mmrb-sg2-128-samples"), mine)
    capsys.readouterr()
    assert bench("--suite", str(path), "--out", str(tmp_path / "out"), "--limit", "2",
                 "--methods", f"input,mmrb-sg2-128-samples@{mine}") == 0
    out = capsys.readouterr().out
    label = "mmrb-sg2-128-samples@6be95497"
    assert f"your checkpoints:\n  {label} = {mine}" in out
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [m["weights_path"] for m in manifest["methods"]["restore"]
            if m["label"] == label] == [str(mine)]
