"""Identity preservation: cosine similarity (or angle) between face embeddings of pred and gt.

Two embedding models, chosen by ``backend`` ('auto' tries them in this order):

* ``arcface``: GFPGAN's ArcFace ResNet-18 (asset ``arcface-resnet18``, users download it). As in
  GFPGAN's identity loss, the whole face crop goes in: RGB [0, 1] -> [-1, 1] -> grey
  ``0.2989 R + 0.5870 G + 0.1140 B`` -> bilinear 128x128 -> 512-D. Differentiable.
* ``dlib``: dlib's ResNet (asset ``dlib-resnet``, from a registry package, so always available).
  Each image is 8-bit RGB; the face box is dlib's HOG detection on that image, else the
  partner image's detection (pred and gt are pixel-aligned), else the whole image; the
  5-point ``dlib-sp5`` landmarks in that box drive dlib's own 150x150 alignment -> 128-D,
  from dlib's ResNet run in torch (:mod:`fsr.metrics.dlib_resnet_arch`: batched, on the
  metric's device, equal to dlib's descriptors to ~3e-7). Not differentiable.

The model actually used is ``metric.model_name`` ('arcface-resnet18' or 'dlib-resnet'):
never compare identity numbers across models. ``statistic`` says what comes out per pair:

* ``cosine`` (default): cosine of the embeddings. Meaningful for ArcFace/AdaFace, whose
  different-person cosines sit near 0. dlib's descriptors are not: on different people of the
  sample set their cosine is 0.78-0.97, so a dlib cosine cannot tell a kept face from a swap.
* ``degrees``: the angle ``arccos(cos)`` (the "Deg" of PULSE / CodeFormer / PMRF tables).
* ``distance``: Euclidean distance of the embeddings, what dlib's model is trained and
  calibrated on (same person below 0.6; dlib reports 99.38 % on LFW with that threshold).
* ``match``: 1.0 when the pair is the same person at the model's calibrated threshold
  (dlib: distance < 0.6), else 0.0; its mean over images is the same-person rate.

:func:`different_identity_floor` gives the same statistic for pairs of *different* people
of a set: the scale a reader needs next to the number.

    metric = IdentitySimilarity(backend='dlib')
    metric(pred, gt)                       # (N,) float32 cosine, 1 = same embedding
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
from fsr.metrics.common import MetricError, check_images, check_pair, to_uint8_rgb
from fsr.metrics.dlib_resnet_arch import CHIP_PADDING, CHIP_SIZE, DESCRIPTOR_DIM, DlibFaceResNet

ARCFACE_SIZE = 128
# GFPGAN's gray_resize_for_identity weights (ITU-R 601 luma)
_GREY = (0.2989, 0.5870, 0.1140)
BACKENDS = ("auto", "arcface", "dlib")
STATISTICS = ("cosine", "degrees", "distance", "match")
# Same-person thresholds the models are calibrated for: dlib's ResNet on Euclidean distance
# (dlib's dnn_face_recognition_ex.cpp / face_recognition's default tolerance). GFPGAN's
# ArcFace-18 publishes none, so 'match' refuses it.
SAME_PERSON_DISTANCE = {"dlib-resnet": 0.6}
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


def _digest(img: np.ndarray) -> str:
    return hashlib.sha1(img.tobytes() + repr(img.shape).encode()).hexdigest()


_SHARED_DLIB: dict = {}  # (resnet, sp5, cnn_fallback) -> one embedder shared by every metric


def _shared_dlib(resnet, sp5, cnn_fallback: bool) -> _DlibEmbedder:
    key = (str(resnet), str(sp5), cnn_fallback)
    if key not in _SHARED_DLIB:
        _SHARED_DLIB[key] = _DlibEmbedder(resnet, sp5, cnn_fallback)
    return _SHARED_DLIB[key]


def dlib_embedder(resnet: str | os.PathLike | None = None,
                  sp5: str | os.PathLike | None = None) -> _DlibEmbedder:
    """The process-wide dlib embedder of the identity metrics (HOG ``detect``,
    ``shape_predictor``, the torch ``net``), for code that must place faces as they do
    (``fsr.losses.face_losses.DlibIdentityLoss``)."""
    return _shared_dlib(resnet, sp5, False)


class _DlibEmbedder:
    """dlib HOG detector + 5-point shape predictor + dlib's 150 px face chips, described by
    dlib's ResNet ported to torch (:mod:`fsr.metrics.dlib_resnet_arch`, equal to dlib's own
    descriptors to ~3e-7) in batches, on uint8 RGB arrays."""

    def __init__(self, resnet: str | os.PathLike | None, sp5: str | os.PathLike | None,
                 cnn_fallback: bool = False) -> None:
        import dlib

        from fsr.assets import resolve

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shape_predictor = dlib.shape_predictor(str(sp5 or resolve("dlib-sp5")))
        self.net = DlibFaceResNet(resnet or resolve("dlib-resnet"))
        self.cnn = (dlib.cnn_face_detection_model_v1(str(resolve("dlib-mmod")))
                    if cnn_fallback else None)
        self.last_boxes: list[str] = []  # per image: 'detected' | 'partner' | 'full-image'
        self._ref_cache: OrderedDict = OrderedDict()  # gt digest -> (box, embedding or None)
        self._pair_cache: OrderedDict = OrderedDict()

    def detect(self, img: np.ndarray):
        """The largest face box of a uint8 RGB image, or None."""
        # small crops need the 2x upsampling pass to find faces under ~80 px
        upsample = 1 if min(img.shape[:2]) < 200 else 0
        found = self.detector(img, upsample)
        if not len(found) and self.cnn is not None:  # HOG is frontal; MMOD sees turned faces
            found = [d.rect for d in self.cnn(img, upsample)]
        return max(found, key=lambda r: r.area()) if len(found) else None

    def landmarks(self, img: np.ndarray, box):
        """dlib's 5 points of a uint8 RGB image in ``box``; with no box (HOG found no face),
        in the whole image, which is what a pixel-aligned face crop is."""
        if box is None:
            box = self.dlib.rectangle(0, 0, img.shape[1] - 1, img.shape[0] - 1)
        return self.shape_predictor(img, box)

    def _chip(self, img: np.ndarray, box) -> np.ndarray:
        return self.dlib.get_face_chip(img, self.landmarks(img, box), size=CHIP_SIZE,
                                       padding=CHIP_PADDING)

    def describe(self, chips: list[np.ndarray], device: torch.device | str = "cpu") -> Tensor:
        """``(N, 128)`` float32 descriptors of (150, 150, 3) uint8 chips, on ``device``."""
        self.net.to(device)
        out = [self.net(torch.from_numpy(np.stack(chips[i:i + 32])).to(device)
                        .permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last))
               for i in range(0, len(chips), 32)]
        return torch.cat(out) if out else torch.zeros(0, DESCRIPTOR_DIM, device=device)

    def embed_faces(self, imgs: list[np.ndarray], device: torch.device | str = "cpu") -> Tensor:
        """Faces on their own: each one's HOG box, else the whole image. A face already
        described in its own box (a ground truth :meth:`embed_pairs` scored) is not redone."""
        keys = [_digest(img) for img in imgs]
        refs = [self._reference(img, key) for img, key in zip(imgs, keys, strict=True)]
        todo = [i for i, (_, emb) in enumerate(refs) if emb is None]
        desc = self.describe([self._chip(imgs[i], refs[i][0]) for i in todo], "cpu")
        out = [emb for _, emb in refs]
        for j, i in enumerate(todo):
            out[i] = desc[j]
            box = refs[i][0]
            if box is not None and keys[i] in self._ref_cache:  # the chip embed_pairs would use
                self._ref_cache[keys[i]] = (box, desc[j])
        if not out:
            return torch.zeros(0, DESCRIPTOR_DIM, device=device)
        return torch.stack(out).to(device)

    def embed_pairs(self, pred: list[np.ndarray], gt: list[np.ndarray],
                    device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
        """Embeddings of pixel-aligned pairs; a face without its own HOG box takes its
        partner's, else the whole image. All chips of the call are described in one batch."""
        chips: list[np.ndarray] = []
        new_refs: dict[str, int] = {}  # gt digest -> chip slot, gts described in this call
        rows, boxes = [], []
        for a, b in zip(pred, gt, strict=True):
            key = (_digest(a), _digest(b))
            if key in self._pair_cache:  # another identity statistic of the same pair
                rows.append((None, *self._pair_cache[key]))
                boxes += self._pair_cache[key][2]
                continue
            ref_key = _digest(b)
            box_b, emb_b = self._reference(b, ref_key)
            box_a = self.detect(a)
            pair_boxes = ["detected" if box_a else "partner" if box_b else "full-image",
                          "detected" if box_b else "partner" if box_a else "full-image"]
            chips.append(self._chip(a, box_a or box_b))
            slot_a = len(chips) - 1
            if emb_b is None and box_b is not None and ref_key in new_refs:
                emb_b = new_refs[ref_key]
            if emb_b is None:
                chips.append(self._chip(b, box_b or box_a))
                emb_b = len(chips) - 1
                if box_b is not None:  # described in its own box: cacheable
                    new_refs[ref_key] = emb_b
            rows.append((key, slot_a, emb_b, pair_boxes))
            boxes += pair_boxes
        desc = self.describe(chips, device).cpu()
        for ref_key, slot in new_refs.items():
            if ref_key in self._ref_cache:  # not evicted by this call's own gts
                self._ref_cache[ref_key] = (self._ref_cache[ref_key][0], desc[slot])
        out_p, out_g = [], []
        for key, emb_a, emb_b, pair_boxes in rows:
            emb_a = desc[emb_a] if isinstance(emb_a, int) else emb_a
            emb_b = desc[emb_b] if isinstance(emb_b, int) else emb_b
            out_p.append(emb_a)
            out_g.append(emb_b)
            if key is not None:
                self._pair_cache[key] = (emb_a, emb_b, pair_boxes)
                if len(self._pair_cache) > REF_CACHE_SIZE:
                    self._pair_cache.popitem(last=False)
        self.last_boxes = boxes
        return torch.stack(out_p).to(device), torch.stack(out_g).to(device)

    def _reference(self, img: np.ndarray, key: str | None = None):
        """The ground truth's HOG box (None if not found) and, once described in that box,
        its embedding; cached by content, because a benchmark scores many methods against
        the same ground truth."""
        key = key or _digest(img)
        if key in self._ref_cache:
            self._ref_cache.move_to_end(key)
            return self._ref_cache[key]
        self._ref_cache[key] = (self.detect(img), None)
        if len(self._ref_cache) > REF_CACHE_SIZE:
            self._ref_cache.popitem(last=False)
        return self._ref_cache[key]


