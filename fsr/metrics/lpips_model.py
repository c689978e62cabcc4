"""LPIPS v0.1 (Zhang et al. 2018) with AlexNet or VGG16, built from offline weights.

The backbone is torchvision's ``alexnet().features`` / ``vgg16().features`` (weights through
``fsr.assets.resolve('lpips-alex' | 'lpips-vgg')``, a ``features.*`` state dict; torchvision's
own release file works too, its classifier keys are ignored). The five 1x1 linear heads are the
v0.1 files shipped inside the installed ``lpips`` package (``lpips/weights/v0.1/{alex,vgg}.pth``).
Inputs are RGB in [0, 1], mapped to [-1, 1] and then through LPIPS's ScalingLayer.

    >>> metric = LPIPS('alex')
    >>> metric(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)).shape
    torch.Size([2])
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import torch
from torch import Tensor, nn

from fsr.metrics.common import MetricError, check_pair

# net -> (asset name, head file, channels of the 5 taps, features index after each tap)
NETS = {
    "alex": ("lpips-alex", "alex.pth", (64, 192, 384, 256, 256), (2, 5, 8, 10, 12)),
    "vgg": ("lpips-vgg", "vgg.pth", (64, 128, 256, 512, 512), (4, 9, 16, 23, 30)),
}
# LPIPS's ScalingLayer: ImageNet mean/std expressed for inputs in [-1, 1].
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10  # lpips.normalize_tensor's epsilon


def lpips_head_file(net: str) -> Path:
    """Path of the v0.1 linear-head weights inside the installed ``lpips`` package."""
    root = importlib.resources.files("lpips")  # a dependency: lpips==0.1.4
    path = Path(str(root / "weights" / "v0.1" / NETS[net][1]))
    if not path.is_file():
        raise MetricError(f"LPIPS head weights not found at {path}")
    return path


def _backbone(net: str) -> nn.Sequential:
    import torchvision

    features = (torchvision.models.alexnet if net == "alex" else torchvision.models.vgg16)(
        weights=None).features
    # LPIPS taps the ReLU outputs; the last tap is the end of the used trunk.
    return features[: NETS[net][3][-1]]


class LPIPS(nn.Module):
    """LPIPS distance per image pair, ``(N,)`` float32; lower is more similar.

    Args:
        net: 'alex' (pyiqa's and the LPIPS authors' default) or 'vgg' (what most face
            restoration papers report).
        backbone_weights: a ``features.*`` state dict file; default ``resolve('lpips-<net>')``.
        head_weights: LPIPS v0.1 head file; default the one in the ``lpips`` package.

    The network's weights are frozen; gradients flow to the inputs (usable as a loss).
    """

    def __init__(self, net: str = "alex", backbone_weights: str | os.PathLike | None = None,
                 head_weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        if net not in NETS:
            raise MetricError(f"LPIPS net must be one of {sorted(NETS)}, got {net!r}")
        self.net_name = net
        self.model_name = NETS[net][0]  # the asset: 'lpips-alex' or 'lpips-vgg'
        self.features = _backbone(net)
        self.taps = NETS[net][3]
        self.heads = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in NETS[net][2])
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self._load(backbone_weights, head_weights)
        self.eval()

    def _load(self, backbone_weights, head_weights) -> None:
        if backbone_weights is None:
            from fsr.assets import resolve

            backbone_weights = resolve(NETS[self.net_name][0])
        state = torch.load(backbone_weights, map_location="cpu", weights_only=True)
        trunk = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
        expected = set(self.features.state_dict())
        # layers past the last tap (none have weights in AlexNet/VGG16) are not used
        trunk = {k: v for k, v in trunk.items() if k in expected}
        missing = expected - set(trunk)
        if missing:
            raise MetricError(f"{backbone_weights}: not a torchvision {self.net_name} "
                              f"`features.*` state dict (missing {sorted(missing)[:3]})")
        self.features.load_state_dict(trunk)

        heads = torch.load(head_weights or lpips_head_file(self.net_name), map_location="cpu",
                           weights_only=True)
        for i, head in enumerate(self.heads):
            key = f"lin{i}.model.1.weight"  # lpips.NetLinLayer: Sequential(Dropout, Conv)
            if key not in heads or heads[key].shape != head.weight.shape:
                raise MetricError(f"{head_weights}: no LPIPS head {key} of shape "
                                  f"{tuple(head.weight.shape)}")
            head.weight.copy_(heads[key])

    def _taps(self, x: Tensor) -> list[Tensor]:
        out, start = [], 0
        for end in self.taps:
            for layer in self.features[start:end]:
                # torchvision's ReLUs are in-place; tapped tensors are never modified after
                x = layer(x)
            out.append(x)
            start = end
        return out

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        pred, gt = check_pair(pred, gt)
        n = pred.shape[0]
        # one trunk pass over both halves of the batch
        x = torch.cat([pred, gt]).to(self.shift.dtype)
        x = ((2 * x - 1) - self.shift) / self.scale
        dist = x.new_zeros(n)
        for head, feat in zip(self.heads, self._taps(x), strict=True):
            feat = feat / (feat.pow(2).sum(dim=1, keepdim=True).sqrt() + EPS)
            diff = (feat[:n] - feat[n:]) ** 2
            dist = dist + head(diff).mean(dim=(1, 2, 3))
        return dist

    def extra_repr(self) -> str:
        return f"net={self.net_name!r}"
