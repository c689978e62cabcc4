"""Layout of the prior's coefficient vector (fsr's stand-in for the authors' 3DMM coefficients).

    >>> COEFF_LEN
    117
    >>> parts = unpack_coeffs(np.zeros(COEFF_LEN)); parts["lighting"].shape
    (27,)

=============  ====  ==========================================================================
part           len   meaning
=============  ====  ==========================================================================
rotation       3     yaw, pitch, roll in radians (convention of :mod:`fsr.pose.common`)
translation    3     MediaPipe canonical-face-to-camera translation, cm, GL camera axes
expression     52    MediaPipe blendshape scores in [0, 1] (``_neutral`` first; ARKit names)
identity       32    :func:`fsr.priors.mesh.identity_descriptor`: relative pair-length
                     deviations of the pose-normalised mesh from the canonical face
lighting       27    SH coefficients, 9 per R, G, B channel (channel-major, basis order
                     :data:`fsr.priors.render.SH_ORDER`), albedo folded in
=============  ====  ==========================================================================

Unfitted priors (the template fallback) have zero rotation, translation, expression and
identity, and the default lighting.
"""

from __future__ import annotations

import numpy as np

COEFF_LAYOUT: tuple[tuple[str, int], ...] = (
    ("rotation", 3),
    ("translation", 3),
    ("expression", 52),
    ("identity", 32),
    ("lighting", 27),
)
COEFF_LEN = sum(n for _, n in COEFF_LAYOUT)


def coeff_slices() -> dict[str, slice]:
    """{part: slice into the coefficient vector}."""
    out, start = {}, 0
    for name, n in COEFF_LAYOUT:
        out[name] = slice(start, start + n)
        start += n
    return out


def pack_coeffs(**parts: np.ndarray) -> np.ndarray:
    """Concatenate the parts of :data:`COEFF_LAYOUT` (all required) into one float32 vector."""
    missing = [n for n, _ in COEFF_LAYOUT if n not in parts]
    extra = sorted(set(parts) - {n for n, _ in COEFF_LAYOUT})
    if missing or extra:
        raise ValueError(f"coefficient parts: missing {missing}, unknown {extra}")
    chunks = []
    for name, n in COEFF_LAYOUT:
        v = np.asarray(parts[name], dtype=np.float32).ravel()
        if v.size != n:
            raise ValueError(f"coefficient part {name!r} needs {n} values, got {v.size}")
        chunks.append(v)
    return np.concatenate(chunks)


def unpack_coeffs(coeffs: np.ndarray) -> dict[str, np.ndarray]:
    """Split a coefficient vector of length :data:`COEFF_LEN` into its named parts."""
    coeffs = np.asarray(coeffs)
    if coeffs.shape != (COEFF_LEN,):
        raise ValueError(f"expected {COEFF_LEN} coefficients, got shape {coeffs.shape}")
    return {name: coeffs[sl] for name, sl in coeff_slices().items()}