class IdentitySimilarity(nn.Module):
    """``(pred, gt) -> (N,)`` float32: embedding cosine similarity, or the angle in degrees.

    Args:
        backend: 'auto' (ArcFace if its weights resolve, else dlib), 'arcface' or 'dlib'.
        statistic: 'cosine', 'degrees', 'distance' or 'match' (module docstring).
        degrees: the same as ``statistic='degrees'`` (kept for old callers).
        arcface_weights, dlib_resnet, dlib_sp5: explicit weight files (else ``fsr.assets``).
        share_embedder: dlib: use one process-wide embedder (and its caches), so the table's
            identity-dist and identity-match rows embed each pair once between them.
        cnn_fallback: dlib: where HOG finds no face, dlib's CNN (MMOD, asset ``dlib-mmod``)
            detector looks before the partner's box is borrowed. For pairs that are not
            pixel-aligned, such as a turned face and its source: HOG is trained on frontal
            faces and misses most faces turned 45 degrees. Slow on CPU (only on HOG misses).
    """

    def __init__(self, backend: str = "auto", degrees: bool = False, statistic: str = "cosine",
                 arcface_weights: str | os.PathLike | None = None,
                 dlib_resnet: str | os.PathLike | None = None,
                 dlib_sp5: str | os.PathLike | None = None, share_embedder: bool = False,
                 cnn_fallback: bool = False) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise MetricError(f"identity backend must be one of {BACKENDS}, got {backend!r}")
        if statistic not in STATISTICS:
            raise MetricError(f"identity statistic must be one of {STATISTICS}, got "
                              f"{statistic!r}")
        self.statistic = "degrees" if degrees else statistic
        self.degrees = self.statistic == "degrees"
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
            self._dlib.append(_shared_dlib(dlib_resnet, dlib_sp5, cnn_fallback) if share_embedder
                              else _DlibEmbedder(dlib_resnet, dlib_sp5, cnn_fallback))
        self.model_name = "arcface-resnet18" if self.arcface is not None else "dlib-resnet"
        if self.statistic == "match" and self.model_name not in SAME_PERSON_DISTANCE:
            raise MetricError(f"identity match: {self.model_name} has no calibrated "
                              "same-person threshold; use backend='dlib' or the cosine")

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
        return self._dlib[0].embed_pairs(to_uint8_rgb(pred), to_uint8_rgb(gt), pred.device)

    def forward(self, pred: Tensor, gt: Tensor) -> Tensor:
        pred, gt = check_pair(pred, gt, min_size=16)
        e_p, e_g = self.embed_pair(pred, gt)
        return pair_statistic(e_p, e_g, self.statistic, self.model_name)

    def embed(self, img: Tensor) -> Tensor:
        """Embeddings ``(N, D)`` of single faces (dlib: own HOG box, else the whole image)."""
        img = check_images(img, "img", min_size=16)
        if self.arcface is not None:
            p = next(self.arcface.parameters())
            return self.arcface(self.arcface_input(img.to(p)))
        return self._dlib[0].embed_faces(to_uint8_rgb(img), img.device)

    def extra_repr(self) -> str:
        return f"model_name={self.model_name!r}, statistic={self.statistic!r}"


