"""pyiqa as an independent check of fsr's own PSNR / SSIM / NIQE, on real crops of samples/.

Conventions (docs/metrics.md): fsr's psnr/ssim follow BasicSR (RGB on [0, 255], float64, SSIM
per channel then mean); pyiqa's 'psnr' is RGB too, its 'ssimc' is per channel RGB and its
'ssim' / 'psnry' use the Y of YCbCr. fsr's 'niqe' is pyiqa's (Y of YIQ); 'niqe-basicsr' is
BasicSR's (Y of YCbCr), which pyiqa reproduces with color_space='ycbcr'.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from fsr.metrics import create_metric

# pyiqa is the optional `iqa` extra (PolyForm Noncommercial); `uv run` has it (dev group)
pyiqa = pytest.importorskip("pyiqa", reason="pyiqa not installed (the iqa extra)")

CROPS = Path(__file__).resolve().parents[2] / "samples" / "crops"
NAMES = ("audrey-0", "Justin-Bieber2_crop-0", "bieber_small-0", "obama-0")


def _batch(images) -> torch.Tensor:
    arr = np.stack([np.asarray(im) for im in images])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).double() / 255.0


@pytest.fixture(scope="module")
def crops():
    return [Image.open(CROPS / f"{n}.png").convert("RGB").resize((256, 256), Image.BICUBIC)
            for n in NAMES]


@pytest.fixture(scope="module")
def pairs(crops):
    preds = [c.resize((64, 64), Image.BICUBIC).resize((256, 256), Image.BICUBIC) for c in crops]
    preds += [c.filter(ImageFilter.GaussianBlur(1.5)) for c in crops]
    return _batch(preds), _batch(crops + crops)


# pyiqa's Y defaults to YIQ (full range); fsr's -y rows are BasicSR's BT.601 YCbCr Y (16..235),
# which is pyiqa's color_space='ycbcr'. With YIQ, psnr-y reads ~1.3 dB lower (219/255 range).
YCBCR = {"color_space": "ycbcr"}


@pytest.mark.parametrize("fsr_name,pyiqa_name,options,tol", [
    ("psnr", "psnr", {}, 5e-4), ("psnr-y", "psnry", YCBCR, 1e-3),
    ("ssim", "ssimc", {}, 2e-3), ("ssim-y", "ssim", YCBCR, 2e-3),
])
def test_fsr_psnr_ssim_agree_with_pyiqa(pairs, fsr_name, pyiqa_name, options, tol):
    from fsr.metrics.pyiqa_engine import PyiqaMetric

    pred, gt = pairs
    ours = create_metric(fsr_name)(pred, gt).double()
    theirs = PyiqaMetric(pyiqa_name, mode="FR", options=options)(pred.float(), gt.float())
    assert ours.shape == theirs.shape == (len(pred),)
    assert torch.allclose(ours, theirs, atol=tol, rtol=0), (ours, theirs)


def test_niqe_pyiqa_agrees_with_basicsr_on_ycbcr(crops):
    """Same params (pyiqa's .mat converted from BasicSR's .npz), same algorithm: pyiqa in
    YCbCr and BasicSR agree within 3 % (pyiqa keeps Y unrounded, BasicSR rounds to integers);
    the YIQ default used by the challenge differs a little more."""
    from fsr.metrics.pyiqa_engine import PyiqaMetric

    imgs = _batch(crops).float()
    basicsr = create_metric("niqe-basicsr")(imgs)
    pyiqa_ycbcr = PyiqaMetric("niqe", weights=dict(create_metric("niqe").spec.kwargs["weights"]),
                              options={"color_space": "ycbcr"})(imgs)
    assert torch.all((pyiqa_ycbcr - basicsr).abs() / basicsr < 0.03), (pyiqa_ycbcr, basicsr)
    yiq = create_metric("niqe")(imgs)
    assert torch.all((yiq - basicsr).abs() / basicsr < 0.10), (yiq, basicsr)
    # and NIQE ranks a blurred face worse than the sharp one, with both engines
    blurred = _batch([c.filter(ImageFilter.GaussianBlur(3)) for c in crops]).float()
    assert torch.all(create_metric("niqe")(blurred) > yiq)
