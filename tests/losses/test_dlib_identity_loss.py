"""DlibIdentityLoss against dlib itself: its chips against dlib.get_face_chip, its value against
the benchmark's dlib distance (IdentitySimilarity), gradients and bad input."""

from pathlib import Path

import numpy as np
import pytest
import torch
from basicsr.losses import build_loss
from PIL import Image

import fsr.models  # noqa: F401  (registers the losses)
from fsr.assets import resolve
from fsr.metrics.dlib_resnet_arch import CHIP_PADDING, CHIP_SIZE
from fsr.metrics.identity import IdentitySimilarity

dlib = pytest.importorskip("dlib")  # a project dependency: present on every clone

CROPS = Path(__file__).resolve().parents[2] / "samples" / "crops"
NAMES = ("audrey-0", "Justin-Bieber2_crop-0", "obama-0")


def _faces(angle: float = 0.0) -> list[np.ndarray]:
    """Three real sample crops at 128 px, optionally turned in the image plane."""
    out = []
    for name in NAMES:
        img = Image.open(CROPS / f"{name}.png").convert("RGB").resize((128, 128), Image.BICUBIC)
        out.append(np.asarray(img.rotate(angle, resample=Image.BICUBIC)))
    return out


def _batch(imgs) -> torch.Tensor:
    return torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float() / 255


def _blurred(gt: torch.Tensor, seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    out = torch.nn.functional.avg_pool2d(gt, 3, 1, 1, count_include_pad=False)
    return ((out + 0.03 * torch.randn_like(out)).clamp(0, 1) * 255).round() / 255


@pytest.fixture(scope="module")
def loss():
    return build_loss({"type": "DlibIdentityLoss", "loss_weight": 1.0})


@pytest.mark.parametrize("angle", [0.0, 20.0])
def test_chips_match_dlib_get_face_chip(loss, angle):
    imgs = _faces(angle)
    chips = torch.nn.functional.grid_sample(_batch(imgs), loss.chip_grid(_batch(imgs)),
                                            align_corners=True) * 255
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(resolve("dlib-sp5")))
    for img, chip in zip(imgs, chips, strict=True):
        box = max(detector(img, 1), key=lambda r: r.area())
        ref = dlib.get_face_chip(img, predictor(img, box), size=CHIP_SIZE, padding=CHIP_PADDING)
        diff = np.abs(chip.permute(1, 2, 0).numpy() - ref.astype(np.float32))
        # bilinear both; dlib rounds to uint8, so about half a grey level on average
        assert diff.mean() < 1.0 and np.percentile(diff, 99) < 4


def test_value_is_the_benchmarks_dlib_distance(loss):
    gt = _batch(_faces())
    pred = _blurred(gt)
    metric = IdentitySimilarity(backend="dlib", statistic="distance")
    expected = metric(pred, gt).mean().item()
    # the metric places the prediction's chip by its own landmarks, the loss by the target's
    assert loss(pred, gt).item() == pytest.approx(expected, abs=0.02)
    assert loss(gt, gt).item() == pytest.approx(0.0, abs=1e-6)
    half = build_loss({"type": "DlibIdentityLoss", "loss_weight": 0.5})
    assert half(pred, gt).item() == pytest.approx(0.5 * loss(pred, gt).item(), rel=1e-5)


def test_gradients_reach_the_prediction_only(loss):
    gt = _batch(_faces())
    pred = _blurred(gt).requires_grad_(True)
    value = loss(pred, gt)
    value.backward()
    grad = pred.grad.abs().sum(dim=1)
    assert grad.sum() > 0
    # the chip covers the face, not the corners of the crop
    assert grad[:, :4, :4].sum() == 0 and grad[:, 48:80, 48:80].sum() > 0
    assert not any(p.requires_grad for p in loss.net.parameters())
    loss.train()
    assert not loss.net.training
    # a step down the gradient brings the descriptors closer
    with torch.no_grad():
        stepped = pred - 1e-4 * pred.grad / pred.grad.abs().max() * 255
    assert loss(stepped, gt).item() < value.item()


def test_faceless_target_uses_the_whole_image(loss):
    flat = torch.full((1, 3, 64, 64), 0.5)
    other = flat + 0.1 * torch.rand_like(flat)
    assert torch.isfinite(loss(other, flat))


@pytest.mark.parametrize("pred_shape, gt_shape", [((1, 3, 64, 64), (1, 3, 32, 32)),
                                                  ((1, 1, 64, 64), (1, 1, 64, 64)),
                                                  ((3, 64, 64), (3, 64, 64))])
def test_bad_shapes_raise(loss, pred_shape, gt_shape):
    with pytest.raises(ValueError, match="DlibIdentityLoss wants"):
        loss(torch.rand(pred_shape), torch.rand(gt_shape))
