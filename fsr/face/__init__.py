"""Face detection, FFHQ alignment and paste-back, compatible with facexlib's conventions.

    >>> from fsr.face import FacePipeline, create_detector
    >>> pipe = FacePipeline(create_detector("auto"), out_size=512, upscale=2)

Modules: ``detect_base`` (output format, NMS), ``detect_mtcnn``, ``detect_dlib``,
``detect_retinaface``, ``detectors`` (factory), ``align``, ``paste``, ``pipeline``.
Names are imported lazily so that ``import fsr.face`` does not load torch or dlib.
"""

from importlib import import_module

_EXPORTS = {
    "create_detector": "detectors", "DetectorUnavailable": "detectors",
    "for_face_restore_helper": "detectors", "AUTO_ORDER": "detectors",
    "FaceDetector": "detect_base", "FaceDetectionError": "detect_base",
    "MTCNNDetector": "detect_mtcnn", "DlibHogDetector": "detect_dlib",
    "DlibCnnDetector": "detect_dlib", "RetinaFaceDetector": "detect_retinaface",
    "align_face": "align", "face_template": "align", "estimate_affine": "align",
    "invert_affine": "align", "AlignmentError": "align",
    "paste_faces": "paste", "upsample_background": "paste", "FaceParser": "paste",
    "ellipse_mask": "paste", "FacePipeline": "pipeline", "Face": "pipeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"fsr.face.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'fsr.face' has no attribute {name!r}")
