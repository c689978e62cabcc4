"""MediaPipe FaceLandmarker (Tasks API): 478 landmarks, 52 blendshapes, head-pose matrix.

One landmarker per process (:func:`get_face_mesh`), closed at interpreter exit because an
unclosed one logs an error then. Tight face crops sometimes defeat MediaPipe's face detector,
so a miss is retried once on the image padded with a black border.

    from fsr.pose.mediapipe_pose import get_face_mesh
    fit = get_face_mesh().detect(img_rgb)          # None when no face is found
    fit.landmarks.shape, fit.blendshapes.shape     # ((478, 3), (52,))
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from dataclasses import dataclass

import numpy as np

from fsr.pose.common import Pose, check_rgb, rotation_to_ypr

N_LANDMARKS = 478
N_BLENDSHAPES = 52
PAD_FRACTION = 0.3  # border added on each side for the retry (fraction of the longer side)


@dataclass(frozen=True)
class FaceMeshFit:
    """One face found by MediaPipe, in the pixel frame of the image passed in.

    ``landmarks[:, 0:2]`` are x, y in pixels; ``landmarks[:, 2]`` is MediaPipe's relative
    depth scaled like x (pixels, smaller = nearer the camera). ``matrix`` is the 4x4
    canonical-face-to-camera transform (cm, GL axes).
    """

    landmarks: np.ndarray
    blendshapes: np.ndarray
    blendshape_names: tuple[str, ...]
    matrix: np.ndarray
    padded: bool

    def pose(self) -> Pose:
        """fsr's head pose: the canonical face fitted to the 468 mesh landmarks (x, y) under
        weak perspective (:mod:`fsr.pose.weak_perspective` says why not the matrix)."""
        from fsr.pose.canonical import canonical_mesh
        from fsr.pose.weak_perspective import weak_perspective_pose

        n = N_LANDMARKS - 10  # the 468 mesh vertices; the 10 iris points are not on the mesh
        return weak_perspective_pose(self.landmarks[:n, :2], canonical_mesh().vertices[:n],
                                     "mediapipe")

    def matrix_pose(self) -> Pose:
        """MediaPipe's own reading: its facial transformation matrix, which assumes a
        63-degree camera across the image (on a crop: a close camera, so less yaw)."""
        yaw, pitch, roll = rotation_to_ypr(self.matrix[:3, :3])
        return Pose(yaw, pitch, roll, True, "mediapipe-matrix")


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence the C++ graph's start-up log lines (glog/TFLite ignore their env vars here).

    Python exceptions still propagate; only writes to file descriptor 2 are dropped.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class MediaPipeFaceMesh:
    """A FaceLandmarker in IMAGE mode with blendshapes and transformation matrices on."""

    def __init__(self, model_path: str | None = None, num_faces: int = 4,
                 min_detection_confidence: float = 0.5, min_presence_confidence: float = 0.5):
        from mediapipe.tasks.python import BaseOptions, vision

        if model_path is None:
            from fsr.assets import resolve

            model_path = str(resolve("mediapipe-face-landmarker"))
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=num_faces,
            min_face_detection_confidence=min_detection_confidence,
            min_face_presence_confidence=min_presence_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        with _quiet_native_stderr():
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
            # The first inference logs too (delegate and feedback-tensor notices).
            import mediapipe as mp

            blank = np.zeros((64, 64, 3), np.uint8)
            self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=blank))
        self._lock = threading.Lock()  # the C graph is not re-entrant

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def _run(self, img: np.ndarray) -> FaceMeshFit | None:
        import mediapipe as mp

        if self._landmarker is None:
            raise RuntimeError("this MediaPipeFaceMesh was closed")
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=img)
        with self._lock:
            result = self._landmarker.detect(image)
        if not result.face_landmarks:
            return None
        h, w = img.shape[:2]
        faces = [np.array([(p.x * w, p.y * h, p.z * w) for p in lms]) for lms in result.face_landmarks]
        # several faces: keep the largest (a crop's subject, not a bystander)
        k = int(np.argmax([np.ptp(f[:, 0]) * np.ptp(f[:, 1]) for f in faces]))
        shapes = result.face_blendshapes[k] if result.face_blendshapes else []
        return FaceMeshFit(
            landmarks=faces[k],
            blendshapes=np.array([c.score for c in shapes], dtype=np.float64),
            blendshape_names=tuple(c.category_name or "" for c in shapes),
            matrix=np.asarray(result.facial_transformation_matrixes[k], dtype=np.float64),
            padded=False,
        )

    def detect(self, img_rgb: np.ndarray, retry_padded: bool = True) -> FaceMeshFit | None:
        """Fit the largest face in an RGB uint8 image, or return None when there is none."""
        img = check_rgb(img_rgb)
        fit = self._run(img)
        if fit is not None or not retry_padded:
            return fit
        pad = int(round(PAD_FRACTION * max(img.shape[:2])))
        padded = np.pad(img, ((pad, pad), (pad, pad), (0, 0)))
        fit = self._run(padded)
        if fit is None:
            return None
        lms = fit.landmarks.copy()
        lms[:, :2] -= pad
        return FaceMeshFit(lms, fit.blendshapes, fit.blendshape_names, fit.matrix, padded=True)


_SINGLETON: MediaPipeFaceMesh | None = None
_SINGLETON_LOCK = threading.Lock()


def get_face_mesh() -> MediaPipeFaceMesh:
    """The process-wide landmarker (created on first use, closed at exit)."""
    global _SINGLETON
    with _SINGLETON_LOCK:
        if _SINGLETON is None:
            _SINGLETON = MediaPipeFaceMesh()
            _register_close()
        return _SINGLETON


def _register_close() -> None:
    # mediapipe runs its C calls on a ThreadPoolExecutor, which is shut down by threading's
    # exit hooks *before* atexit callbacks; close from a threading exit hook (run in reverse
    # registration order, so before the executor's) and fall back to atexit.
    register = getattr(threading, "_register_atexit", None)
    try:
        register(_close_singleton)
    except Exception:  # noqa: BLE001  (private API missing or already shutting down)
        atexit.register(_close_singleton)


def _close_singleton() -> None:
    global _SINGLETON
    if _SINGLETON is not None:
        try:
            _SINGLETON.close()
        except RuntimeError:  # interpreter already tearing mediapipe down
            pass
        _SINGLETON = None


def mediapipe_pose(img_rgb: np.ndarray, matrix: bool = False) -> Pose:
    """Head pose from MediaPipe's landmarks (weak perspective), or with ``matrix`` from its
    facial transformation matrix; ``ok=False`` if no face."""
    fit = get_face_mesh().detect(img_rgb)
    if fit is None:
        return Pose(ok=False, method="mediapipe-matrix" if matrix else "mediapipe")
    return fit.matrix_pose() if matrix else fit.pose()
