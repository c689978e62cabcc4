"""Scoring a folder of outputs as a method (``NAME=outputs:PATH``), exporting a suite's inputs,
the protocol fingerprint, and unreadable files that never stop a run.

The "outside tool" here is Pillow's bicubic resize (and, for the round trip, fsr's own
``python -m fsr restore`` run as a separate process): each writes files; the bench reads them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bench_testing import REPO, run_bench, write_face_suite
from PIL import Image

FACES = ["audrey_crop", "cage2_crop", "kim1_crop", "obama4_crop"]
SUITE = """
name: outs
datasets:
  - {{name: faces, type: folder, path: {path}}}
tasks:
  - {{name: sr-x4, kind: sr, scale: 4, size: 64, degradation: {{type: bicubic, scale: 4}}}}
  - {{name: sr-x8, kind: sr, scale: 8, size: 64, degradation: {{type: bicubic, scale: 8}}}}
methods: [bicubic-x4, bicubic-x8]
metrics: [psnr, ssim]
pose: {{edges: [0, 15, 30, 45]}}
bootstrap: {{n: 100, seed: 0, alpha: 0.05}}
face_pipeline: false
"""


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    faces = {n: REPO / "samples" / "crops" / f"{n}-0.png" for n in FACES}
    return write_face_suite(tmp_path_factory.mktemp("outs"), SUITE, faces, 96)


@pytest.fixture(scope="module")
def exported(suite_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("inputs")
    assert run_bench("--suite", str(suite_file), "--export-inputs", str(out)) == 0
    return out


def _pil_upscale(src: Path, dst: Path, tasks=("sr-x4",), size: int = 64) -> Path:
    """An outside method: Pillow bicubic from each exported input to ``size``."""
    for task in tasks:
        for p in sorted((src / "faces" / task).glob("*.png")):
            out = dst / "faces" / task / p.name
            out.parent.mkdir(parents=True, exist_ok=True)
            Image.open(p).resize((size, size), Image.BICUBIC).save(out)
    return dst


def _results(out: Path):
    import pandas as pd

    return pd.read_csv(out / "results.csv")


def test_export_writes_inputs_only(exported, suite_file):
    import pandas as pd

    rows = pd.read_csv(exported / "inputs.csv")
    assert list(rows.columns) == ["file", "dataset", "task", "image_id", "identity", "yaw",
                                  "bucket", "input_size", "output_size", "sha256"]
    assert len(rows) == len(FACES) * 2
    for r in rows.itertuples():
        img = np.asarray(Image.open(exported / r.file))
        assert img.shape == (r.input_size, r.input_size, 3) and img.dtype == np.uint8
        assert r.input_size == {"sr-x4": 16, "sr-x8": 8}[r.task]
    # nothing at the ground truth's size went into the folder
    sizes = {Image.open(p).size for p in exported.rglob("*.png")}
    assert sizes == {(16, 16), (8, 8)}
    proto = json.loads((exported / "protocol.json").read_text())["protocol"]
    assert set(proto) == {"faces/sr-x4", "faces/sr-x8"}
    assert all(len(v["fingerprint"]) == 16 for v in proto.values())


def test_export_inputs_are_the_runs_inputs(exported, suite_file, tmp_path, capsys):
    """The exported PNG is the engine's input rounded to 8 bits: bicubic-x4 on it gives the
    built-in bicubic-x4 row to within that rounding."""
    mine = _pil_upscale(exported, tmp_path / "mine")
    out = tmp_path / "run"
    assert run_bench("--suite", str(suite_file), "--methods", f"pil=outputs:{mine}",
                     "--out", str(out)) == 0
    res = _results(out)
    labels = set(res["method"])
    label = next(m for m in labels if m.startswith("pil@outputs:"))
    assert labels == {label, "bicubic-x4"}  # the baseline comes along for paired.csv
    man = json.loads((out / "manifest.json").read_text())
    entry = next(e for e in man["methods"]["sr-x4"] if e["label"] == label)
    assert entry["outputs_path"] == str(mine) and entry["outputs_files"] == len(FACES)
    assert label.endswith(entry["outputs_sha256"][:8])
    # protocol: the export's and the run's fingerprints are the same
    exp = json.loads((exported / "protocol.json").read_text())["protocol"]
    assert exp["faces/sr-x4"]["fingerprint"] == man["protocol"]["faces/sr-x4"]["fingerprint"]
    paired = (out / "paired.csv").read_text()
    assert label in paired and "bicubic-x4" in paired


def test_outputs_rules_16bit_grey_corrupt(exported, suite_file, tmp_path, capsys):
    mine = _pil_upscale(exported, tmp_path / "mine")
    ref_out = tmp_path / "ref"
    assert run_bench("--suite", str(suite_file), "--methods", f"pil=outputs:{mine}",
                     "--out", str(ref_out)) == 0
    ref = _results(ref_out)
    files = sorted((mine / "faces" / "sr-x4").glob("*.png"))
    # 16-bit: the same pixels x 257 score exactly the same (v / 65535 == v8 / 255)
    import cv2

    bgr = cv2.imread(str(files[0]), cv2.IMREAD_COLOR)
    cv2.imwrite(str(files[0]), bgr.astype(np.uint16) * 257)
    assert cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    Image.open(files[1]).convert("L").save(files[1])  # grey: refused, skipped
    files[2].write_bytes(files[2].read_bytes()[:60])  # truncated: skipped
    out = tmp_path / "run"
    capsys.readouterr()
    assert run_bench("--suite", str(suite_file), "--methods", f"pil=outputs:{mine}",
                     "--out", str(out)) == 0
    text = capsys.readouterr()
    res = _results(out)
    label = next(m for m in set(res["method"]) if m.startswith("pil@"))
    psnr = res[(res.method == label) & (res.metric == "psnr")].set_index("image_id")["value"]
    ref_label = next(m for m in set(ref["method"]) if m.startswith("pil@"))
    ref_psnr = ref[(ref.method == ref_label) & (ref.metric == "psnr")].set_index("image_id")
    assert len(psnr) == len(FACES) - 2  # the real n
    assert abs(psnr[files[0].stem] - ref_psnr.loc[files[0].stem, "value"]) < 1e-4
    assert f"{files[1].name} (greyscale" in text.out
    assert f"{files[2].name} (" in text.out and "skipped 2 of" in text.out
    man = json.loads((out / "manifest.json").read_text())
    assert {Path(s["file"]).name for s in man["skipped"]} == {files[1].name, files[2].name}
    # --strict: the same line stops the run, exit 2, no traceback
    assert run_bench("--suite", str(suite_file), "--methods", f"pil=outputs:{mine}",
                     "--out", str(tmp_path / "strict"), "--strict") == 2
    err = capsys.readouterr().err
    assert "--strict" in err and "Traceback" not in err


def test_outputs_bad_folders_one_line(exported, suite_file, tmp_path, capsys):
    def run(path, *more):
        capsys.readouterr()
        rc = run_bench("--suite", str(suite_file), "--methods", f"pil=outputs:{path}",
                       "--out", str(tmp_path / "o"), *more)
        err = capsys.readouterr().err.strip().splitlines()
        return rc, err

    empty = tmp_path / "empty"
    empty.mkdir()
    rc, err = run(empty)
    assert rc == 2 and "holds no images" in err[-1] and len(err) == 1
    # x8-sized outputs (the x8 model run on x4 inputs): 128 px where the task scores 64 px
    wrong = _pil_upscale(exported, tmp_path / "wrong", size=128)
    rc, err = run(wrong)
    assert rc == 2 and "is 128x128; task sr-x4 scores 64x64" in err[-1]
    # wrong names: every output missing, the extra files listed
    names = _pil_upscale(exported, tmp_path / "names")
    for p in (names / "faces" / "sr-x4").glob("*.png"):
        p.rename(p.with_name("out_" + p.name))
    rc, err = run(names)
    assert rc == 2 and f"{len(FACES)} of {len(FACES)} outputs missing" in err[-1]
    # some missing: one line and exit 2, unless --allow-missing (then the real n)
    part = _pil_upscale(exported, tmp_path / "part")
    gone = sorted((part / "faces" / "sr-x4").glob("*.png"))[0]
    gone.unlink()
    rc, err = run(part)
    assert rc == 2 and f"1 of {len(FACES)} outputs missing" in err[-1] and gone.stem in err[-1]
    rc, err = run(part, "--allow-missing")
    assert rc == 0
    res = _results(tmp_path / "o")
    label = next(m for m in set(res["method"]) if m.startswith("pil@"))
    assert (res[res.method == label]["metric"] == "psnr").sum() == len(FACES) - 1
    # a folder for no task of the suite
    other = tmp_path / "other" / "faces" / "sr-x3"
    other.mkdir(parents=True)
    shutil.copy(next(exported.rglob("*.png")), other / "a.png")
    rc, err = run(tmp_path / "other")
    assert rc == 2 and "no <dataset>/<task>/ folder named after a task" in err[-1]


def test_bad_dataset_files_are_skipped(tmp_path, capsys):
    faces = {n: REPO / "samples" / "crops" / f"{n}-0.png" for n in FACES}
    suite = write_face_suite(tmp_path, SUITE, faces, 96)
    folder = suite.parent / "faces"
    (folder / "trunc.png").write_bytes((folder / f"{FACES[0]}.png").read_bytes()[:200])
    (folder / "text.png").write_text("not an image\n")
    capsys.readouterr()
    out = tmp_path / "run"
    assert run_bench("--suite", str(suite), "--out", str(out)) == 0
    text = capsys.readouterr().out
    assert f"skipped 2 of {len(FACES) + 2}: text.png (not an image), trunc.png (truncated)" in text
    res = _results(out)
    assert set(res["image_id"]) == set(FACES)
    man = json.loads((out / "manifest.json").read_text())
    assert sorted(Path(s["file"]).name for s in man["skipped"]) == ["text.png", "trunc.png"]
    capsys.readouterr()
    assert run_bench("--suite", str(suite), "--out", str(tmp_path / "strict"), "--strict") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "(--strict)" in err[-1] and "text.png" in err[-1]
    assert not any("Traceback" in line for line in err)


def test_protocol_changes_with_the_degradation(suite_file, tmp_path):
    changed = tmp_path / "changed.yml"
    changed.write_text(suite_file.read_text().replace("{type: bicubic, scale: 8}",
                                                      "{type: bicubic, scale: 8, blur: 1}"))
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_bench("--suite", str(suite_file), "--export-inputs", str(a)) == 0
    assert run_bench("--suite", str(changed), "--export-inputs", str(b)) == 0
    pa = json.loads((a / "protocol.json").read_text())["protocol"]
    pb = json.loads((b / "protocol.json").read_text())["protocol"]
    assert pa["faces/sr-x4"] == pb["faces/sr-x4"]
    assert pa["faces/sr-x8"]["fingerprint"] != pb["faces/sr-x8"]["fingerprint"]
    from fsr.bench.inputs.protocol import difference

    assert difference(pa["faces/sr-x8"]["parts"], pb["faces/sr-x8"]["parts"]) == "degradation"


@pytest.mark.slow
def test_round_trip_with_fsrs_own_cli(tmp_path):
    """Export the pose suite's inputs (3 faces), restore them with ``python -m fsr restore``
    as an outside tool, score that folder: its rows equal the built-in method's to within
    what 8-bit rounding of the input explains (measured: PSNR within 0.03 dB)."""
    ex, mine, out = tmp_path / "inputs", tmp_path / "mine", tmp_path / "run"
    common = ("--suite", "pose", "--datasets", "samples", "--limit", "3")
    assert run_bench(*common, "--export-inputs", str(ex)) == 0
    for task, method in (("sr-x4", "sam3d-x4-samples"), ("restore", "mmrb-sg2-128-samples")):
        subprocess.run([sys.executable, "-m", "fsr", "restore", str(ex / "samples" / task),
                        str(mine / "samples" / task), "--aligned", "--method", method],
                       check=True, capture_output=True, cwd=REPO)
    suite = tmp_path / "rt.yml"
    import yaml

    raw = yaml.safe_load((REPO / "bench" / "suites" / "pose.yml").read_text())
    raw.update(metrics=["psnr", "ssim", "lpips"], set_metrics=[], face_pipeline=False,
               datasets=[raw["datasets"][0]])
    raw["tasks"] = [t for t in raw["tasks"] if t["name"] in ("sr-x4", "restore")]
    suite.write_text(yaml.safe_dump(raw))
    assert run_bench("--suite", str(suite), "--limit", "3", "--methods",
                     f"sam3d-x4-samples,mmrb-sg2-128-samples,fsr=outputs:{mine}",
                     "--out", str(out)) == 0
    res = _results(out)
    wide = res.pivot_table(index=["task", "image_id", "metric"], columns="method",
                           values="value")
    label = next(c for c in wide.columns if c.startswith("fsr@outputs:"))
    for task, ref in (("sr-x4", "sam3d-x4-samples"), ("restore", "mmrb-sg2-128-samples")):
        d = (wide.loc[task][label] - wide.loc[task][ref]).abs().groupby(level="metric").max()
        assert d["psnr"] < 0.1 and d["ssim"] < 5e-3 and d["lpips"] < 5e-3, (task, d.to_dict())


@pytest.mark.slow
def test_readme_own_method_loop(tmp_path, monkeypatch, capsys):
    """The README's "benchmark your own method" commands, on 2 sample faces (``--datasets
    samples --limit 2`` added to each bench command to keep the test short), with Pillow's
    bicubic as "your method" on sr-x4; the main job's run (results/pose) is stood in for by
    bicubic and Lanczos on the same faces."""
    from bench_testing import load_script

    monkeypatch.chdir(tmp_path)
    few = ("--datasets", "samples", "--limit", "2")
    assert run_bench("--suite", "pose", "--methods", "bicubic-x4,lanczos-x4",
                     "--out", "results/pose", *few) == 0
    readme = (REPO / "README.md").read_text()
    assert "bench/run.py --suite pose --export-inputs inputs/" in readme
    assert run_bench("--suite", "pose", "--export-inputs", "inputs/", *few) == 0
    for p in sorted(Path("inputs/samples/sr-x4").glob("*.png")):
        out = Path("mine/samples/sr-x4") / p.name
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.open(p).resize((128, 128), Image.BICUBIC).save(out)
    assert "--methods mine=outputs:mine/ --out results/mine" in readme
    assert run_bench("--suite", "pose", "--methods", "mine=outputs:mine/", "--out",
                     "results/mine", *few, "--by", "Your Name") == 0
    assert "leaderboard/make.py results/pose results/mine -o results/LEADERBOARD.md" in readme
    make = load_script("leaderboard_make_readme", REPO / "leaderboard" / "make.py")
    assert make.main(["results/pose", "results/mine", "-o", "results/LEADERBOARD.md"]) == 0
    page = Path("results/LEADERBOARD.md").read_text()
    assert "mine@outputs:" in page and "Source runs" in page and "lanczos-x4" in page
    assert "Your Name" in page


def test_a_metric_without_its_weights_is_dropped_in_one_line(suite_file, tmp_path, capsys,
                                                             monkeypatch):
    """VQFR's Deg needs ArcFace's resnet18_110.pth, which no registry ships: the run goes on
    with the metrics it has, says which was dropped and why, and records it."""
    monkeypatch.setenv("FSR_HOME", str(tmp_path / "home"))  # no user copy of the weights
    suite = tmp_path / "deg.yml"
    suite.write_text(suite_file.read_text().replace("metrics: [psnr, ssim]",
                                                    "metrics: [psnr, identity-deg]"))
    capsys.readouterr()
    out = tmp_path / "run"
    assert run_bench("--suite", str(suite), "--out", str(out), "--methods", "bicubic-x4") == 0
    text = capsys.readouterr()
    line = next(x for x in text.err.splitlines() if "identity-deg dropped" in x)
    assert "resnet18_110.pth" in line or "arcface" in line.lower()
    assert "dropped metric identity-deg" in text.out
    man = json.loads((out / "manifest.json").read_text())
    assert list(man["dropped_metrics"]) == ["identity-deg"]
    assert set(_results(out)["metric"]) == {"psnr"}
