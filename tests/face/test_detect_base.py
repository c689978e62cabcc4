"""Shared detector pieces: torch NMS, the (K, 15) format, input checks."""

import numpy as np
import pytest
import torch

from fsr.face.detect_base import (
    FaceDetectionError,
    FaceDetector,
    as_uint8_image,
    box_iou,
    empty_detections,
    nms,
    pack_detections,
)


def _random_boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 200
    wh = torch.rand(n, 2, generator=g) * 60 + 4
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=g)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_nms_equals_torchvision(seed, thr):
    import torchvision
    boxes, scores = _random_boxes(300, seed)
    ours = nms(boxes, scores, thr)
    ref = torchvision.ops.nms(boxes, scores, thr)
    assert ours.tolist() == ref.tolist()


def test_nms_min_mode_suppresses_nested_box():
    boxes = torch.tensor([[0.0, 0, 100, 100], [10, 10, 40, 40], [200, 200, 250, 250]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    assert nms(boxes, scores, 0.7).tolist() == [0, 1, 2]  # IoU 0.09: kept by union NMS
    assert nms(boxes, scores, 0.7, mode="min").tolist() == [0, 2]  # fully inside: dropped
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).numel() == 0
    with pytest.raises(ValueError, match="mode"):
        box_iou(boxes, boxes, mode="max")


def test_box_iou_values():
    a = torch.tensor([[0.0, 0, 2, 2]])
    b = torch.tensor([[1.0, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]])
    np.testing.assert_allclose(box_iou(a, b)[0].numpy(), [1 / 7, 1.0, 0.0], atol=1e-6)


def test_pack_detections_sorted_float32():
    boxes = np.array([[0, 0, 10, 10], [5, 5, 20, 20]], float)
    pts = np.arange(20, dtype=float).reshape(2, 5, 2)
    out = pack_detections(boxes, np.array([0.2, 0.9]), pts)
    assert out.shape == (2, 15) and out.dtype == np.float32
    assert out[0, 4] == pytest.approx(0.9) and out[0, 5] == 10  # second face first
    assert empty_detections().shape == (0, 15)
    assert pack_detections(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))).shape == (0, 15)


def test_as_uint8_image_checks():
    assert as_uint8_image(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)  # gray -> 3 channels
    assert as_uint8_image(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)  # alpha dropped
    out = as_uint8_image(np.full((2, 2, 3), 65535, np.uint16))
    assert out.dtype == np.uint8 and out.max() == 255
    assert as_uint8_image(np.full((2, 2, 3), 300.0)).max() == 255
    with pytest.raises(FaceDetectionError, match="numpy"):
        as_uint8_image([[1, 2]])
    with pytest.raises(FaceDetectionError, match="shape"):
        as_uint8_image(np.zeros((4, 5, 2), np.uint8))
    with pytest.raises(FaceDetectionError, match="empty"):
        as_uint8_image(np.zeros((0, 5, 3), np.uint8))


class _Fixed(FaceDetector):
    """A detector returning fixed rows, to test the threshold and the BGR -> RGB hand-over."""

    def __init__(self):
        self.seen = None

    def _detect(self, img_rgb, conf_threshold):
        self.seen = img_rgb
        return pack_detections(np.array([[0, 0, 4, 4], [1, 1, 5, 5]], float),
                               np.array([0.95, 0.6]), np.zeros((2, 5, 2)))


def test_base_threshold_and_channel_order():
    det = _Fixed()
    bgr = np.zeros((8, 8, 3), np.uint8)
    bgr[..., 0] = 255  # blue in BGR
    assert len(det.detect_faces(bgr, 0.9)) == 1
    assert det.seen[0, 0].tolist() == [0, 0, 255]  # the subclass sees RGB
    assert len(det.detect_faces(bgr)) == 2  # default threshold 0.5
    assert len(det.detect_rgb(bgr[..., ::-1], 0.5)) == 2
