"""Paste-back: masks, exact geometry at any upscale, border faces, many faces, parser mask."""

import cv2
import numpy as np
import pytest
import torch

from fsr.face.align import align_face, face_template
from fsr.face.paste import PasteError, ellipse_mask, paste_faces, square_mask, upsample_background


def _smooth_image(h=240, w=320, seed=0):
    """Smooth random texture: resampling it twice changes it little, misplacing it a lot."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (h // 8, w // 8, 3)).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _landmarks(scale, shift, angle=0.1):
    c, s = np.cos(angle), np.sin(angle)
    return face_template(512) @ (scale * np.array([[c, -s], [s, c]])).T + shift


def test_masks():
    for mask in (ellipse_mask(128), square_mask(128)):
        assert mask.shape == (128, 128) and mask.dtype == np.float32
        assert mask.min() >= 0 and mask.max() <= 1
        assert mask[64, 64] > 0.99 and mask[0, 0] < 0.01
    e = ellipse_mask(512)
    for x, y in face_template(512):  # every landmark is well inside the ellipse
        assert e[int(y), int(x)] > 0.99


@pytest.mark.parametrize("upscale,restored_scale", [(1, 1), (2, 1), (2, 4), (3, 2)])
def test_paste_back_is_geometrically_exact(upscale, restored_scale):
    img = _smooth_image()
    lm = _landmarks(0.3, np.array([90.0, 40.0]))
    crop, affine = align_face(img, lm, 128)
    # "Restoration" that only enlarges the crop: pasting it must reproduce the photo.
    restored = cv2.resize(crop, (128 * restored_scale,) * 2, interpolation=cv2.INTER_CUBIC)
    canvas = upsample_background(img, upscale)
    out = paste_faces(canvas, [restored], [affine], upscale=upscale, crop_size=128)
    assert out.shape == canvas.shape and out.dtype == np.uint8
    changed = np.abs(out.astype(int) - canvas.astype(int)).max(axis=2)
    face_box = changed > 0
    assert face_box.any()
    # Inside the face the pasted pixels equal the bicubic background up to resampling noise;
    # a half-pixel misplacement would give errors several times larger on this texture.
    assert changed.mean() < 1.5 and np.percentile(changed[face_box], 95) < 8


def test_half_pixel_error_would_be_detected():
    img = _smooth_image()
    crop, affine = align_face(img, _landmarks(0.3, np.array([90.0, 40.0])), 128)
    canvas = upsample_background(img, 2)
    shifted = affine.copy()
    shifted[:, 2] += 0.5 * 128 / (512 * 0.3) * 2  # one output pixel off
    good = paste_faces(canvas, [crop], [affine], upscale=2)
    bad = paste_faces(canvas, [crop], [shifted], upscale=2)
    err = lambda o: np.abs(o.astype(int) - canvas.astype(int)).mean()  # noqa: E731
    assert err(bad) > 1.5 * err(good)


def test_face_cut_by_border_and_face_outside():
    img = _smooth_image()
    lm = _landmarks(0.3, np.array([-60.0, -50.0]))  # face hangs over the top-left corner
    crop, affine = align_face(img, lm, 128)
    white = np.full_like(crop, 255)
    out = paste_faces(img, [white], [affine])
    assert (out[:10, :10] > 200).all() and (out[-20:, -20:] == img[-20:, -20:]).all()
    far = _landmarks(0.3, np.array([2000.0, 2000.0]))
    _, affine_far = align_face(img, far, 128)
    np.testing.assert_array_equal(paste_faces(img, [white], [affine_far]), img)


def test_many_faces_on_a_large_canvas():
    img = np.zeros((1200, 1600, 3), np.uint8)
    faces, affines = [], []
    for i in range(40):
        lm = _landmarks(0.15, np.array([40.0 + (i % 8) * 190, 30.0 + (i // 8) * 230]), angle=0)
        crop, affine = align_face(img, lm, 64)
        faces.append(np.full_like(crop, 200))
        affines.append(affine)
    out = paste_faces(upsample_background(img, 2), faces, affines, upscale=2, crop_size=64)
    for i in range(40):
        cx, cy = (40 + (i % 8) * 190 + 0.5 * 77) * 2, (30 + (i // 8) * 230 + 0.55 * 77) * 2
        assert out[int(cy), int(cx), 0] > 190


def test_bad_inputs_and_background_callables():
    img = _smooth_image()
    crop, affine = align_face(img, _landmarks(0.3, np.array([90.0, 40.0])), 64)
    with pytest.raises(PasteError, match="2 restored faces but 1"):
        paste_faces(img, [crop, crop], [affine])
    with pytest.raises(PasteError, match="square"):
        paste_faces(img, [crop[:, :32]], [affine])
    with pytest.raises(PasteError, match="mask"):
        paste_faces(img, [crop], [affine], mask="circle")
    with pytest.raises(PasteError, match="upscale"):
        upsample_background(img, 0)
    four_x = upsample_background(img, 2, upsampler=lambda x: cv2.resize(x, None, fx=4, fy=4))
    assert four_x.shape == (480, 640, 3)  # a 4x upsampler is resized to the asked 2x
    with pytest.raises(PasteError, match="upsampler returned"):
        upsample_background(img, 2, upsampler=lambda x: x[..., 0])
    float_crop = crop.astype(np.float32)
    np.testing.assert_array_equal(paste_faces(img, [float_crop], [affine]),
                                  paste_faces(img, [crop], [affine]))
    custom = paste_faces(img, [crop], [affine], mask=np.ones((10, 10), np.float32))
    assert custom.shape == img.shape


@pytest.mark.slow
def test_face_parser_with_standin_weights(tmp_path):
    from facexlib.parsing.parsenet import ParseNet

    from fsr.face.paste import FaceParser

    torch.manual_seed(0)
    path = tmp_path / "parsing_parsenet.pth"
    torch.save(ParseNet(in_size=512, out_size=512, parsing_ch=19).state_dict(), path)
    parser = FaceParser(weights=path)
    crop = _smooth_image(256, 256)
    mask = parser(crop)
    assert mask.shape == (256, 256) and mask.dtype == np.float32
    assert 0 <= mask.min() and mask.max() <= 1 and mask[:5].max() == 0  # black frame kept
    img = _smooth_image()
    face, affine = align_face(img, _landmarks(0.3, np.array([90.0, 40.0])), 256)
    assert paste_faces(img, [face], [affine], mask=parser).shape == img.shape
    bad = tmp_path / "bad.pth"
    torch.save({"w": torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match="not a ParseNet"):
        FaceParser(weights=bad)
