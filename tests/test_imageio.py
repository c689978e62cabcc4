"""fsr.imageio: every odd input either reads correctly or fails with one clear line."""

import io
import os

import numpy as np
import pytest
from PIL import Image, ImageOps

from fsr.imageio import ImageReadError, read_image, write_image


def _gradient(h=24, w=32):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) % 256], -1).astype(np.uint8)


def _save(tmp_path, name, img: Image.Image, **kw):
    path = tmp_path / name
    img.save(path, **kw)
    return path


def test_rgb_png_roundtrip(tmp_path):
    rgb = _gradient()
    out = read_image(_save(tmp_path, "a.png", Image.fromarray(rgb)))
    assert out.dtype == np.uint8 and out.shape == (24, 32, 3)
    np.testing.assert_array_equal(out, rgb)


def test_bytes_input(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(_gradient()).save(buf, format="PNG")
    np.testing.assert_array_equal(read_image(buf.getvalue()), _gradient())


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = _gradient()[..., 0]
    out = read_image(_save(tmp_path, "g.png", Image.fromarray(gray, "L")))
    assert out.shape == (24, 32, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)


def test_rgba_composited_on_white_or_dropped(tmp_path):
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :8, 3] = 255  # left half opaque red, right half fully transparent
    rgba[:, 8:, 3] = 0
    path = _save(tmp_path, "a.png", Image.fromarray(rgba, "RGBA"))
    white = read_image(path)
    assert white.shape == (16, 16, 3)
    np.testing.assert_array_equal(white[0, 0], [200, 0, 0])
    np.testing.assert_array_equal(white[0, 15], [255, 255, 255])
    dropped = read_image(path, alpha="drop")
    np.testing.assert_array_equal(dropped[0, 15], [200, 0, 0])
    with pytest.raises(ValueError, match="alpha"):
        read_image(path, alpha="black")


def test_half_transparent_blend(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 128
    out = read_image(_save(tmp_path, "h.png", Image.fromarray(rgba, "RGBA")))
    assert abs(int(out[0, 0, 0]) - round(255 * (1 - 128 / 255))) <= 1


def test_16bit_grayscale_png_scaled_with_rounding(tmp_path):
    values = np.array([[0, 257, 32896, 65535, 1000, 40000, 128, 65000]] * 8, np.uint16)
    img = Image.fromarray(values)
    assert img.mode == "I;16"
    out = read_image(_save(tmp_path, "g16.png", img))
    expected = np.round(values.astype(np.float64) * 255 / 65535).astype(np.uint8)
    np.testing.assert_array_equal(out[..., 0], expected)
    np.testing.assert_array_equal(out[..., 2], expected)


def test_16bit_rgb_png_scaled_not_truncated(tmp_path):
    import cv2
    rgb16 = np.zeros((8, 8, 3), np.uint16)
    rgb16[..., 0], rgb16[..., 1], rgb16[..., 2] = 65535, 511, 32767  # R, G, B
    path = tmp_path / "rgb16.png"
    cv2.imwrite(str(path), rgb16[..., ::-1])  # cv2 writes BGR
    out = read_image(path)
    # 511 * 255 / 65535 = 1.99 -> 2, where keeping the high byte (Pillow's way) gives 1.
    np.testing.assert_array_equal(out[0, 0], [255, 2, 127])


def test_palette_with_transparency(tmp_path):
    pal = Image.fromarray(_gradient()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.info["transparency"] = 0
    path = _save(tmp_path, "p.png", pal, transparency=0)
    out = read_image(path)
    assert out.shape == (24, 32, 3) and out.dtype == np.uint8
    ref = np.asarray(Image.open(path).convert("RGBA"))
    transparent = ref[..., 3] == 0
    assert transparent.any()
    assert (out[transparent] == 255).all()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, orientation):
    img = Image.fromarray(_gradient(20, 30))
    exif = Image.Exif()
    exif[274] = orientation
    path = _save(tmp_path, "e.png", img, exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    np.testing.assert_array_equal(read_image(path), expected)


def test_exif_rotated_jpeg_tag_6(tmp_path):
    # A tall subject stored sideways: a camera held vertically writes orientation 6.
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, :10] = 255  # white band on the stored image's left edge
    exif = Image.Exif()
    exif[274] = 6
    path = _save(tmp_path, "r.jpg", Image.fromarray(img), exif=exif, quality=95)
    out = read_image(path)
    assert out.shape == (60, 40, 3)  # rotated 90 degrees clockwise for display
    assert out[:10].mean() > 200 and out[20:].mean() < 50  # left band is now on top


def test_truncated_jpeg(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
        buf, format="JPEG")
    path = tmp_path / "t.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageReadError, match="t.jpg: cannot decode") as err:
        read_image(path)
    assert "\n" not in str(err.value)


def test_text_file_empty_file_missing_file(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("this is not an image\n")
    with pytest.raises(ImageReadError, match="not an image"):
        read_image(txt)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty"):
        read_image(empty)
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.jpg")
    with pytest.raises(ImageReadError, match="not a file"):
        read_image(tmp_path)
    assert issubclass(ImageReadError, ValueError)


def test_too_small(tmp_path):
    path = _save(tmp_path, "one.png", Image.new("RGB", (1, 1)))
    with pytest.raises(ImageReadError, match="too small"):
        read_image(path)
    assert read_image(path, min_side=1).shape == (1, 1, 3)


def test_too_many_pixels_rejected_before_decoding(tmp_path):
    # 10000 x 10000 of one colour compresses to ~100 kB; built here, never committed.
    path = _save(tmp_path, "huge.png", Image.new("L", (10000, 10000)), optimize=False)
    with pytest.raises(ImageReadError, match="100.0 MP exceeds"):
        read_image(path)
    with pytest.raises(ImageReadError, match="exceeds"):
        read_image(_save(tmp_path, "mid.png", Image.new("RGB", (300, 300))), max_pixels=50_000)


def test_write_image_atomic_and_checked(tmp_path):
    rgb = _gradient()
    out = write_image(tmp_path / "sub" / "x.png", rgb)
    np.testing.assert_array_equal(read_image(out), rgb)
    assert sorted(os.listdir(tmp_path / "sub")) == ["x.png"]  # no temp file left behind
    write_image(tmp_path / "x.jpg", rgb)
    assert read_image(tmp_path / "x.jpg").shape == rgb.shape
    with pytest.raises(ValueError, match="suffix"):
        write_image(tmp_path / "x.xyz", rgb)
    with pytest.raises(ValueError, match="uint8"):
        write_image(tmp_path / "y.png", rgb.astype(np.float32))
    assert not (tmp_path / "y.png").exists()


def test_la_and_cmyk(tmp_path):
    la = np.zeros((8, 8, 2), np.uint8)
    la[..., 0], la[..., 1] = 100, 255
    la[0, 0, 1] = 0
    out = read_image(_save(tmp_path, "la.png", Image.fromarray(la, "LA")))
    assert out[1, 1].tolist() == [100, 100, 100] and out[0, 0].tolist() == [255, 255, 255]
    cmyk = Image.fromarray(_gradient()).convert("CMYK")
    out = read_image(_save(tmp_path, "c.jpg", cmyk, quality=95))
    assert out.shape == (24, 32, 3)
    assert np.abs(out.astype(int) - _gradient().astype(int)).mean() < 12
