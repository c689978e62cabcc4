"""MTCNN in plain torch with facenet-pytorch's state dicts (assets mtcnn-pnet/rnet/onet)."""

import numpy as np
import pytest
import torch

from fsr.face.detect_mtcnn import MTCNNDetector, ONet, PNet, RNet


@pytest.fixture(scope="module")
def mtcnn():
    return MTCNNDetector()


def test_modules_match_state_dict_layout():
    from fsr.assets import resolve

    for net, name in ((PNet(), "pnet"), (RNet(), "rnet"), (ONet(), "onet")):
        state = torch.load(resolve(f"mtcnn-{name}"), map_location="cpu", weights_only=True)
        ours = net.state_dict()
        assert ours.keys() == state.keys()
        assert all(ours[k].shape == state[k].shape for k in ours)


def test_net_output_shapes():
    deltas, prob = PNet()(torch.zeros(1, 3, 30, 40))
    assert deltas.shape == (1, 4, 10, 15) and prob.shape == (1, 2, 10, 15)
    deltas, prob = RNet()(torch.zeros(3, 3, 24, 24))
    assert deltas.shape == (3, 4) and prob.shape == (3, 2)
    deltas, points, prob = ONet()(torch.zeros(2, 3, 48, 48))
    assert deltas.shape == (2, 4) and points.shape == (2, 10) and prob.shape == (2, 2)
    torch.testing.assert_close(prob.sum(1), torch.ones(2))


def test_finds_the_astronaut_with_ordered_landmarks(mtcnn, astronaut):
    dets = mtcnn.detect_rgb(astronaut)
    assert dets.dtype == np.float32 and dets.shape == (1, 15)
    x1, y1, x2, y2, score = dets[0, :5]
    assert score > 0.99
    # By eye, her face spans about x 175-270, y 60-180 in the 512x512 image.
    assert 160 < x1 < 200 and 250 < x2 < 290 and 40 < y1 < 90 and 160 < y2 < 200
    (lex, ley), (rex, rey), (nx, ny), (mlx, mly), (mrx, mry) = dets[0, 5:].reshape(5, 2)
    assert lex < nx < rex and mlx < mrx  # image-left first, facexlib's order
    assert max(ley, rey) < ny < min(mly, mry)  # eyes above nose above mouth


def test_bgr_input_is_what_facexlib_passes(mtcnn, astronaut):
    rgb = mtcnn.detect_rgb(astronaut)
    bgr = mtcnn.detect_faces(np.ascontiguousarray(astronaut[..., ::-1]), 0.9)
    np.testing.assert_allclose(rgb, bgr)


def test_no_face_and_tiny_images(mtcnn):
    rng = np.random.default_rng(0)
    assert mtcnn.detect_faces(np.full((200, 300, 3), 128, np.uint8)).shape == (0, 15)
    assert mtcnn.detect_faces(rng.integers(0, 255, (120, 160, 3), np.uint8)).shape == (0, 15)
    assert mtcnn.detect_faces(np.zeros((1, 1, 3), np.uint8)).shape == (0, 15)
    assert mtcnn.detect_faces(np.zeros((11, 40, 3), np.uint8)).shape == (0, 15)


def test_face_cut_by_the_border_still_found(mtcnn, astronaut):
    # Crop so the left third of her face is outside the image: zero-padded crops must cope.
    crop = np.ascontiguousarray(astronaut[:300, 205:])
    dets = mtcnn.detect_rgb(crop, 0.8)
    assert len(dets) >= 1 and dets[0, 0] < 5


def test_bad_arguments():
    with pytest.raises(ValueError, match="min_face"):
        MTCNNDetector(min_face=8)
    with pytest.raises(ValueError, match="factor"):
        MTCNNDetector(factor=1.2)
