"""Training losses new to fsr, registered in BasicSR's ``LOSS_REGISTRY`` (build from YAML).

- ``LPIPSLoss``: LPIPS (VGG16 or AlexNet) as a perceptual loss; backbone weights through
  ``fsr.assets`` (offline), heads from the ``lpips`` package.
- ``ArcFaceIdentityLoss``: GFPGAN's identity loss, L1 between ArcFace embeddings of output and
  target (grey 128x128 input); needs the ``arcface-resnet18`` weights.
- ``DlibIdentityLoss``: the distance between dlib ResNet descriptors of output and target, on
  dlib's 150 px face chip placed by the target's landmarks (differentiable warp); its weights
  come from a registry package, so it works offline. It is the network the benchmark's
  identity columns use: a model trained with it is not scored independently there.
- ``ReDegradationLoss``: the self-supervised term of :mod:`fsr.losses.selfsup` for a batch whose
  samples each have their own sampled degradation (``deg_*`` keys of the blind datasets).

All take RGB in [0, 1]. Example::

    from basicsr.losses import build_loss
    loss = build_loss({'type': 'LPIPSLoss', 'net': 'vgg', 'loss_weight': 1.0})
    loss(pred, gt)          # scalar, differentiable w.r.t. pred
"""

from __future__ import annotations

import os

import numpy as np
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
class DlibIdentityLoss(nn.Module):
    """``loss_weight * mean_i |dlib(chip(pred_i)) - dlib(chip(gt_i))|_2``, dlib's calibrated
    descriptor distance (same person below 0.6).

    Each target's chip is placed as the benchmark's identity metric places it: dlib's HOG box
    (on a 2x upsampled pass for images under 200 px; the whole image when none is found), its
    5 landmarks and ``get_face_chip_details(shape, 150, 0.25)``. The prediction is sampled
    through the *same* chip (the pair is pixel-aligned), bilinearly, so the loss has a gradient
    with respect to every prediction pixel the chip covers. ``resnet``/``sp5`` default to the
    ``dlib-resnet`` and ``dlib-sp5`` assets.

    Warning: the benchmark's identity-dist and identity-match columns are dlib's ResNet too.
    Training on them makes those columns of the trained model a partly self-referential score
    (as GFPGAN's ArcFace loss is for ArcFace-scored tables); say so next to its numbers.
    """

    def __init__(self, loss_weight: float = 1.0, resnet: str | os.PathLike | None = None,
                 sp5: str | os.PathLike | None = None) -> None:
        super().__init__()
        from fsr.metrics.identity import dlib_embedder

        self.loss_weight = loss_weight
        self._faces = dlib_embedder(resnet, sp5)  # the metric's detector, landmarks and net
        self.net = self._faces.net  # frozen

    def train(self, mode: bool = True) -> DlibIdentityLoss:
        super().train(mode)
        self.net.eval()
        return self

    def chip_grid(self, gt: Tensor) -> Tensor:
        """``(N, 150, 150, 2)`` sampling grid (``grid_sample``, ``align_corners=True``) of
        each target's dlib face chip."""
        from fsr.metrics.dlib_resnet_arch import CHIP_PADDING, CHIP_SIZE, chip_to_image_affine

        dlib = self._faces.dlib
        imgs = (gt.detach().clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        h, w = imgs.shape[1:3]
        # normalised chip coords -> chip pixels -> (per face) image pixels -> normalised image
        half = (CHIP_SIZE - 1) / 2
        to_chip = np.array([[half, 0, half], [0, half, half], [0, 0, 1]])
        to_norm = np.array([[2 / (w - 1), 0, -1], [0, 2 / (h - 1), -1], [0, 0, 1]])
        thetas = []
        for img in imgs:
            img = np.ascontiguousarray(img)
            shape = self._faces.landmarks(img, self._faces.detect(img))
            details = dlib.get_face_chip_details(shape, CHIP_SIZE, CHIP_PADDING)
            chip_to_img = np.vstack([chip_to_image_affine(details), [0, 0, 1]])
            thetas.append((to_norm @ chip_to_img @ to_chip)[:2])
        theta = torch.as_tensor(np.stack(thetas), dtype=gt.dtype, device=gt.device)
        return F.affine_grid(theta, [len(imgs), 3, CHIP_SIZE, CHIP_SIZE], align_corners=True)

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        if pred.ndim != 4 or pred.shape != gt.shape or pred.shape[1] != 3:
            raise ValueError(f"DlibIdentityLoss wants two (N, 3, H, W) RGB batches of one shape, "
                             f"got {tuple(pred.shape)} and {tuple(gt.shape)}")
        grid = self.chip_grid(gt)
        chips = F.grid_sample(torch.cat([pred, gt.detach()]), torch.cat([grid, grid]),
                              mode="bilinear", padding_mode="zeros", align_corners=True) * 255
        emb = self.net(chips)
        emb_pred, emb_gt = emb[:len(pred)], emb[len(pred):].detach()
        return self.loss_weight * (emb_pred - emb_gt).norm(dim=1).mean()


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
