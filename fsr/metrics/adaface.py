"""Identity to the input as the NTIRE 2025 Real-World Face Restoration challenge scores it: the
cosine of AdaFace IR-50 embeddings of the restored face and its low-quality input.

What the challenge's ``face_alignment/inference.py`` (``inference_face``) does, and fsr for each:

* both images are read as RGB and warped to 112x112 by the same 5 points (eyes, nose tip, mouth
  corners) that the challenge's ``test_face.csv``/``val_face.csv`` give for the *input*: a
  similarity transform to the 112x112 ArcFace reference points (mtcnn_pytorch's
  ``get_reference_facial_points(default_square=True)``), fitted MATLAB ``cp2tform`` style and
  applied with ``cv2.warpAffine`` (bilinear, black border). fsr fits the same transform
  (:func:`similarity_to_reference`), including how the reference picks between the
  non-reflective and the reflective fit. **Points**: fsr has no CSV for arbitrary images. By
  default (``points='mtcnn'``) it detects them on the input with fsr's MTCNN at the settings
  of AdaFace's ``face_alignment/mtcnn.py`` (min face 20, thresholds 0.6/0.7/0.9, pyramid
  factor 0.85), the most confident face; the CSV's box + 5-point columns look like MTCNN's
  output, but how the challenge made them is not stated, so the points are close to, not
  equal to, the CSV's. Where no face is found the FFHQ template scaled to the image is used
  (``last_undetected`` counts those). ``points='template'`` always uses the template; an array
  gives the points.
* ``to_input``: RGB -> BGR, ``(x / 255 - 0.5) / 0.5``, float32.
* AdaFace IR-50 (``adaface_ir50_ms1mv2.ckpt``, :class:`fsr.archs.adaface_arch.AdaFaceIR`)
  returns normalised embeddings; the score is their dot product (float32).
* The challenge's per-dataset thresholds (:data:`THRESHOLDS`) apply to this cosine; a face
  under its dataset's threshold is "low ID" (``fsr.bench.report.ntire``).

    metric = create_metric('identity-adaface')   # needs adaface_ir50_ms1mv2.ckpt
    metric(restored, lq)                         # (N,) float64 cosine in [-1, 1]
"""

from __future__ import annotations

import argparse
import os

import cv2
import numpy as np
import torch
from torch import Tensor, nn

from fsr.archs.adaface_arch import AdaFaceIR
from fsr.face.align import face_template
from fsr.face.detect_mtcnn import MTCNNDetector
from fsr.metrics.common import check_pair, to_uint8_rgb
from fsr.metrics.errors import MetricUnavailable

CROP = 112
# ArcFace's 96x112 reference points shifted by 8 px to a 112x112 square (default_square=True)
REFERENCE_96x112 = np.array([[30.29459953, 51.69630051], [65.53179932, 51.50139999],
                             [48.02519989, 71.73660278], [33.54930115, 92.3655014],
                             [62.72990036, 92.20410156]])
REFERENCE_112 = REFERENCE_96x112 + np.array([8.0, 0.0])
# eval.py's thresholds on this cosine (a face below its dataset's is "low ID")
THRESHOLDS = {"CelebA": 0.5, "LFW-Test": 0.6, "CelebChild-Test": 0.6, "Wider-Test": 0.3,
              "WebPhoto-Test": 0.3}
# AdaFace face_alignment/mtcnn.py: MTCNN(min_face_size=20, thresholds=[0.6, 0.7, 0.9],
# factor=0.85)
MTCNN_SETTINGS = {"min_face": 20, "thresholds": (0.6, 0.7, 0.9), "factor": 0.85}


