"""FFHQ 5-point alignment: template, similarity fit, warping and inverse."""

import cv2
import numpy as np
import pytest

from fsr.face.align import (
    FFHQ_TEMPLATE_512,
    AlignmentError,
    align_face,
    estimate_affine,
    face_template,
    invert_affine,
    rescale_affine,
    transform_points,
)


def _similar(points, angle, scale, shift):
    c, s = np.cos(angle), np.sin(angle)
    return points @ (scale * np.array([[c, -s], [s, c]])).T + shift


@pytest.mark.parametrize("size", [128, 256, 512])
def test_template_scales_with_size(size):
    tpl = face_template(size)
    np.testing.assert_allclose(tpl, FFHQ_TEMPLATE_512 * size / 512)
    assert tpl[0, 0] < tpl[2, 0] < tpl[1, 0]  # image-left eye, nose, image-right eye


@pytest.mark.parametrize("size", [128, 256, 512])
def test_affine_recovers_a_known_similarity(size):
    # Landmarks = template pushed through a similarity; the fit must undo it exactly.
    lm = _similar(face_template(512), 0.4, 0.3, np.array([40.0, 70.0]))
    affine = estimate_affine(lm, size)
    np.testing.assert_allclose(transform_points(affine, lm), face_template(size), atol=1e-3)
    back = transform_points(invert_affine(affine), face_template(size))
    np.testing.assert_allclose(back, lm, atol=1e-3)


def test_align_face_puts_marked_points_on_the_template():
    img = np.zeros((300, 400, 3), np.uint8)
    lm = _similar(face_template(512), -0.2, 0.35, np.array([120.0, 60.0]))
    for x, y in lm:  # draw a bright 3x3 dot at each landmark
        img[int(round(y)) - 1:int(round(y)) + 2, int(round(x)) - 1:int(round(x)) + 2] = 255
    crop, affine = align_face(img, lm, 256)
    assert crop.shape == (256, 256, 3) and crop.dtype == np.uint8 and affine.shape == (2, 3)
    gray = crop[..., 0].astype(float)
    for tx, ty in face_template(256):
        patch = gray[int(ty) - 4:int(ty) + 5, int(tx) - 4:int(tx) + 5]
        assert patch.max() > 100  # the dot landed within a few pixels of its template spot


def test_landmarks_may_lie_outside_the_image():
    img = np.full((100, 100, 3), 50, np.uint8)
    lm = _similar(face_template(512), 0.0, 0.25, np.array([-40.0, -30.0]))  # partly outside
    crop, _ = align_face(img, lm, 128, border="replicate")
    assert crop.shape == (128, 128, 3) and (crop == 50).all()
    crop, affine = align_face(img, lm, 128)  # default: facexlib's grey outside the photo
    x, y = transform_points(invert_affine(affine), [[0, 0]])[0]
    assert x < 0 and y < 0 and tuple(crop[0, 0]) == (132, 133, 135)


def test_bad_landmarks():
    with pytest.raises(AlignmentError, match=r"must be \(5, 2\)"):
        estimate_affine(np.zeros((4, 2)))
    with pytest.raises(AlignmentError, match="NaN"):
        estimate_affine(np.full((5, 2), np.nan))
    with pytest.raises(AlignmentError, match="degenerate"):
        estimate_affine(np.ones((5, 2)))
    with pytest.raises(AlignmentError, match="size"):
        face_template(4)
    with pytest.raises(ValueError, match="border"):
        align_face(np.zeros((50, 50, 3), np.uint8), face_template(50) , 50, border="wrap")
    assert estimate_affine(face_template(512).reshape(10), 512).shape == (2, 3)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_rescale_affine_matches_cv2_resize_pixel_centres(scale):
    # A point found in the original maps, through rescale_affine, onto the same content in an
    # image resized by cv2 (pixel-centre convention): check with a single bright pixel.
    img = np.zeros((40, 40), np.float32)
    img[17, 23] = 1.0
    big = cv2.resize(img, (40 * scale, 40 * scale), interpolation=cv2.INTER_LINEAR)
    identity = np.array([[1.0, 0, 0], [0, 1, 0]])
    x, y = transform_points(rescale_affine(identity, dst_scale=scale), [[23, 17]])[0]
    ys, xs = np.nonzero(big == big.max())
    assert abs(xs.mean() - x) < 0.51 and abs(ys.mean() - y) < 0.51
    np.testing.assert_allclose(rescale_affine(rescale_affine(identity, dst_scale=scale),
                                              src_scale=scale), identity, atol=1e-12)
