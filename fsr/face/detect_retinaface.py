"""facexlib's RetinaFace (ResNet-50 or MobileNet-0.25) loaded from a local weight file.

    from fsr.face.detect_retinaface import RetinaFaceDetector
    det = RetinaFaceDetector("resnet50")   # asset retinaface-resnet50 (users download it)
    det.detect_faces(img_bgr, 0.97).shape  # -> (6, 15)

The network and its decoding are facexlib's own (``facexlib.detection.retinaface.RetinaFace``),
so results equal facexlib's; only the loading differs: the state dict is read with
``weights_only=True`` from the path fsr.assets resolves, never downloaded by facexlib, and the
ResNet-50 backbone is built without torchvision's ImageNet weights (they are overwritten anyway).
"""

from __future__ import annotations

import os

import numpy as np
import torch

from fsr.face.detect_base import FaceDetector
from fsr.face.detectors import DETECTORS

# network -> its fsr.assets name, from the detector table
NETWORKS = {row.kwargs["network"]: row.assets[0] for row in DETECTORS.values()
            if row.cls == "RetinaFaceDetector"}


class RetinaFaceLoadError(ValueError):
    """A RetinaFace checkpoint does not fit the network; one-line message."""


def build_retinaface(network: str = "resnet50", device: str | torch.device = "cpu"):
    """facexlib's RetinaFace with random weights (no download: the backbone has pretrained=False)."""
    import warnings

    from facexlib.detection.retinaface import RetinaFace

    if network not in NETWORKS:
        raise ValueError(f"network must be one of {sorted(NETWORKS)}, got {network!r}")
    with warnings.catch_warnings():  # torchvision's 'pretrained is deprecated' notice
        warnings.simplefilter("ignore", UserWarning)
        return RetinaFace(network_name=network, half=False, phase="test", device=torch.device(device))


def load_retinaface(path: str | os.PathLike, network: str = "resnet50",
                    device: str | torch.device = "cpu"):
    """Build facexlib's RetinaFace and load a checkpoint (``module.`` prefixes are stripped).

    The returned module is what ``facexlib.detection.init_detection_model`` returns, so it can be
    assigned to ``FaceRestoreHelper.face_det``.
    """
    model = build_retinaface(network, device)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise RetinaFaceLoadError(f"{path}: not a state dict (got {type(state).__name__})")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    missing, unexpected = model.state_dict().keys() - state.keys(), state.keys() - model.state_dict().keys()
    if missing or unexpected:
        raise RetinaFaceLoadError(
            f"{path}: does not fit RetinaFace-{network}: {len(missing)} missing keys "
            f"(e.g. {sorted(missing)[:2]}), {len(unexpected)} unexpected (e.g. {sorted(unexpected)[:2]})")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise RetinaFaceLoadError(f"{path}: shape mismatch for RetinaFace-{network}: "
                                  f"{str(exc).splitlines()[1].strip()}") from None
    return model.eval().requires_grad_(False)


class RetinaFaceDetector(FaceDetector):
    """RetinaFace behind fsr's detector interface; scores are face probabilities.

    Args:
        network: 'resnet50' (asset retinaface-resnet50) or 'mobile0.25' (retinaface-mobilenet).
        weights: a local checkpoint; default: resolved through fsr.assets.
        nms_threshold: IoU above which lower-scored boxes are dropped (facexlib's 0.4).
    """

    default_threshold = DETECTORS["retinaface"].threshold

    def __init__(self, network: str = "resnet50", weights: str | os.PathLike | None = None,
                 device: str = "cpu", nms_threshold: float = 0.4) -> None:
        if weights is None:
            from fsr.assets import resolve

            if network not in NETWORKS:
                raise ValueError(f"network must be one of {sorted(NETWORKS)}, got {network!r}")
            weights = resolve(NETWORKS[network])
        self.name = "retinaface" if network == "resnet50" else "retinaface-mobilenet"
        self.model = load_retinaface(weights, network, device)
        self.nms_threshold = nms_threshold

    @torch.inference_mode()
    def _detect(self, img_rgb: np.ndarray, conf_threshold: float) -> np.ndarray:
        img_bgr = np.ascontiguousarray(img_rgb[..., ::-1])
        dets = self.model.detect_faces(img_bgr, conf_threshold=conf_threshold,
                                       nms_threshold=self.nms_threshold, use_origin_size=True)
        return np.asarray(dets, np.float32).reshape(-1, 15)