def _fit_reference_to_source(src: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """cp2tform's non-reflective fit: the least-squares similarity mapping ``ref`` onto ``src``,
    inverted; a 3x3 matrix acting on row vectors ``[x, y, 1] @ T``."""
    x, y = ref[:, :1], ref[:, 1:]
    one, zero = np.ones_like(x), np.zeros_like(x)
    design = np.vstack([np.hstack([x, y, one, zero]), np.hstack([y, -x, zero, one])])
    target = np.vstack([src[:, :1], src[:, 1:]])
    sc, ss, tx, ty = np.linalg.lstsq(design, target, rcond=None)[0].ravel()
    t = np.linalg.inv(np.array([[sc, -ss, 0.0], [ss, sc, 0.0], [tx, ty, 1.0]]))
    t[:, 2] = (0.0, 0.0, 1.0)
    return t


def _apply(t: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return (np.hstack([pts, np.ones((len(pts), 1))]) @ t)[:, :2]


def similarity_to_reference(points, reference: np.ndarray = REFERENCE_112) -> np.ndarray:
    """The 2x3 ``cv2.warpAffine`` matrix taking ``points`` (5, 2) to ``reference``, chosen as
    the reference's ``get_similarity_transform_for_cv2`` chooses: the non-reflective fit unless
    the reflective one is closer, both measured against the reference points with x negated
    (its ``findSimilarity`` negates them in place before comparing).

    >>> m = similarity_to_reference(REFERENCE_112 * 2 + 10)
    >>> (m.round(6) + 0.0).tolist()
    [[0.5, 0.0, -5.0], [0.0, 0.5, -5.0]]
    """
    src = np.asarray(points, np.float32).astype(np.float64)
    ref = np.asarray(reference, np.float32).astype(np.float64)
    t1 = _fit_reference_to_source(src, ref)
    ref_mirrored = ref * np.array([-1.0, 1.0])
    t2 = _fit_reference_to_source(src, ref_mirrored) @ np.diag([-1.0, 1.0, 1.0])
    err1 = np.linalg.norm(_apply(t1, src) - ref_mirrored)
    err2 = np.linalg.norm(_apply(t2, src) - ref_mirrored)
    return (t1 if err1 <= err2 else t2)[:, :2].T


def adaface_input(images: list[np.ndarray], points: np.ndarray) -> Tensor:
    """uint8 RGB ``(H, W, 3)`` images and their (N, 5, 2) points -> ``(N, 3, 112, 112)``
    float32 BGR in [-1, 1], the challenge's aligned ``to_input``.

    >>> img = np.full((512, 512, 3), (255, 0, 0), np.uint8)
    >>> x = adaface_input([img], face_template(512)[None])
    >>> x[0, :, 56, 56].tolist()    # blue, green, red
    [-1.0, -1.0, 1.0]
    """
    out = []
    for rgb, pts in zip(images, points, strict=True):
        crop = cv2.warpAffine(np.ascontiguousarray(rgb), similarity_to_reference(pts),
                              (CROP, CROP))
        bgr = (crop[:, :, ::-1] / 255.0 - 0.5) / 0.5
        out.append(bgr.transpose(2, 0, 1).astype(np.float32))
    return torch.from_numpy(np.stack(out))


def load_adaface_ir50(weights: str | os.PathLike | None = None) -> AdaFaceIR:
    """AdaFace IR-50 with ``adaface_ir50_ms1mv2.ckpt`` (default: ``resolve('adaface-ir50')``),
    eval mode. The release is a PyTorch Lightning checkpoint whose ``state_dict`` holds the
    backbone under ``model.`` (and the margin head under ``head.``, unused); a plain backbone
    state dict loads too. Read with ``weights_only=True``; the checkpoint's hyper-parameters
    are an ``argparse.Namespace``, allowed for that one load."""
    from fsr.archs.checkpoint import load_checkpoint

    if weights is None:
        from fsr.assets import resolve

        weights = resolve("adaface-ir50")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            ckpt = torch.load(weights, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise MetricUnavailable(f"AdaFace weights not found: {weights}") from None
    except Exception as exc:  # an unreadable or foreign pickle: one line, not a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MetricUnavailable(f"{weights}: not a loadable AdaFace checkpoint "
                                f"({first})") from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else ckpt
    if any(k.startswith("model.") for k in state):
        state = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    net = AdaFaceIR(num_layers=50)
    load_checkpoint(net, state, strict=True)
    return net.eval().requires_grad_(False)


class AdaFaceIdentity(nn.Module):
    """``(pred, inp) -> (N,)`` float64: the NTIRE 2025 AdaFace IR-50 cosine per pair.

    Args:
        weights: ``adaface_ir50_ms1mv2.ckpt`` (default: the ``adaface-ir50`` asset).
        points: where the 5 alignment points of a pair come from, the same for both images
            (the challenge's CSV gives them for its inputs): ``'mtcnn'`` (default) detects them
            on the input, ``'template'`` is the FFHQ template scaled to the image, or a
            (5, 2) / (N, 5, 2) array in the input's pixels.
    """

    def __init__(self, weights: str | os.PathLike | None = None, points="mtcnn") -> None:
        super().__init__()
        self.net = load_adaface_ir50(weights)
        if isinstance(points, str):
            if points not in ("mtcnn", "template"):
                raise ValueError(f"points must be 'mtcnn', 'template' or an array, got "
                                 f"{points!r}")
            self.points = points
        else:
            self.points = np.asarray(points, np.float64)
        use_mtcnn = isinstance(self.points, str) and self.points == "mtcnn"
        self.detector = MTCNNDetector(**MTCNN_SETTINGS) if use_mtcnn else None
        self.model_name = "adaface-ir50"
        self.statistic = "cosine"
        self.last_undetected = 0

    def input_points(self, inp: Tensor) -> np.ndarray:
        """(N, 5, 2) alignment points of the input images ``(N, 3, H, W)`` in [0, 1]."""
        n, size = len(inp), inp.shape[-1]
        if isinstance(self.points, np.ndarray):
            pts = self.points if self.points.ndim == 3 else self.points[None].repeat(n, 0)
            if pts.shape != (n, 5, 2):
                raise ValueError(f"points: expected (5, 2) or ({n}, 5, 2), got {pts.shape}")
            return pts
        out = np.repeat(face_template(size)[None], n, 0)
        self.last_undetected = 0
        if self.detector is not None:
            for i, rgb in enumerate(to_uint8_rgb(inp)):
                dets = self.detector.detect_rgb(rgb, MTCNN_SETTINGS["thresholds"][-1])
                if len(dets):  # sorted by score: the most confident face
                    out[i] = dets[0, 5:15].reshape(5, 2)
                else:
                    self.last_undetected += 1
        return out

    def embed(self, img: Tensor, points: np.ndarray | None = None) -> Tensor:
        """``(N, 512)`` normalised embeddings of RGB ``(N, 3, H, W)`` in [0, 1]."""
        pts = self.input_points(img) if points is None else points
        p = next(self.net.parameters())
        with torch.no_grad():
            return self.net(adaface_input(to_uint8_rgb(img), pts).to(p))[0]

    def forward(self, pred: Tensor, inp: Tensor) -> Tensor:
        pred, inp = check_pair(pred, inp, min_size=16)
        pts = self.input_points(inp)
        a, b = self.embed(pred, pts), self.embed(inp, pts)
        return (a * b).sum(1).double().cpu()

    def extra_repr(self) -> str:
        return f"model_name={self.model_name!r}"


__all__ = ["CROP", "MTCNN_SETTINGS", "REFERENCE_112", "THRESHOLDS", "AdaFaceIdentity", "adaface_input",
           "load_adaface_ir50", "similarity_to_reference"]
