"""Measure the mean face layout behind fsr.face.detect_dlib.SP5_LAYOUT and its error.

    .venv/bin/python tools/dlib_sp5_layout.py [--raw DIR]

For every dlib-HOG face in the real photos (non-photos excluded), dlib's 68-point landmarks give
the eye centres, nose tip (30), subnasale (33) and mouth corners (48, 54). They are expressed in
an eye frame (origin: eye midpoint, x along the eyes, unit: inter-ocular distance, IOD); the
medians are the layout. It then reports how far the sp5-based estimate (five_from_sp5) lands from
the 68-point landmarks, in IOD (in-sample: the layout was fitted on these faces).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from fsr.data.raw_faces import RAW_HELP, RawFacesMissing, default_raw, require_raw

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    import dlib

    from fsr.assets import resolve
    from fsr.face.detect_dlib import five_from_68, five_from_sp5
    from fsr.imageio import read_image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", type=Path, default=default_raw(), help=RAW_HELP)
    args = ap.parse_args()
    try:
        require_raw(args.raw)
    except RawFacesMissing as err:
        ap.exit(2, f"dlib_sp5_layout: {err}\n")
    files = json.loads((ROOT / "tests/face/data/face_counts.json").read_text())
    hog = dlib.get_frontal_face_detector()
    sp5 = dlib.shape_predictor(str(resolve("dlib-sp5")))
    sp68 = dlib.shape_predictor(str(resolve("dlib-sp68")))
    rows, errors = [], []
    for rel in files:
        img = read_image(args.raw / rel)
        for rect in hog.run(img, 1, 0.3)[0]:
            p68 = np.array([(p.x, p.y) for p in sp68(img, rect).parts()], float)
            p5 = np.array([(p.x, p.y) for p in sp5(img, rect).parts()], float)
            le, re = p68[36:42].mean(0), p68[42:48].mean(0)
            iod = np.linalg.norm(re - le)
            ux = (re - le) / iod
            uy = np.array([-ux[1], ux[0]])

            def frame(q, le=le, re=re, ux=ux, uy=uy, iod=iod):
                c = (le + re) / 2
                return [float((q - c) @ ux / iod), float((q - c) @ uy / iod)]

            rows.append(frame(p68[30]) + frame(p68[33]) + frame(p68[48]) + frame(p68[54]))
            errors.append(np.linalg.norm(five_from_sp5(p5) - five_from_68(p68), axis=1) / iod)
    rows, errors = np.array(rows), np.array(errors)
    print(f"{len(rows)} faces from {len(files)} photos")
    for i, name in enumerate(["nose_tip(30)", "subnasale(33)", "mouth_left(48)", "mouth_right(54)"]):
        med, std = np.median(rows[:, 2 * i:2 * i + 2], 0), rows[:, 2 * i:2 * i + 2].std(0)
        print(f"{name:16s} median x {med[0]:+.3f} y {med[1]:.3f}   std x {std[0]:.3f} y {std[1]:.3f}")
    for i, name in enumerate(["eye_left", "eye_right", "nose_tip", "mouth_left", "mouth_right"]):
        e = errors[:, i]
        print(f"sp5 estimate error {name:11s}: median {np.median(e):.3f}  p90 "
              f"{np.percentile(e, 90):.3f}  max {e.max():.3f} IOD")


if __name__ == "__main__":
    main()
