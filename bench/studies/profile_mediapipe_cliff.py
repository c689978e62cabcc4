"""Where MediaPipe stops finding the unseen crops' renders between 45 and 60 degrees, and whether
the filled (stretched or inpainted) pixels are what hides the face from it.

Per |target yaw| (both signs): the share of renders of ``bench/studies/unseen_faces/`` in which
MediaPipe finds a face, and the same share with every filled pixel (the render's mask) set to
grey. Equal shares mean the filled pixels are not what it trips on. No dlib, so fast.

    uv run python bench/studies/profile_mediapipe_cliff.py [--yaws 45,50,55,60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

UNSEEN = Path(__file__).resolve().parent / "unseen_faces"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--yaws", default="45,50,55,60")
    args = ap.parse_args()
    from fsr.imageio import read_image
    from fsr.pose import estimate_pose
    from fsr.synth.profile import MASK_FILLED
    from fsr.synth.profile_io import parse_yaws, profile_image

    yaws = parse_yaws(args.yaws, both_signs=True)
    found: dict[float, list[tuple[bool, bool]]] = {abs(y): [] for y in yaws}
    for path in sorted(UNSEEN.glob("*.png")):
        for r in profile_image(read_image(path), yaws):
            grey = r.image.copy()
            grey[r.mask == MASK_FILLED] = 128
            found[abs(r.yaw_target)].append((bool(np.isfinite(r.yaw_measured)),
                                             estimate_pose(grey).ok))
    print("| target yaw | renders | MediaPipe finds a face | with filled pixels grey |")
    print("|---|---:|---:|---:|")
    for y, f in sorted(found.items()):
        a = np.array(f)
        print(f"| {y:g} | {len(a)} | {a[:, 0].mean():.0%} | {a[:, 1].mean():.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