def pair_statistic(a: Tensor, b: Tensor, statistic: str, model_name: str) -> Tensor:
    """``(N, D), (N, D) -> (N,)`` float32: the :data:`STATISTICS` entry for each row pair."""
    if statistic in ("cosine", "degrees"):
        cos = F.cosine_similarity(a, b, dim=1, eps=1e-8).float()
        if statistic == "cosine":
            return cos
        # clamp: rounding can push |cos| a hair past 1 (acos -> NaN)
        return torch.rad2deg(torch.acos(cos.clamp(-1.0, 1.0)))
    if model_name != "dlib-resnet":  # ArcFace embeddings are compared after L2 normalisation
        a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    dist = (a - b).norm(dim=1).float()
    if statistic == "distance":
        return dist
    if statistic == "match":
        return (dist < SAME_PERSON_DISTANCE[model_name]).float()
    raise MetricError(f"identity statistic must be one of {STATISTICS}, got {statistic!r}")


def different_identity_floor(embeddings: Tensor, labels, statistic: str, model_name: str,
                             n_boot: int = 1000, seed: int = 0) -> dict:
    """The statistic over all pairs of images whose identity labels differ (and, for scale,
    over pairs that share one): ``{'different': (mean, lo, hi), 'n_different': int,
    'same': (mean, lo, hi) or None, 'n_same': int}``, 95 % percentile bootstrap over pairs
    (pairs share images, so the interval is optimistic; it is there for scale).

        >>> e = torch.eye(4)[[0, 0, 1, 2]]
        >>> different_identity_floor(e, ['a', 'a', 'b', 'c'], 'distance', 'dlib-resnet')['n_different']
        5
    """
    from fsr.metrics.stats import bootstrap_ci

    labels = list(labels)
    if len(labels) != len(embeddings):
        raise MetricError(f"identity floor: {len(embeddings)} embeddings, {len(labels)} labels")
    i, j = torch.triu_indices(len(labels), len(labels), offset=1)
    values = pair_statistic(embeddings[i], embeddings[j], statistic, model_name).double().numpy()
    same = np.array([labels[a] == labels[b] for a, b in zip(i.tolist(), j.tolist(), strict=True)],
                    dtype=bool)
    out: dict = {"n_different": int((~same).sum()), "n_same": int(same.sum())}
    for key, mask in (("different", ~same), ("same", same)):
        vals = values[mask]
        out[key] = bootstrap_ci(vals, n=n_boot, seed=seed) if len(vals) >= 2 else None
    return out


__all__ = ["BACKENDS", "STATISTICS", "IdentitySimilarity", "different_identity_floor",
           "load_arcface", "pair_statistic"]
