"""Self-supervised terms: zero at the ground truth, gradients, straight-through JPEG, errors."""

import cv2
import numpy as np
import pytest
import torch

from fsr.losses.selfsup import (
    SelfSupError,
    feature_stats_loss,
    make_degradation,
    redegradation_loss,
    self_supervised_loss,
    straight_through,
)


def _gaussian(k: int = 7, sigma: float = 1.5) -> torch.Tensor:
    ax = torch.arange(k) - k // 2
    g = torch.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def _real_jpeg(quality: int):
    """OpenCV JPEG round trip on a (b, 3, h, w) [0, 1] batch: deterministic, not differentiable."""
    def jpeg(x: torch.Tensor) -> torch.Tensor:
        out = []
        for img in x.detach().clamp(0, 1).permute(0, 2, 3, 1).numpy():
            ok, buf = cv2.imencode(".jpg", (img * 255).round().astype(np.uint8),
                                   [cv2.IMWRITE_JPEG_QUALITY, quality])
            out.append(torch.from_numpy(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)).float() / 255)
        return torch.stack(out).permute(0, 3, 1, 2)
    return jpeg


@pytest.fixture
def gt() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 3, 64, 64)


def test_zero_at_ground_truth_with_fixed_degradation(gt):
    noise = torch.randn(2, 3, 16, 16) * 0.03  # sampled once, replayed on every call
    degrade = make_degradation(_gaussian(), scale=4.0, noise=noise,
                               jpeg=straight_through(_real_jpeg(70)), out_size=64)
    lq = degrade(gt)
    assert lq.shape == gt.shape
    assert redegradation_loss(gt, lq, degrade).item() == 0.0
    for crit in ("l2", "charbonnier"):
        assert redegradation_loss(gt, lq, degrade, criterion=crit).item() == pytest.approx(0, abs=1e-6)
    # a restoration that adds detail the input cannot support is penalised
    fantasy = (gt + 0.3 * torch.randn_like(gt).sign() * (torch.rand_like(gt) > 0.9)).clamp(0, 1)
    blurred = torch.nn.functional.avg_pool2d(gt, 9, 1, 4, count_include_pad=False)
    assert redegradation_loss(fantasy, lq, degrade) > 0
    assert redegradation_loss(blurred, lq, degrade) > 0


def test_gradients_flow_through_degradation_and_jpeg(gt):
    degrade = make_degradation(_gaussian(), scale=2.0, jpeg=straight_through(_real_jpeg(60)),
                               out_size=64)
    lq = degrade(gt)
    restored = (gt.flip(-1) * 0.8 + 0.1).requires_grad_()
    loss = redegradation_loss(restored, lq, degrade)
    loss.backward()
    assert loss.item() > 0 and torch.isfinite(restored.grad).all() and restored.grad.abs().sum() > 0


def test_upsampling_scale_below_one(gt):
    noise = torch.randn(1, 3, 80, 80) * 0.02
    degrade = make_degradation(_gaussian(), scale=0.8, noise=noise, out_size=64)
    lq = degrade(gt)
    assert lq.shape == gt.shape and redegradation_loss(gt, lq, degrade).item() == 0.0


def test_per_sample_kernels(gt):
    kernels = torch.stack([_gaussian(5, 0.8), _gaussian(5, 2.0)])
    out = make_degradation(kernels, scale=1.0)(gt)
    one = make_degradation(kernels[1], scale=1.0)(gt[1:])
    assert torch.allclose(out[1:], one, atol=1e-6)
    assert not torch.allclose(out[:1], make_degradation(kernels[1], 1.0)(gt[:1]))


def test_straight_through_passes_identity_gradient():
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    y = straight_through(lambda t: torch.round(t * 4) / 4)(x)
    assert torch.equal(y, torch.round(x.detach() * 4) / 4)
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_feature_stats_term():
    torch.manual_seed(0)
    feats = [torch.randn(2, 8, 16, 16), torch.randn(2, 16, 8, 8)]
    assert feature_stats_loss(feats, [f.clone() for f in feats]).item() == pytest.approx(0, abs=1e-6)
    # statistics, not positions: a spatially shuffled map has the same statistics
    assert feature_stats_loss(feats[0], feats[0].flip(-1)).item() == pytest.approx(0, abs=1e-5)
    moved = [(f * 2 + 1).requires_grad_() for f in feats]
    loss = feature_stats_loss(moved, feats)
    loss.backward()
    assert loss.item() > 1 and all(m.grad.abs().sum() > 0 for m in moved)


def test_combined_loss_and_bad_inputs(gt):
    degrade = make_degradation(_gaussian(), scale=2.0, out_size=64)
    lq = degrade(gt)
    feats = torch.randn(2, 4, 8, 8)
    out = self_supervised_loss(gt, lq, degrade, feats, feats * 1.5, feat_weight=0.5)
    assert set(out) == {"redeg", "feat", "total"}
    assert torch.allclose(out["total"], out["redeg"] + 0.5 * out["feat"])
    with pytest.raises(SelfSupError, match="shapes differ"):
        redegradation_loss(gt, lq[:, :, :32], degrade)
    with pytest.raises(ValueError, match="odd k"):
        make_degradation(torch.ones(4, 4) / 16, scale=2.0)
    with pytest.raises(ValueError, match="scale"):
        make_degradation(_gaussian(), scale=0.0)
    with pytest.raises(ValueError, match="2 kernels for a batch of 1"):
        make_degradation(torch.stack([_gaussian()] * 2), 1.0)(gt[:1])
    with pytest.raises(ValueError, match="both"):
        self_supervised_loss(gt, lq, degrade, feats=feats)
