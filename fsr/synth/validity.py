"""How much of a synthetic-pose render is still a face: what the detectors find on it, whether
it keeps the source's person, and how much of it is filled rather than real photo texture.

    from fsr.synth.validity import render_validity
    v = render_validity(render_rgb, source_rgb, mask, yaw_measured)
    v.is_face, v.same_person, v.valid          # (True, True, True) on a good render

* ``detector_found``: dlib's HOG detector, else its CNN (MMOD) detector, finds a face in the
  render (HOG is trained on frontal faces; MMOD sees turned ones);
* ``mediapipe_found``: MediaPipe's face detector + landmarks find one (``yaw_measured`` is
  not None: :func:`fsr.pose.estimate_pose` on the render, measured when the render is made);
* ``identity_distance``: dlib's ResNet distance between the render and its source, each in its
  own face box (a render is not pixel-aligned with its source); nan where no detector finds
  the render's face;
* ``filled_fraction``: the share of the render's pixels that are not real photo texture
  (:data:`fsr.synth.profile.MASK_FILLED`: stretched or inpainted).

A render **is a face** when either detector finds one, and is **valid** when it is a face that
keeps the person (``identity_distance`` < :data:`SAME_PERSON_DISTANCE`, dlib's threshold).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

SAME_PERSON_DISTANCE = 0.6  # dlib's same-person threshold (LFW)
VALIDITY_FIELDS = ("detector_found", "mediapipe_found", "identity_distance", "filled_fraction")


@dataclass(frozen=True)
class RenderValidity:
    detector_found: bool
    mediapipe_found: bool
    identity_distance: float
    filled_fraction: float

    @property
    def is_face(self) -> bool:
        return self.detector_found or self.mediapipe_found

    @property
    def same_person(self) -> bool:
        return math.isfinite(self.identity_distance) and \
            self.identity_distance < SAME_PERSON_DISTANCE

    @property
    def valid(self) -> bool:
        return self.is_face and self.same_person

    def as_dict(self) -> dict:
        """JSON-ready fields (nan distance as None) plus ``is_face``, ``same_person``, ``valid``."""
        d = asdict(self)
        d["identity_distance"] = None if not math.isfinite(self.identity_distance) else \
            round(float(self.identity_distance), 4)
        d["filled_fraction"] = round(float(self.filled_fraction), 4)
        return {**d, "is_face": self.is_face, "same_person": self.same_person,
                "valid": self.valid}

    @classmethod
    def from_dict(cls, d: dict) -> RenderValidity:
        dist = d.get("identity_distance")
        return cls(bool(d["detector_found"]), bool(d["mediapipe_found"]),
                   math.nan if dist is None else float(dist), float(d["filled_fraction"]))


_IDENTITY = []  # one dlib embedder (HOG, else MMOD) shared by every call of this process


def _identity():
    if not _IDENTITY:
        from fsr.metrics.identity import IdentitySimilarity

        _IDENTITY.append(IdentitySimilarity(backend="dlib", statistic="distance",
                                            cnn_fallback=True))
    return _IDENTITY[0]


def render_validity(render_rgb: np.ndarray, source_rgb: np.ndarray, mask: np.ndarray,
                    yaw_measured: float | None) -> RenderValidity:
    """Validity of one render of ``source_rgb`` (both HxWx3 uint8 RGB); ``mask`` is the
    render's real/filled mask and ``yaw_measured`` MediaPipe's yaw on it (None or nan: no face)."""
    import torch

    from fsr.synth.profile import MASK_FILLED

    def t(a):
        return torch.from_numpy(np.array(a)).permute(2, 0, 1)[None].float() / 255

    ident = _identity()
    dist = float(ident(t(render_rgb), t(source_rgb))[0])
    found = ident.last_boxes[0] == "detected"
    mp = yaw_measured is not None and math.isfinite(float(yaw_measured))
    return RenderValidity(found, mp, dist if found else math.nan,
                          float((np.asarray(mask) == MASK_FILLED).mean()))


__all__ = ["SAME_PERSON_DISTANCE", "VALIDITY_FIELDS", "RenderValidity", "render_validity"]
