"""The sampled parameters of :func:`fsr.data.degradations.blind`, for losses that replay them.

The self-supervised re-degradation loss (:mod:`fsr.losses.selfsup`) needs the exact kernel,
scale, noise and JPEG quality that produced a training input. :func:`blind_params` draws
them in the same order from the same generator as ``blind(img, seed, ...)``, and
:func:`apply_blind` applies them, so ``apply_blind(img, blind_params(...)) == blind(img, seed)``
(tested bit-exactly).

    >>> p = blind_params((128, 128), seed=3)
    >>> p['kernel'].shape, p['lr_size'], 60 <= p['jpeg'] <= 100
    ((41, 41), (19, 19), True)
"""

from __future__ import annotations

import cv2
import numpy as np

from fsr.data.degradations import PRESETS, gaussian_kernel


def blind_params(shape: tuple[int, int], seed: int, preset: str = "gfpgan", **ranges) -> dict:
    """Parameters ``blind`` samples for an image of ``shape`` (h, w) with ``seed``.

    Returns ``kernel`` (41x41 float32), ``scale`` r, ``lr_size`` (h', w'), ``noise``
    (h' x w' x 3 float32, in [0,1] units) and ``jpeg`` quality.
    """
    params = {**PRESETS[preset], **{k: tuple(v) for k, v in ranges.items()}}
    rng = np.random.default_rng(seed)
    h, w = shape
    kernel = gaussian_kernel(rng, params["sigma"])
    r = rng.uniform(*params["downscale"])
    small = (max(1, round(h / r)), max(1, round(w / r)))
    std = rng.uniform(*params["noise"]) / 255.0
    noise = rng.normal(0.0, std, (*small, 3)).astype(np.float32)
    quality = int(rng.integers(params["jpeg"][0], params["jpeg"][1] + 1))
    return {"kernel": kernel, "scale": float(r), "lr_size": small, "noise": noise, "jpeg": quality}


def jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    """float HxWx3 RGB in [0, 1] -> 8-bit JPEG at ``quality`` -> float in [0, 1]."""
    ok, buf = cv2.imencode(".jpg", (img[..., ::-1] * 255).round().astype(np.uint8),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0


def apply_blind(img: np.ndarray, p: dict) -> np.ndarray:
    """``blind``'s pipeline with given parameters; output at the input's size."""
    h, w = img.shape[:2]
    out = cv2.filter2D(img, -1, p["kernel"], borderType=cv2.BORDER_REFLECT)
    out = cv2.resize(out, (p["lr_size"][1], p["lr_size"][0]), interpolation=cv2.INTER_LINEAR)
    out = np.clip(out + p["noise"], 0, 1)
    out = jpeg_roundtrip(out, p["jpeg"])
    return np.clip(cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1)
