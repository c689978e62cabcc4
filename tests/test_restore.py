"""fsr.restore and `python -m fsr restore` on real photos from the sample set's sources."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fsr.imageio import read_image
from fsr.restore import RestoreError, restore

ROOT = Path(__file__).resolve().parents[1]
CROP = ROOT / "samples" / "crops" / "lenna-0.png"


def _photo(tmp_path, faces=2) -> Path:
    """A real two-face photo: two aligned sample crops side by side on a grey canvas."""
    crops = [read_image(ROOT / "samples" / "crops" / n) for n in ("lenna-0.png", "biden-0.png")][:faces]
    canvas = np.full((300, 620, 3), 90, np.uint8)
    for i, c in enumerate(crops):
        canvas[20:276, 20 + i * 300:276 + i * 300] = c
    path = tmp_path / "photo.png"
    from fsr.imageio import write_image

    write_image(path, canvas)
    return path


def test_aligned_crop_x4():
    result = restore(CROP, "bicubic-x4", aligned=True)
    assert result.image.shape == (128, 128, 3) and result.image.dtype == np.uint8
    assert result.faces[0].input_crop.shape == (32, 32, 3)


def test_whole_photo_upscales_and_finds_both_faces(tmp_path):
    result = restore(_photo(tmp_path), "bicubic-x4", detector="mtcnn")
    assert result.image.shape == (1200, 2480, 3)
    assert len(result.faces) == 2
    assert all(f.output_crop.shape == (128, 128, 3) for f in result.faces)
    assert all(f.yaw is not None and abs(f.yaw) < 30 for f in result.faces)


def test_no_face_is_a_clear_error():
    flat = np.full((200, 200, 3), 128, np.uint8)
    with pytest.raises(RestoreError, match="no face found"):
        restore(flat, "bicubic-x4", detector="mtcnn")


def test_unknown_method_and_bad_array():
    with pytest.raises(RestoreError, match="unknown method"):
        restore(np.zeros((64, 64, 3), np.uint8), "no-such-method", aligned=True)
    with pytest.raises(RestoreError, match="uint8"):
        restore(np.zeros((64, 64), np.float32), "bicubic-x4", aligned=True)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "fsr", "restore", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.mark.slow
def test_cli_folder_with_a_bad_file_keeps_the_good_ones(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.png").write_bytes(CROP.read_bytes())
    (src / "broken.jpg").write_bytes(CROP.read_bytes()[:200])
    proc = _cli(src, tmp_path / "out", "--method", "bicubic-x8", "--aligned")
    assert proc.returncode == 1
    assert read_image(tmp_path / "out" / "a.png").shape == (128, 128, 3)
    assert "broken.jpg" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out" / "broken.png").exists()


def test_cli_missing_input_is_one_line(tmp_path):
    proc = _cli(tmp_path / "nope.jpg", tmp_path / "o.png")
    assert proc.returncode == 2 and proc.stdout.strip().count("\n") == 0
    assert "does not exist" in proc.stdout
