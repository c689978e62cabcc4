"""Face pipeline (whole-photo mode) counts of bench/run.py: pipeline.csv, cache lines, leaderboard.

A tiny paired set: three real 128 px face crops (tests/pose/data) and one flat grey image, the
given low-quality input a JPEG (q=60) of each. Tasks: ``restore`` on the given 128 px input and
``sr-x8`` from a bicubic 16 px input. The detector is the real MTCNN (no mock): it must find the
real faces at 128 px and never the grey image.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bench_testing import REPO, run_bench

FACES = ["takeo", "breakingbad", "pyfeat45"]
SUITE = """
name: pipe
datasets:
  - {{name: pairs, type: celeba-test, path: {path}}}
tasks:
  - {{name: restore, kind: restore, size: 128, degradation: given}}
  - {{name: sr-x8, kind: sr, scale: 8, size: 128, degradation: {{type: bicubic, scale: 8}}}}
methods: [input, bicubic-x8]
metrics: [psnr]
pose: {{edges: [0, 15, 30, 45]}}
bootstrap: {{n: 50, seed: 0, alpha: 0.05}}
{extra}
"""


bench = run_bench


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    import cv2

    root = tmp_path_factory.mktemp("pairs")
    (root / "hq").mkdir()
    (root / "lq").mkdir()
    images = {name: cv2.imread(str(REPO / "tests" / "pose" / "data" / f"{name}_128.jpg"))
              for name in FACES}
    images["grey"] = np.full((128, 128, 3), 128, np.uint8)
    for name, img in images.items():
        assert img is not None and img.shape == (128, 128, 3), name
        cv2.imwrite(str(root / "hq" / f"{name}.png"), img)
        cv2.imwrite(str(root / "lq" / f"{name}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 60])
    return root


def suite_file(data: Path, folder: Path, extra: str = "face_pipeline: {detector: mtcnn}") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pipe.yml"
    path.write_text(SUITE.format(path=data, extra=extra))
    return path


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert bench("--suite", str(suite_file(data, out / "suite")), "--out", str(out)) == 0
    return out


def _detect_lines(out: Path) -> list[dict]:
    lines = (out / "cache" / "records.jsonl").read_text().splitlines()
    return [rec for rec in map(json.loads, lines) if rec["type"] == "detect"]


def test_pipeline_csv_counts(run):
    import pandas as pd

    lines = {(r["id"], r["task"]): r for r in _detect_lines(run)}
    assert len(lines) == 4 * 2  # images x tasks, once each
    for name in FACES:  # real faces at 128 px: found, in the centre
        rec = lines[(name, "restore")]
        assert rec["found"] and rec["detections"] >= 1 and rec["best_score"] >= 0.9, rec
        assert rec["view"] == [256, 256] and rec["detector"] == "mtcnn"
    for task in ("restore", "sr-x8"):  # flat grey: no face, a miss rather than an error
        rec = lines[("grey", task)]
        assert not rec["found"] and rec["detections"] == 0 and rec["best_score"] is None
    assert all(lines[(n, "sr-x8")]["view"] == [32, 32] for n in [*FACES, "grey"])

    df = pd.read_csv(run / "pipeline.csv")
    assert list(df.columns) == ["dataset", "task", "detector", "bucket", "n", "found", "missed",
                                "miss_rate"]
    assert list(dict.fromkeys(df["task"])) == ["restore", "sr-x8"]
    assert (df["detector"] == "mtcnn").all() and (df["found"] + df["missed"] == df["n"]).all()
    allb = df[df.bucket == "all"].set_index("task")
    assert allb.loc["restore", "n"] == 4 and allb.loc["restore", "missed"] == 1
    assert allb.loc["restore", "miss_rate"] == pytest.approx(0.25)
    x8_found = sum(lines[(n, "sr-x8")]["found"] for n in FACES)
    assert allb.loc["sr-x8", "found"] == x8_found
    for task, g in df[df.bucket != "all"].groupby("task"):  # buckets partition the images
        assert g["n"].sum() == 4 and g["missed"].sum() == allb.loc[task, "missed"]
    # the grey image has no pose: bucket 'unknown', missed in both tasks
    unknown = df[df.bucket == "unknown"]
    assert list(unknown["n"]) == [1, 1] and list(unknown["missed"]) == [1, 1]
    # buckets as summary.csv orders them
    from fsr.bench.inputs.suite import bucket_order

    order = bucket_order((0, 15, 30, 45, float("inf")))
    for _, g in df.groupby("task"):
        assert list(g["bucket"]) == sorted(g["bucket"], key=order.index)

    manifest = json.loads((run / "manifest.json").read_text())
    fp = manifest["face_pipeline"]
    assert fp["detector"] == "mtcnn" and fp["threshold"] == 0.9
    assert set(fp["weights_sha256"]) == {"mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet"}
    assert manifest["timings"]["this_run"]["detect"]["count"] == 8


def test_rerun_computes_nothing(run, data):
    records = (run / "cache" / "records.jsonl").read_bytes()
    table = (run / "pipeline.csv").read_bytes()
    assert bench("--suite", str(suite_file(data, run / "suite")), "--out", str(run)) == 0
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["computed_images"] == 0 and "detect" not in manifest["timings"]["this_run"]
    assert manifest["timings"]["cached_compute"]["detect"] > 0
    assert (run / "cache" / "records.jsonl").read_bytes() == records
    assert (run / "pipeline.csv").read_bytes() == table


def test_switching_it_on_keeps_cached_method_results(run, data, tmp_path):
    out = tmp_path / "off-then-on"
    assert bench("--suite", str(suite_file(data, tmp_path / "off", "face_pipeline: false")),
                 "--out", str(out)) == 0
    assert not (out / "pipeline.csv").exists() and not _detect_lines(out)
    assert json.loads((out / "manifest.json").read_text())["face_pipeline"] is None
    results = (out / "results.csv").read_bytes()
    n_lines = len((out / "cache" / "records.jsonl").read_text().splitlines())
    assert bench("--suite", str(suite_file(data, tmp_path / "on")), "--out", str(out)) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert not any(k.startswith(("method:", "metric:")) for k in manifest["timings"]["this_run"])
    assert len((out / "cache" / "records.jsonl").read_text().splitlines()) == n_lines + 8
    assert (out / "results.csv").read_bytes() == results
    assert (out / "pipeline.csv").read_bytes() == (run / "pipeline.csv").read_bytes()


def test_leaderboard_section(run, tmp_path):
    import shutil

    from fsr.bench.leaderboard.page import make
    text = make(run)
    assert text == make(run)
    title = "## Face pipeline (whole-photo mode): faces not detected"
    section = text.split(title)[1].split("\n## ")[0]
    assert "**mtcnn**" in section and "edge-padded by half its side" in section
    assert "| task | input | all |" in section and "unknown |" in section
    assert "| restore | 128 px | 1/4 |" in section and "| sr-x8 | 16 px |" in section
    assert text.index("## restore") < text.index(title)
    old = tmp_path / "old"  # a run from before pipeline.csv existed: no section
    shutil.copytree(run, old, ignore=shutil.ignore_patterns("cache", "pipeline.csv"))
    assert title not in make(old) and "## restore" in make(old)


def test_merge_refuses_shards_with_other_detectors(run, data, tmp_path, capsys):
    parts = [tmp_path / "s1", tmp_path / "s2"]
    suite = suite_file(data, tmp_path / "suite")
    for i, part in enumerate(parts):
        assert bench("--suite", str(suite), "--out", str(part), "--shard", f"{i + 1}/2") == 0
    merged = tmp_path / "merged"
    assert bench("--merge", *map(str, parts), "--out", str(merged)) == 0
    assert (merged / "pipeline.csv").read_bytes() == (run / "pipeline.csv").read_bytes()
    # a shard run where the detector resolved to something else (another machine's weights)
    mpath = parts[1] / "manifest.json"
    manifest = json.loads(mpath.read_text())
    manifest["face_pipeline"]["detector"] = "retinaface"
    mpath.write_text(json.dumps(manifest))
    capsys.readouterr()
    assert bench("--merge", *map(str, parts), "--out", str(tmp_path / "bad")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "different face-pipeline detectors" in err
    assert "mtcnn, retinaface" in err


@pytest.mark.parametrize("extra, needle", [
    ("face_pipeline: maybe", "face_pipeline must be false, true or {detector: NAME}"),
    ("face_pipeline: {detector: yolo}", "face_pipeline: unknown detector 'yolo'"),
    ("face_pipeline: {detector: mtcnn, threshold: 0.5}", "face_pipeline must be"),
    ("face_pipeline: null", "face_pipeline must be"),
])
def test_bad_face_pipeline_exit_2_one_line(extra, needle, data, tmp_path, capsys):
    path = suite_file(data, tmp_path, extra)
    assert bench("--suite", str(path), "--out", str(tmp_path / "x")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and err.startswith("bench: error: suite")


def test_suite_default_is_on_and_signatures_unchanged(data, tmp_path):
    import yaml

    from fsr.bench.inputs.suite import parse_suite

    raw = yaml.safe_load(SUITE.format(path=data, extra=""))
    on = parse_suite(raw, Path("pipe.yml"))
    off = parse_suite(raw | {"face_pipeline": False}, Path("pipe.yml"))
    assert on.face_pipeline == {"detector": "auto"} and off.face_pipeline is None
    assert parse_suite(raw | {"face_pipeline": True}, Path("p.yml")).face_pipeline == \
        {"detector": "auto"}
    assert [t.signature for t in on.tasks] == [t.signature for t in off.tasks]
    # the pose suite's task signatures, as cached by runs made before face_pipeline existed
    from fsr.bench.inputs.suite import load_suite

    # (restore-severe keeps the former restore task's degradation, so its signature)
    assert [t.signature for t in load_suite("pose").tasks] == \
        ["67aa90a2aa", "55edd0002d", "a4548922a3", "f5360fc8b8"]


def test_detector_view():
    from fsr.bench.compute.lib import detector_view

    lq = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    view, box = detector_view(lq)
    assert view.shape == (32, 32, 3) and view.dtype == np.uint8 and box == (8, 8, 24, 24)
    np.testing.assert_array_equal(view[8:24, 8:24], (lq * 255).round().astype(np.uint8))
    assert (view[:8, 8] == view[8, 8]).all() and (view[30, 30] == view[23, 23]).all()


def test_a_cold_machines_signature_equals_a_warm_ones(tmp_path, monkeypatch):
    """A weight fetched on first use (a registry package here) is fetched before its sha256
    goes into a cache signature: a signature taken without it (None) would differ from every
    later run's and throw away the first run's cache lines."""
    import fsr.assets.resolver as resolver
    from fsr.bench.compute import lib

    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")
    fetched = []
    monkeypatch.setattr(resolver, "local_copy", lambda name: None)  # a cold machine

    def fake_resolve(name, path=None):
        fetched.append(name)
        return weights

    monkeypatch.setattr(resolver, "resolve", fake_resolve)
    assert lib.asset_sha256("lpips-alex") == resolver.sha256_of(weights)  # package source
    assert fetched == ["lpips-alex"]

    def unreachable(name, path=None):
        raise resolver.AssetError("unreachable")

    monkeypatch.setattr(resolver, "resolve", unreachable)
    assert lib.asset_sha256("lpips-alex") is None  # cannot be had: the fallback's signature
    assert lib.asset_sha256("not-an-asset") is None
