"""Pick a face detector by name; 'auto' takes the most accurate one whose weights resolve.

    >>> from fsr.face.detectors import create_detector
    >>> det = create_detector("auto")          # retinaface if its weights are there, else mtcnn...
    >>> det.name
    'mtcnn'

Order for 'auto' (:data:`AUTO_ORDER`): retinaface > mtcnn > dlib-hog. On the 63 by-eye-counted
photos of docs/faces.md (78 faces) MTCNN finds 75 with 1 false positive, dlib-HOG 74 with 2
(69 at zero false positives: it misses turned faces); RetinaFace-ResNet50 is the detector
facexlib, GFPGAN and CodeFormer use and what their crops expect, so it comes first when a user
has its weights. dlib-cnn found 77 but is ~9x slower than MTCNN: selectable, never automatic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fsr.face.detect_base import FaceDetector


@dataclass(frozen=True)
class DetectorRow:
    """One detector: where its class lives, the assets it loads, its default score threshold."""

    module: str  # fsr.face.<module>
    cls: str
    assets: tuple[str, ...]  # fsr.assets names of the weights it loads (by default)
    threshold: float  # detections scoring below are dropped when no threshold is given
    kwargs: dict = field(default_factory=dict)  # constructor defaults that select this row
    auto: bool = False  # tried by 'auto', in table order


# The one table of detectors (names, classes, assets, thresholds, 'auto' order); the detector
# classes read their thresholds and asset names from it.
DETECTORS: dict[str, DetectorRow] = {
    "retinaface": DetectorRow("detect_retinaface", "RetinaFaceDetector", ("retinaface-resnet50",),
                              0.9, {"network": "resnet50"}, auto=True),
    "retinaface-mobilenet": DetectorRow("detect_retinaface", "RetinaFaceDetector",
                                        ("retinaface-mobilenet",), 0.9, {"network": "mobile0.25"}),
    "mtcnn": DetectorRow("detect_mtcnn", "MTCNNDetector", ("mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet"),
                         0.9, auto=True),
    "dlib-hog": DetectorRow("detect_dlib", "DlibHogDetector", ("dlib-sp68",), 0.5, auto=True),
    "dlib-cnn": DetectorRow("detect_dlib", "DlibCnnDetector", ("dlib-mmod", "dlib-sp68"), 0.5),
}
AUTO_ORDER = tuple(name for name, row in DETECTORS.items() if row.auto)
DETECTOR_NAMES = ("auto", *DETECTORS)


class DetectorUnavailable(RuntimeError):
    """No detector of the requested kind could be built; one-line message with the reasons."""


def _row(name: str) -> DetectorRow:
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTOR_NAMES)}")
    return DETECTORS[name]


def _detector_class(name: str) -> type:
    from importlib import import_module

    row = _row(name)
    return getattr(import_module(f"fsr.face.{row.module}"), row.cls)


def default_threshold(name: str) -> float:
    """The score threshold a detector uses by default, without building it (loads no weights).

    >>> default_threshold("mtcnn"), default_threshold("dlib-hog")
    (0.9, 0.5)
    """
    return _row(name).threshold


def _build(name: str, **kwargs) -> FaceDetector:
    row = _row(name)
    return _detector_class(name)(**{**row.kwargs, **kwargs})


def create_detector(name: str = "auto", **kwargs) -> FaceDetector:
    """Build a detector by name: 'auto', 'retinaface', 'retinaface-mobilenet', 'mtcnn',
    'dlib-hog' or 'dlib-cnn'. ``kwargs`` go to the detector's constructor (not with 'auto').

    Raises DetectorUnavailable (one line) when the weights cannot be resolved.
    """
    from fsr.assets import AssetError

    if name != "auto":
        try:
            return _build(name, **kwargs)
        except AssetError as exc:
            raise DetectorUnavailable(f"detector {name!r} unavailable: {exc}") from None
    if kwargs:
        raise ValueError("create_detector('auto') takes no detector options; name a detector")
    reasons = []
    for candidate in AUTO_ORDER:
        try:
            return _build(candidate)
        except AssetError as exc:
            reasons.append(f"{candidate}: {exc}")
    raise DetectorUnavailable("no face detector available: " + " | ".join(reasons))


class FaceRestoreHelperDetector:
    """Adapter for ``facexlib``'s ``FaceRestoreHelper.face_det``: it calls
    ``detect_faces(img, 0.97)``; this keeps the wrapped detector's own threshold instead
    (0.97 suits RetinaFace's probabilities, not dlib's calibrated margins)."""

    def __init__(self, detector: FaceDetector, threshold: float | None = None) -> None:
        self.detector, self.threshold = detector, threshold

    def detect_faces(self, img_bgr: np.ndarray, conf_threshold: float | None = None,
                     *args, **kwargs) -> np.ndarray:
        return self.detector.detect_faces(img_bgr, self.threshold)


def for_face_restore_helper(detector: FaceDetector, threshold: float | None = None):
    """Wrap ``detector`` so facexlib's FaceRestoreHelper can use it as ``face_det``.

    Example:
        helper.face_det = for_face_restore_helper(create_detector("mtcnn"))
    """
    return FaceRestoreHelperDetector(detector, threshold)
