"""dlib's face-recognition ResNet in torch, against dlib's own descriptors (the reference)."""

import numpy as np
import pytest
import torch
from PIL import Image

from fsr.assets import resolve
from fsr.metrics import MetricError
from fsr.metrics.dlib_resnet_arch import CHIP_PADDING, CHIP_SIZE, DlibFaceResNet, read_dlib_resnet

dlib = pytest.importorskip("dlib")  # a project dependency: present on every clone


@pytest.fixture(scope="module")
def weights():
    return resolve("dlib-resnet")


@pytest.fixture(scope="module")
def net(weights):
    return DlibFaceResNet(weights)


@pytest.fixture(scope="module")
def chips(photos):
    """dlib's 150 px chips of 6 real faces at 128 and 256 px (HOG box + 5 points)."""
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(resolve("dlib-sp5")))
    out = []
    for name in ("obama-0", "obama2-0", "biden-0"):
        for side in (128, 256):
            img = np.asarray(photos.photo(name).resize((side, side), Image.BICUBIC))
            box = max(detector(img, 1), key=lambda r: r.area())
            out.append(dlib.get_face_chip(img, predictor(img, box), size=CHIP_SIZE,
                                          padding=CHIP_PADDING))
    return out


def as_tensor(chips):
    return torch.from_numpy(np.stack(chips)).permute(0, 3, 1, 2).float()


def test_matches_dlib_descriptors(net, chips, weights):
    encoder = dlib.face_recognition_model_v1(str(weights))
    reference = np.stack([np.asarray(encoder.compute_face_descriptor(c)) for c in chips])
    with torch.inference_mode():
        ours = net(as_tensor(chips)).numpy()
    # measured: 3.3e-7 on these faces (descriptors are ~0.4 at most)
    np.testing.assert_allclose(ours, reference, atol=2e-6)
    # the calibrated same-person distance keeps its meaning: obama-obama2 < 0.6 < obama-biden
    dist = np.linalg.norm(ours[0] - ours[2]), np.linalg.norm(ours[0] - ours[4])
    assert dist[0] < 0.6 < dist[1]


def test_batch_layout_and_gradients(net, chips):
    x = as_tensor(chips)
    with torch.inference_mode():
        alone = torch.cat([net(x[i:i + 1]) for i in range(len(x))])
        together = net(x.contiguous(memory_format=torch.channels_last))
    assert together.shape == (len(chips), 128) and together.dtype == torch.float32
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)
    y = x[:1].clone().requires_grad_(True)  # weights frozen, but the input gets a gradient
    net(y).sum().backward()
    assert y.grad is not None and y.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in net.parameters())


def test_bad_input_size(net):
    with pytest.raises(MetricError, match=r"\(N, 3, 150, 150\)"):
        net(torch.zeros(1, 3, 128, 128))


def test_wrong_or_truncated_file(tmp_path, weights):
    data = open(weights, "rb").read()
    cut = tmp_path / "cut.dat"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MetricError, match="not dlib's 150 px face-recognition ResNet"):
        read_dlib_resnet(cut)
    with pytest.raises(MetricError, match="not dlib's 150 px"):
        read_dlib_resnet(resolve("dlib-sp5"))  # a dlib file, but a shape predictor
    with pytest.raises(MetricError, match="No such file"):
        read_dlib_resnet(tmp_path / "missing.dat")
