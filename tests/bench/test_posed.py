"""Pose-labelled real datasets (AFLW2000-3D, Multi-PIE, Menpo, CFP-FP) on small stand-ins
written in the official formats, their missing-data errors, and pose_error.csv."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CROP = REPO / "tests" / "pose" / "data" / "takeo_128.jpg"


def _open(cfg):
    from fsr.bench.inputs.datasets import open_dataset

    return open_dataset(dict(cfg))


def test_aflw2000_reads_pose_para_in_radians(tmp_path):
    from scipy.io import savemat

    for i, (p, y, r) in enumerate([(0.1, -0.5, 0.05), (0.0, 0.9, 0.0)]):
        shutil.copy(CROP, tmp_path / f"image{i:05d}.jpg")
        savemat(tmp_path / f"image{i:05d}.mat", {
            "Pose_Para": np.array([[p, y, r, 100.0, 120.0, 0.0, 0.001]], np.float32),
            "pt3d_68": np.zeros((3, 68))})
    shutil.copy(CROP, tmp_path / "image00009.jpg")  # no .mat: not an item
    ds = _open({"name": "aflw", "type": "aflw2000", "path": str(tmp_path)})
    assert [it.id for it in ds.items] == ["image00000", "image00001"]
    yaw, pitch, roll = ds.items[0].pose
    assert yaw == pytest.approx(math.degrees(-0.5), abs=1e-4)
    assert pitch == pytest.approx(math.degrees(0.1), abs=1e-4)
    assert ds.items[1].meta["estimate_pose"] is True
    assert ds.load_gt(ds.items[0], 64).shape == (64, 64, 3)


def test_multipie_cameras_map_to_yaw(tmp_path):
    sub = tmp_path / "session01" / "multiview" / "001" / "01"
    for cam in ("05_1", "08_0", "19_0", "08_1"):
        d = sub / cam
        d.mkdir(parents=True)
        shutil.copy(CROP, d / f"001_01_01_{cam.replace('_', '')}_07.png")
    ds = _open({"name": "mpie", "type": "multipie", "path": str(tmp_path)})
    got = {it.id.split("_")[3]: it.pose[0] for it in ds.items}
    assert got == {"051": 0.0, "080": -45.0, "190": 45.0}  # 08_1 is a raised camera: left out
    assert {it.identity for it in ds.items} == {"001"}


def test_menpo_point_count_gives_the_category(tmp_path):
    def pts(path, n):
        body = "\n".join(f"{i} {i}" for i in range(n))
        path.write_text(f"version: 1\nn_points: {n}\n{{\n{body}\n}}\n")

    for name, n in (("a", 68), ("b", 39), ("c", 10)):
        shutil.copy(CROP, tmp_path / f"{name}.jpg")
        pts(tmp_path / f"{name}.pts", n)
    ds = _open({"name": "menpo", "type": "menpo", "path": str(tmp_path)})
    labels = {it.id: it.meta["image_fields"]["label"] for it in ds.items}
    assert labels == {"a": "semi-frontal", "b": "profile"}
    assert all(it.pose is None for it in ds.items)  # bucketed by fsr's estimate


def test_cfp_reads_the_protocol_pair_lists(tmp_path):
    for cat, letter in (("frontal", "F"), ("profile", "P")):
        lines = []
        for k, ident in enumerate(("001", "002"), start=1):
            d = tmp_path / "Data" / "Images" / ident / cat
            d.mkdir(parents=True)
            shutil.copy(CROP, d / "01.jpg")
            lines.append(f"{k} ../Data/Images/{ident}/{cat}/01.jpg")
        (tmp_path / "Protocol").mkdir(exist_ok=True)
        (tmp_path / "Protocol" / f"Pair_list_{letter}.txt").write_text("\n".join(lines) + "\n")
    ds = _open({"name": "cfp", "type": "cfp", "path": str(tmp_path)})
    assert sorted(it.id for it in ds.items) == ["001-frontal-01", "001-profile-01",
                                               "002-frontal-01", "002-profile-01"]
    assert {it.meta["image_fields"]["label"] for it in ds.items} == {"frontal", "profile"}


@pytest.mark.parametrize("suite,env", [("aflw2000", "FSR_AFLW2000_DIR"),
                                       ("multipie", "FSR_MULTIPIE_DIR"),
                                       ("menpo", "FSR_MENPO_DIR"), ("cfp", "FSR_CFP_DIR")])
def test_missing_dataset_is_one_line_naming_the_variable(suite, env, tmp_path, monkeypatch):
    from fsr.bench.inputs.datasets.base import DatasetMissing
    from fsr.bench.inputs.suite import load_suite

    monkeypatch.delenv(env, raising=False)
    cfg = load_suite(suite).datasets[0]
    with pytest.raises(DatasetMissing, match=env) as err:
        _open(cfg)
    assert "\n" not in str(err.value)
    monkeypatch.setenv(env, str(tmp_path))  # a folder with nothing in the format
    with pytest.raises(DatasetMissing, match=env):
        _open(cfg)


def test_pose_error_table():
    from fsr.bench.inputs.suite import parse_suite
    from fsr.bench.report.pose_error import pose_error_table

    class Info:
        suite = parse_suite({"datasets": [{"name": "a", "type": "aflw2000"},
                                          {"name": "m", "type": "menpo"}],
                             "tasks": [{"name": "t", "kind": "sr"}]}, Path("x.yml"))
        image_keys = ["a/1", "a/2", "m/1", "m/2"]

    class Store:
        records = {
            "a/1": {"dataset": "a", "label": "yaw", "pose_label": [30.0, 5.0, 0.0],
                    "pose_estimated": [26.0, 3.0, 1.0]},
            "a/2": {"dataset": "a", "label": "yaw", "pose_label": [-60.0, 0.0, 0.0],
                    "pose_estimated": None},
            "m/1": {"dataset": "m", "label": "profile", "pose": [-70.0, 0.0, 0.0],
                    "pose_ok": True},
            "m/2": {"dataset": "m", "label": "profile", "pose": [None] * 3, "pose_ok": False},
        }

    t = pose_error_table(Store(), Info()).set_index("dataset")
    assert t.loc["a", "n"] == 2 and t.loc["a", "estimated"] == 1
    assert t.loc["a", "median_abs_yaw_error"] == pytest.approx(4.0)
    assert t.loc["a", "median_abs_yaw_error_sign_flipped"] == pytest.approx(56.0)
    assert t.loc["a", "median_abs_pitch_error"] == pytest.approx(2.0)
    assert t.loc["m", "median_estimated_abs_yaw"] == pytest.approx(70.0)
    assert t.loc["m", "estimated_abs_yaw_ge_45"] == 1.0


def _bad_labels(tmp_path):
    """Two good AFLW2000 pairs and three pose labels that cannot be read."""
    from scipy.io import savemat

    for i in range(5):
        shutil.copy(CROP, tmp_path / f"image{i:05d}.jpg")
    for i in range(2):
        savemat(tmp_path / f"image{i:05d}.mat",
                {"Pose_Para": np.array([[0.0, 0.2 * i, 0.0, 0, 0, 0, 1]], np.float32)})
    (tmp_path / "image00002.mat").write_text("not a mat file\n")
    good = (tmp_path / "image00000.mat").read_bytes()
    (tmp_path / "image00003.mat").write_bytes(good[: len(good) // 2])  # truncated
    savemat(tmp_path / "image00004.mat", {"pt3d_68": np.zeros((3, 68))})  # no Pose_Para


def test_malformed_pose_labels_are_left_out_with_a_reason(tmp_path):
    _bad_labels(tmp_path)
    ds = _open({"name": "aflw", "type": "aflw2000", "path": str(tmp_path)})
    assert [it.id for it in ds.items] == ["image00000", "image00001"]
    why = {Path(s["file"]).name: s["reason"] for s in ds.skipped}
    assert set(why) == {"image00002.mat", "image00003.mat", "image00004.mat"}
    assert why["image00004.mat"] == "no Pose_Para"
    assert why["image00002.mat"] == "not a MATLAB .mat file"
    assert why["image00003.mat"].startswith("truncated or corrupt .mat (")
    assert all(s["what"] == "pose label" and "\n" not in s["reason"] for s in ds.skipped)
    # Menpo: a binary .pts, one with no point block, one with a word for a coordinate
    menpo = tmp_path / "menpo"
    menpo.mkdir()
    body = "\n".join(f"{i} {i}" for i in range(68))
    for name, text in (("a", f"version: 1\nn_points: 68\n{{\n{body}\n}}\n"),
                       ("b", "version: 1\nn_points: 68\n"), ("c", "{\n1 x\n}\n")):
        shutil.copy(CROP, menpo / f"{name}.jpg")
        (menpo / f"{name}.pts").write_text(text)
    shutil.copy(CROP, menpo / "d.jpg")
    (menpo / "d.pts").write_bytes(b"\xff\xfe\x00\x81" * 8)
    ds = _open({"name": "menpo", "type": "menpo", "path": str(menpo)})
    assert [it.id for it in ds.items] == ["a"]
    assert sorted(Path(s["file"]).name for s in ds.skipped) == ["b.pts", "c.pts", "d.pts"]


def test_a_run_skips_malformed_pose_labels_and_strict_stops(tmp_path, capsys):
    import json

    from bench_testing import run_bench

    _bad_labels(tmp_path)
    suite = tmp_path / "aflw.yml"
    suite.write_text(f"""
name: aflw-bad
datasets: [{{name: aflw, type: aflw2000, path: {tmp_path}}}]
tasks: [{{name: sr-x4, kind: sr, scale: 4, size: 64, degradation: {{type: bicubic, scale: 4}}}}]
methods: [bicubic-x4]
metrics: [psnr]
bootstrap: {{n: 50, seed: 0}}
""")
    out = tmp_path / "run"
    capsys.readouterr()
    assert run_bench("--suite", str(suite), "--out", str(out)) == 0
    text = capsys.readouterr().out
    assert "skipped 3 of 5: image00002.mat (" in text
    man = json.loads((out / "manifest.json").read_text())
    assert sorted(Path(s["file"]).name for s in man["skipped"]) == \
        ["image00002.mat", "image00003.mat", "image00004.mat"]
    assert (out / "results.csv").read_text().count("aflw,image0000") == 2
    assert run_bench("--suite", str(suite), "--out", str(tmp_path / "strict"), "--strict") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("bench: error: pose label ") and "(--strict)" in err[-1]
    assert not any("Traceback" in line for line in err)
