"""Identity preservation: cosine similarity (or angle) between face embeddings of pred and gt.

Two embedding models, chosen by ``backend`` ('auto' tries them in this order):

* ``arcface``: GFPGAN's ArcFace ResNet-18 (asset ``arcface-resnet18``, users download it). As in
  GFPGAN's identity loss, the whole face crop goes in: RGB [0, 1] -> [-1, 1] -> grey
  ``0.2989 R + 0.5870 G + 0.1140 B`` -> bilinear 128x128 -> 512-D. Differentiable.
* ``dlib``: dlib's ResNet (asset ``dlib-resnet``, from a registry package, so always available).
  Each image is 8-bit RGB; the face box is dlib's HOG detection on that image, else the
  partner image's detection (pred and gt are pixel-aligned), else the whole image; the
  5-point ``dlib-sp5`` landmarks in that box drive dlib's own 150x150 alignment -> 128-D.
  Not differentiable.

The model actually used is ``metric.model_name`` ('arcface-resnet18' or 'dlib-resnet'):
never compare identity numbers across models. ``degrees=True`` returns the angle
``arccos(cos)`` in degrees (the "Deg" of PULSE / CodeFormer / PMRF tables).

    >>> metric = IdentitySimilarity(backend='dlib')
    >>> metric(pred, gt)                       # (N,) float32 cosine, 1 = same embedding
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fsr.metrics.arcface_arch import ResNetArcFace
from fsr.metrics.common import MetricError, check_pair, to_uint8_rgb

ARCFACE_SIZE = 128
# GFPGAN's gray_resize_for_identity weights (ITU-R 601 luma)
_GREY = (0.2989, 0.5870, 0.1140)
BACKENDS = ("auto", "arcface", "dlib")
REF_CACHE_SIZE = 1024  # ground-truth embeddings kept (dlib backend; ~1 KB each)


def load_arcface(weights: str | os.PathLike | None = None) -> ResNetArcFace:
    """GFPGAN's ArcFace ResNet-18 in eval mode; weights default to ``resolve('arcface-resnet18')``.

    Accepts the raw state dict GFPGAN releases, ``{'params': ...}`` wrappers and ``module.``
    prefixes (via :func:`fsr.archs.checkpoint.load_checkpoint`); any other layout raises a
    ``CheckpointError`` (a ``ValueError``).
    """
    from fsr.archs.checkpoint import load_checkpoint

    if weights is None:
        from fsr.assets import resolve

        weights = resolve("arcface-resnet18")
    net = ResNetArcFace(layers=(2, 2, 2, 2), use_se=False)
    load_checkpoint(net, weights, strict=True)
    return net.eval().requires_grad_(False)


class _DlibEmbedder:
    """dlib HOG detector + 5-point shape predictor + ResNet descriptor, on uint8 RGB arrays."""

    def __init__(self, resnet: str | os.PathLike | None, sp5: str | os.PathLike | None) -> None:
        import dlib

        from fsr.assets import resolve

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shape_predictor = dlib.shape_predictor(str(sp5 or resolve("dlib-sp5")))
        self.encoder = dlib.face_recognition_model_v1(str(resnet or resolve("dlib-resnet")))
        self.last_boxes: list[str] = []  # per image: 'detected' | 'partner' | 'full-image'
        self._ref_cache: OrderedDict = OrderedDict()

    def _detect(self, img: np.ndarray):
        # small crops need the 2x upsampling pass to find faces under ~80 px
        found = self.detector(img, 1 if min(img.shape[:2]) < 200 else 0)
        return max(found, key=lambda r: r.area()) if len(found) else None

    def embed_pairs(self, pred: list[np.ndarray], gt: list[np.ndarray]) -> tuple[Tensor, Tensor]:
        out_p, out_g, self.last_boxes = [], [], []
        for a, b in zip(pred, gt, strict=True):
            full = self.dlib.rectangle(0, 0, a.shape[1] - 1, a.shape[0] - 1)
            box_b, emb_b = self._reference(b)
            box_a = self._detect(a)
            for img, own, partner, out in ((a, box_a, box_b, out_p), (b, box_b, box_a, out_g)):
                box = own or partner or full
                self.last_boxes.append("detected" if own else "partner" if partner else
                                       "full-image")
                if out is out_g and emb_b is not None:
                    out.append(emb_b)
                    continue
                shape = self.shape_predictor(img, box)
                out.append(np.asarray(self.encoder.compute_face_descriptor(img, shape)))
        return (torch.from_numpy(np.stack(out_p)).float(),
                torch.from_numpy(np.stack(out_g)).float())

    def _reference(self, img: np.ndarray):
        """The ground truth's box and, when found on its own, its embedding; cached by content,
        because a benchmark scores many methods against the same ground truth."""
        key = hashlib.sha1(img.tobytes() + repr(img.shape).encode()).hexdigest()
        if key in self._ref_cache:
            self._ref_cache.move_to_end(key)
            return self._ref_cache[key]
        box = self._detect(img)
        emb = None
        if box is not None:  # without its own box the pred's box is used: not cacheable
            emb = np.asarray(self.encoder.compute_face_descriptor(img, self.shape_predictor(img, box)))
        self._ref_cache[key] = (box, emb)
        if len(self._ref_cache) > REF_CACHE_SIZE:
            self._ref_cache.popitem(last=False)
        return box, emb


class IdentitySimilarity(nn.Module):
    """``(pred, gt) -> (N,)`` float32: embedding cosine similarity, or the angle in degrees.

    Args:
        backend: 'auto' (ArcFace if its weights resolve, else dlib), 'arcface' or 'dlib'.
        degrees: return ``arccos(cos)`` in degrees (lower is better) instead of the cosine.
        arcface_weights, dlib_resnet, dlib_sp5: explicit weight files (else ``fsr.assets``).
    """

    def __init__(self, backend: str = "auto", degrees: bool = False,
                 arcface_weights: str | os.PathLike | None = None,
                 dlib_resnet: str | os.PathLike | None = None,
                 dlib_sp5: str | os.PathLike | None = None) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise MetricError(f"identity backend must be one of {BACKENDS}, got {backend!r}")
        self.degrees = degrees
        self.arcface: ResNetArcFace | None = None
        self._dlib: list[_DlibEmbedder] = []  # not an nn.Module: keep it out of state_dict
        if backend in ("auto", "arcface"):
            from fsr.assets import AssetError

            try:
                self.arcface = load_arcface(arcface_weights)
            except AssetError as exc:
                if backend == "arcface":
                    raise MetricError(f"identity: ArcFace weights unavailable: {exc}") from None
        if self.arcface is None:
            self._dlib.append(_DlibEmbedder(dlib_resnet, dlib_sp5))
        self.model_name = "arcface-resnet18" if self.arcface is not None else "dlib-resnet"

    @property
    def last_boxes(self) -> list[str]:
        """dlib backend: where each face box of the last call came from (pred, gt, pred, ...)."""
        return self._dlib[0].last_boxes if self._dlib else []

    def arcface_input(self, img: Tensor) -> Tensor:
        """RGB [0, 1] ``(N, 3, H, W)`` -> GFPGAN's ArcFace input ``(N, 1, 128, 128)`` in [-1, 1]."""
        x = img * 2 - 1
        w = x.new_tensor(_GREY).view(1, 3, 1, 1)
        grey = (x * w).sum(dim=1, keepdim=True)
        return F.interpolate(grey, size=(ARCFACE_SIZE, ARCFACE_SIZE), mode="bilinear",
                             align_corners=False)

    def embed_pair(self, pred: Tensor, gt: Tensor) -> tuple[Tensor, Tensor]:
        """Embeddings ``(N, D)`` of a checked pair (512-D ArcFace or 128-D dlib)."""
        if self.arcface is not None:
            p = next(self.arcface.parameters())
            both = self.arcface(self.arcface_input(torch.cat([pred, gt]).to(p)))
            return both[: len(pred)], both[len(pred):]
        e_p, e_g = self._dlib[0].embed_pairs(to_uint8_rgb(pred), to_uint8_rgb(gt))
        return e_p.to(pred.device), e_g.to(pred.device)

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        pred, gt = check_pair(pred, gt, min_size=16)
        e_p, e_g = self.embed_pair(pred, gt)
        cos = F.cosine_similarity(e_p, e_g, dim=1, eps=1e-8).float()
        if self.degrees:
            # clamp: rounding can push |cos| a hair past 1 (acos -> NaN)
            return torch.rad2deg(torch.acos(cos.clamp(-1.0, 1.0)))
        return cos

    def extra_repr(self) -> str:
        return f"model_name={self.model_name!r}, degrees={self.degrees}"


__all__ = ["BACKENDS", "IdentitySimilarity", "load_arcface"]
