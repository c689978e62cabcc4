"""Calibrate face profiling's turn to fsr.pose's yaw scale, on TRAIN-split identities (never test).

fsr.synth.profile turns the fitted 3D head by an angle; fsr.pose (MediaPipe's landmarks under
weak perspective, the estimator that buckets every real photo in the benchmark) reads about
0.9 of that turn on the renders. So that a sweep image labelled "yaw 30" sits where fsr.pose
would put a real photo at 30, the library maps a requested yaw to the geometric turn through
a table measured here: for near-frontal train crops (|yaw| < 12, one per identity), the
median change of yaw (render minus source) at each geometric turn, both signs pooled. The
held-out check (test identities) is ``bench/studies/profile_accuracy.py``.

    uv run python bench/studies/profile_calibration.py            # prints the table
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

TURNS = (10, 20, 30, 40, 50, 55, 60, 65, 70, 80)
# rotate_geometric, not render_profile: the table measures the uncalibrated turn


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-sources", type=int, default=12)
    ap.add_argument("--splits", default="train",
                    help="sample-set splits to calibrate on, e.g. train,val (never test: it "
                    "checks the table); the committed table is train's")
    ap.add_argument("--max-abs-yaw", type=float, default=12.0, help="near-frontal sources only")
    args = ap.parse_args()
    from fsr.data.samples import load_samples
    from fsr.imageio import read_image
    from fsr.pose import estimate_pose
    from fsr.synth.profile import build_image_mesh, rotate_geometric

    seen, sources = set(), []
    splits = args.splits.split(",")
    if "test" in splits:
        ap.error("the test split is the held-out check (profile_accuracy.py); calibrate on others")
    for s in (s for split in splits for s in load_samples(split)):
        if s.is_photo and s.pose_ok and abs(s.yaw) < args.max_abs_yaw and s.identity not in seen:
            seen.add(s.identity)
            sources.append(s)
    sources = sources[: args.max_sources]
    got: dict[int, list[float]] = {t: [] for t in TURNS}
    for s in sources:
        img = read_image(s.path)
        mesh = build_image_mesh(img)
        for t in TURNS:
            for sign in (1, -1):
                out = rotate_geometric(img, mesh, sign * t)
                p = estimate_pose(out.image)
                if p.ok:
                    got[t].append(sign * (p.yaw - mesh.source_yaw))
        print(f"{s.id}: done", file=sys.stderr)
    print(f"# {len(sources)} {'+'.join(splits)} identities: {', '.join(s.identity for s in sources)}")
    print("turn  median_mediapipe_change  n")
    for t in TURNS:
        v = np.array(got[t])
        print(f"{t:4d}  {np.median(v):6.1f}  {len(v)}" if len(v) else f"{t:4d}  nan  0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
