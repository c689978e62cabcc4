"""PSNR / SSIM: BasicSR's numpy functions on real photos are the reference."""

import numpy as np
import pytest
import torch

from fsr.metrics import MetricError, create_metric
from fsr.metrics.psnr_ssim import gaussian_window, psnr, rgb_to_y, ssim

# Measured max |ours - BasicSR| on these images: RGB ~1e-14 (same float64 arithmetic);
# Y channel 7.6e-7 dB / 5.4e-9 (BasicSR's to_y_channel rounds through float32).
TOL = {False: (1e-9, 1e-9), True: (1e-5, 1e-7)}


def _basicsr(pred, gt, crop, y):
    from basicsr.metrics.psnr_ssim import calculate_psnr, calculate_ssim

    out_p, out_s = [], []
    for a, b in zip(pred, gt, strict=True):
        # BasicSR takes HWC on [0, 255]; its Y conversion expects BGR
        a = (a.permute(1, 2, 0).numpy() * 255.0)[..., ::-1]
        b = (b.permute(1, 2, 0).numpy() * 255.0)[..., ::-1]
        out_p.append(calculate_psnr(a, b, crop, test_y_channel=y))
        out_s.append(calculate_ssim(a, b, crop, test_y_channel=y))
    return np.array(out_p), np.array(out_s)


@pytest.mark.parametrize("y", [False, True])
@pytest.mark.parametrize("crop", [0, 4])
def test_psnr_ssim_match_basicsr(real_pairs, y, crop):
    pred, gt = real_pairs
    # float predictions (not k/255) as a network would produce
    noise = 0.01 * torch.randn(pred.shape, generator=torch.Generator().manual_seed(0),
                               dtype=pred.dtype)
    for p in (pred, (pred + noise).clamp(0, 1)):
        ref_p, ref_s = _basicsr(p, gt, crop, y)
        ours_p = psnr(p, gt, crop_border=crop, test_y_channel=y).numpy()
        ours_s = ssim(p, gt, crop_border=crop, test_y_channel=y).numpy()
        assert np.abs(ours_p - ref_p).max() < TOL[y][0]
        assert np.abs(ours_s - ref_s).max() < TOL[y][1]
        assert 20 < ref_p.min() and ref_s.max() < 0.999  # a real range, not trivial pairs


def test_float32_input_and_batch_independence(real_pairs):
    pred, gt = real_pairs
    full = psnr(pred.float(), gt.float())
    single = torch.cat([psnr(pred[i:i + 1].float(), gt[i:i + 1].float()) for i in range(3)])
    assert full.shape == (len(pred),) and full.dtype == torch.float64
    assert torch.allclose(full[:3], single, rtol=0, atol=1e-12)
    assert (full - psnr(pred, gt)).abs().max() < 1e-4  # float32 inputs: k/255 rounding


def test_identical_images():
    x = torch.rand(2, 3, 32, 32)
    assert torch.isinf(psnr(x, x)).all()  # BasicSR returns inf for mse == 0
    assert torch.equal(psnr(x, x, max_db=100.0), torch.full((2,), 100.0, dtype=torch.float64))
    assert torch.allclose(ssim(x, x), torch.ones(2, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(ssim(x, x, test_y_channel=True), torch.ones(2, dtype=torch.float64))


def test_known_values():
    gt = torch.zeros(1, 3, 16, 16, dtype=torch.float64)
    pred = torch.full((1, 3, 16, 16), 1.0 / 255, dtype=torch.float64)  # mse 1 on [0, 255]
    assert psnr(pred, gt).item() == pytest.approx(20 * np.log10(255.0), abs=1e-9)
    # Y of white is 235, of black 16 (BT.601 studio range)
    y = rgb_to_y(torch.stack([torch.ones(3, 1, 1), torch.zeros(3, 1, 1)]).double())
    assert y.flatten().tolist() == pytest.approx([235.0, 16.0])
    import cv2

    k = cv2.getGaussianKernel(11, 1.5)
    assert np.abs(gaussian_window().numpy() - k @ k.T).max() < 1e-15


def test_gradients_flow():
    gt = torch.rand(1, 3, 24, 24)
    pred = torch.rand(1, 3, 24, 24, requires_grad=True)
    (psnr(pred, gt) + ssim(pred, gt)).sum().backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


@pytest.mark.parametrize("pred, gt, match", [
    (torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 17), "differ in shape"),
    (torch.rand(3, 16, 16), torch.rand(3, 16, 16), r"\(N, 3, H, W\)"),
    (torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16), r"\(N, 3, H, W\)"),
    (torch.randint(0, 255, (1, 3, 16, 16)), torch.randint(0, 255, (1, 3, 16, 16)), "float"),
    (torch.rand(1, 3, 16, 16) * 255, torch.rand(1, 3, 16, 16), r"\[0, 1\]"),
    (torch.full((1, 3, 16, 16), float("nan")), torch.rand(1, 3, 16, 16), "NaN"),
    (np.zeros((1, 3, 16, 16)), torch.rand(1, 3, 16, 16), "torch.Tensor"),
])
def test_bad_input(pred, gt, match):
    with pytest.raises(MetricError, match=match):
        psnr(pred, gt)
    assert issubclass(MetricError, ValueError)


def test_ssim_too_small_and_bad_crop():
    with pytest.raises(MetricError, match="at least 11x11"):
        ssim(torch.rand(1, 3, 10, 10), torch.rand(1, 3, 10, 10))
    with pytest.raises(MetricError, match="at least 11x11"):
        ssim(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), crop_border=3)
    with pytest.raises(MetricError, match="crop_border"):
        psnr(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), crop_border=-1)


def test_table_rows_build_the_same_numbers(real_pairs):
    pred, gt = real_pairs
    for name, fn, y in [("psnr", psnr, False), ("psnr-y", psnr, True), ("ssim", ssim, False),
                        ("ssim-y", ssim, True)]:
        metric = create_metric(name)
        assert metric.metric_name == name and metric.lower_better is False
        assert torch.equal(metric(pred[:2], gt[:2]), fn(pred[:2], gt[:2], test_y_channel=y))
    assert create_metric("psnr", max_db=60.0).max_db == 60.0
