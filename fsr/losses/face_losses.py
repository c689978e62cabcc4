"""Training losses new to fsr, registered in BasicSR's ``LOSS_REGISTRY`` (build from YAML).

- ``LPIPSLoss``: LPIPS (VGG16 or AlexNet) as a perceptual loss; backbone weights through
  ``fsr.assets`` (offline), heads from the ``lpips`` package.
- ``ArcFaceIdentityLoss``: GFPGAN's identity loss, L1 between ArcFace embeddings of output and
  target (grey 128x128 input); needs the ``arcface-resnet18`` weights.
- ``ReDegradationLoss``: the self-supervised term of :mod:`fsr.losses.selfsup` for a batch whose
  samples each have their own sampled degradation (``deg_*`` keys of the blind datasets).

All take RGB in [0, 1]. Example::

    from basicsr.losses import build_loss
    loss = build_loss({'type': 'LPIPSLoss', 'net': 'vgg', 'loss_weight': 1.0})
    loss(pred, gt)          # scalar, differentiable w.r.t. pred
"""

from __future__ import annotations

import os

import torch
from basicsr.utils.registry import LOSS_REGISTRY
from torch import Tensor, nn
from torch.nn import functional as F

from fsr.data.blind_params import jpeg_roundtrip


@LOSS_REGISTRY.register()
class LPIPSLoss(nn.Module):
    """``loss_weight * mean LPIPS(pred, gt)``; ``net`` 'vgg' (GFPGAN-like) or 'alex'.

    The prediction is clamped to [0, 1] first (LPIPS's input range; network outputs stray
    outside it early in training), so pixels outside the range get no perceptual gradient.
    """

    def __init__(self, loss_weight: float = 1.0, net: str = "vgg",
                 backbone_weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        from fsr.metrics.lpips_model import LPIPS

        self.loss_weight = loss_weight
        self.lpips = LPIPS(net, backbone_weights=backbone_weights)

    def train(self, mode: bool = True) -> LPIPSLoss:
        super().train(mode)
        self.lpips.eval()  # a fixed metric network: never switch its layers to training mode
        return self

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        return self.loss_weight * self.lpips(pred.clamp(0, 1), gt.detach().clamp(0, 1)).mean()


@LOSS_REGISTRY.register()
class ArcFaceIdentityLoss(nn.Module):
    """GFPGAN's identity loss: ``loss_weight * L1(arcface(pred), arcface(gt))``.

    ``weights`` defaults to ``fsr.assets.resolve('arcface-resnet18')``; it raises
    ``AssetError`` when that file is not available (models treat the loss as optional).
    """

    def __init__(self, loss_weight: float = 1.0, weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        from fsr.metrics.identity import load_arcface

        self.loss_weight = loss_weight
        self.arcface = load_arcface(weights)

    def train(self, mode: bool = True) -> ArcFaceIdentityLoss:
        super().train(mode)
        self.arcface.eval()  # BatchNorm statistics stay fixed
        return self

    @staticmethod
    def arcface_input(img: Tensor) -> Tensor:
        """RGB [0, 1] -> grey [-1, 1] at 128x128 (GFPGAN's ``gray_resize_for_identity``)."""
        x = img * 2 - 1
        grey = 0.2989 * x[:, :1] + 0.5870 * x[:, 1:2] + 0.1140 * x[:, 2:3]
        return F.interpolate(grey, size=(128, 128), mode="bilinear", align_corners=False)

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        emb_pred = self.arcface(self.arcface_input(pred))
        with torch.no_grad():
            emb_gt = self.arcface(self.arcface_input(gt))
        return self.loss_weight * F.l1_loss(emb_pred, emb_gt)


@LOSS_REGISTRY.register()
class ReDegradationLoss(nn.Module):
    """Self-supervised re-degradation term for a batch of blind samples.

    Each sample's own degradation (kernel, scale, noise, JPEG quality; the ``deg_*`` tensors
    that ``return_degradation: true`` datasets add) is replayed differentiably on the
    restored face (:func:`fsr.losses.selfsup.make_degradation`, JPEG straight-through) and
    compared with the input: ``loss_weight * mean_i criterion(degrade_i(restored_i), lq_i)``.
    """

    def __init__(self, loss_weight: float = 1.0, criterion: str = "l1") -> None:
        super().__init__()
        self.loss_weight, self.criterion = loss_weight, criterion

    def forward(self, restored: Tensor, lq: Tensor, deg: dict[str, Tensor]) -> Tensor:
        from fsr.losses.selfsup import make_degradation, redegradation_loss, straight_through

        total = restored.new_zeros(())
        size = restored.shape[-1]
        for i in range(restored.shape[0]):
            lh, lw = (int(v) for v in deg["deg_lr_size"][i])
            noise = deg["deg_noise"][i, :, :lh, :lw][None]
            quality = int(deg["deg_jpeg"][i])

            def jpeg(x: Tensor, q: int = quality) -> Tensor:
                arr = x[0].permute(1, 2, 0).cpu().numpy()
                return torch.from_numpy(jpeg_roundtrip(arr, q)).permute(2, 0, 1)[None]

            scale = float(deg["deg_scale"][i])
            if scale >= 1:
                degrade = make_degradation(deg["deg_kernel"][i], scale, noise=noise,
                                           jpeg=straight_through(jpeg), out_size=size)
            else:  # r < 1 up-samples first; make_degradation only down-samples
                degrade = _upsampling_degradation(
                    make_degradation(deg["deg_kernel"][i], 1.0, clip=False), (lh, lw), noise,
                    straight_through(jpeg), size)
            total = total + redegradation_loss(restored[i:i + 1], lq[i:i + 1], degrade,
                                               self.criterion)
        return self.loss_weight * total / restored.shape[0]


def _upsampling_degradation(blur, lr_size: tuple[int, int], noise: Tensor, jpeg, size: int):
    """blur -> bilinear to ``lr_size`` (larger) -> + noise -> clamp -> JPEG -> back to ``size``."""

    def degrade(x: Tensor) -> Tensor:
        y = F.interpolate(blur(x), size=lr_size, mode="bilinear", align_corners=False)
        y = jpeg((y + noise.to(y)).clamp(0, 1))
        return F.interpolate(y, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)

    return degrade
