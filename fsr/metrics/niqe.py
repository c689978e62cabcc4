"""NIQE (Mittal et al. 2013), no-reference, via BasicSR's ``calculate_niqe``.

BasicSR ships the pristine-model parameters (``basicsr/metrics/niqe_pris_params.npz``) and
matches the official MATLAB release (baboon.png 5.7296). Conventions: Y channel of BT.601
YCbCr, rounded to integers, 96x96 blocks without overlap, ``crop_border`` 0. Lower is better.

    >>> NIQE()(torch.rand(1, 3, 192, 192)).shape
    torch.Size([1])
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from fsr.metrics.common import MetricError, check_images

BLOCK = 96


class NIQE(nn.Module):
    """``(N, 3, H, W)`` RGB in [0, 1] -> ``(N,)`` float64 NIQE scores (lower is better).

    The covariance of the image's block features needs at least two 96x96 blocks, so images
    must hold two (e.g. 96x192 or larger) after ``crop_border``.
    """

    def __init__(self, crop_border: int = 0, convert_to: str = "y") -> None:
        super().__init__()
        if convert_to not in ("y", "gray"):
            raise MetricError(f"NIQE convert_to must be 'y' or 'gray', got {convert_to!r}")
        self.crop_border, self.convert_to = crop_border, convert_to

    def forward(self, img: Tensor) -> Tensor:
        from basicsr.metrics.niqe import calculate_niqe

        img = check_images(img, "img")
        h, w = (s - 2 * self.crop_border for s in img.shape[2:])
        if (h // BLOCK) * (w // BLOCK) < 2:
            raise MetricError(f"NIQE needs at least two {BLOCK}x{BLOCK} blocks, got an image of "
                              f"{h}x{w} after crop_border={self.crop_border}")
        # BasicSR wants HWC BGR on [0, 255]
        arrays = (img.detach().double() * 255.0).permute(0, 2, 3, 1).flip(-1).cpu().numpy()
        scores = [calculate_niqe(a, self.crop_border, input_order="HWC",
                                 convert_to=self.convert_to) for a in arrays]
        return torch.tensor(np.asarray(scores, dtype=np.float64))
