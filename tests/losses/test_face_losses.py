"""LPIPSLoss, ArcFaceIdentityLoss (stand-in weights) and ReDegradationLoss."""

import numpy as np
import pytest
import torch
from basicsr.losses import build_loss

import fsr.models  # noqa: F401  (registers the losses)
from fsr.data.blind_params import apply_blind, blind_params
from fsr.data.degradations import resize
from fsr.metrics.arcface_arch import ResNetArcFace


def _smooth(seed, size=64, batch=1):
    rng = np.random.default_rng(seed)
    imgs = [resize(rng.random((8, 8, 3), dtype=np.float32), (size, size)) for _ in range(batch)]
    return torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous()


def test_lpips_loss_gradients_and_range():
    loss = build_loss({"type": "LPIPSLoss", "net": "alex", "loss_weight": 2.0})
    gt = _smooth(0, batch=2)
    pred = (gt + 0.2 * torch.randn_like(gt)).requires_grad_(True)
    value = loss(pred, gt)
    assert value.ndim == 0 and value > 0
    value.backward()
    assert pred.grad.abs().sum() > 0
    assert loss(gt, gt).item() == pytest.approx(0.0, abs=1e-6)
    # outputs beyond [0, 1] (early training) are clamped, not rejected
    assert torch.isfinite(loss(gt * 3 - 1, gt))
    loss.train()
    assert not loss.lpips.training
    assert not any(p.requires_grad for p in loss.lpips.parameters())


def test_identity_loss_with_stand_in_weights(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "arcface_resnet18.pth"
    torch.save(ResNetArcFace().state_dict(), path)  # GFPGAN's raw state-dict layout
    loss = build_loss({"type": "ArcFaceIdentityLoss", "loss_weight": 1.0, "weights": str(path)})
    loss.train()
    assert not loss.arcface.training
    gt = _smooth(1, size=128, batch=2)
    pred = gt.clone().requires_grad_(True)
    assert loss(pred, gt).item() == pytest.approx(0.0, abs=1e-6)
    other = _smooth(2, size=128, batch=2).requires_grad_(True)
    value = loss(other, gt)
    assert value > 0
    value.backward()
    assert other.grad.abs().sum() > 0


def test_identity_loss_without_weights_raises(tmp_path, monkeypatch):
    from fsr.archs.checkpoint import CheckpointError

    bad = tmp_path / "bad.pth"
    torch.save({"conv.weight": torch.zeros(1)}, bad)
    with pytest.raises(CheckpointError):
        build_loss({"type": "ArcFaceIdentityLoss", "weights": str(bad)})


def _deg_batch(gt_np, seeds, **ranges):
    """lq and deg_* tensors as the blind datasets return them."""
    side = int(np.ceil(gt_np[0].shape[0] / ranges.get("downscale", (0.8, 8))[0])) + 1
    lqs, params, noises = [], [], []
    for img, seed in zip(gt_np, seeds, strict=True):
        p = blind_params(img.shape[:2], seed, **ranges)
        lqs.append(apply_blind(img, p))
        noise = np.zeros((3, side, side), np.float32)
        noise[:, :p["lr_size"][0], :p["lr_size"][1]] = p["noise"].transpose(2, 0, 1)
        params.append(p)
        noises.append(noise)
    lq = torch.from_numpy(np.stack(lqs)).permute(0, 3, 1, 2).contiguous()
    deg = {"deg_kernel": torch.from_numpy(np.stack([p["kernel"] for p in params])),
           "deg_scale": torch.tensor([p["scale"] for p in params]),
           "deg_lr_size": torch.tensor([p["lr_size"] for p in params]),
           "deg_noise": torch.from_numpy(np.stack(noises)),
           "deg_jpeg": torch.tensor([p["jpeg"] for p in params])}
    return lq, deg


@pytest.mark.parametrize("downscale", [(2.0, 6.0), (0.8, 0.95)])
def test_redegradation_replays_the_sampled_degradation(downscale):
    gt = _smooth(3, size=64, batch=2)
    gt_np = [g.permute(1, 2, 0).numpy().copy() for g in gt]
    lq, deg = _deg_batch(gt_np, [11, 12], downscale=downscale, noise=(2.0, 5.0))
    loss = build_loss({"type": "ReDegradationLoss", "loss_weight": 1.0})
    at_gt = loss(gt, lq, deg)
    # the torch replay differs from the OpenCV pipeline only at borders / rounding
    assert at_gt < 0.02
    wrong = _smooth(4, size=64, batch=2).requires_grad_(True)
    at_wrong = loss(wrong, lq, deg)
    assert at_wrong > 3 * at_gt
    at_wrong.backward()
    assert wrong.grad.abs().sum() > 0
