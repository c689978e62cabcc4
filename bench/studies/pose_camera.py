"""Which camera should a face crop's yaw assume? MediaPipe's matrix (a 63-degree camera across
the crop) against weak-perspective fits, on the embedded sample crops (docs/profiling.md,
"Which yaw").

For every sample crop MediaPipe finds, it reads yaw four ways: fsr.pose (MediaPipe's 468
landmarks, weak perspective), MediaPipe's own matrix, dlib's 68 points under weak perspective
and dlib's 68 points with ``cv2.solvePnP`` and a crop-sized pinhole (focal = max(H, W)). It
prints the least-squares slope of fsr.pose's yaw on the matrix's over all crops, each reading's
median ratio to dlib's weak-perspective one on turned test crops, and how deep MediaPipe's
predicted landmarks are against its canonical face on near-frontal test crops (slope of z on
the canonical z after a 2D similarity fit; 1 = the canonical face's relief).

    uv run python bench/studies/pose_camera.py          # ~1 min
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-abs-yaw", type=float, default=8.0,
                    help="turned crops: |dlib weak-perspective yaw| above this")
    args = ap.parse_args()
    from fsr.data.samples import load_samples
    from fsr.imageio import read_image
    from fsr.pose.mediapipe_pose import get_face_mesh
    from fsr.pose.pnp import detect_68, solve_pose_68
    from fsr.priors.mesh import N_MESH_VERTICES, canonical_screen_vertices, similarity_2d

    canon = canonical_screen_vertices()
    rows, relief = [], []
    for s in load_samples(None):
        img = read_image(s.path)
        fit = get_face_mesh().detect(img)
        if fit is None:
            continue
        pts = detect_68(img)
        wp, mat = fit.pose(), fit.matrix_pose()
        d_wp = solve_pose_68(pts, img.shape[:2]) if pts is not None else None
        d_pin = solve_pose_68(pts, img.shape[:2], focal=max(img.shape[:2])) \
            if pts is not None else None
        rows.append((s.split, wp.yaw, mat.yaw,
                     d_wp.yaw if d_wp is not None and d_wp.ok else np.nan,
                     d_pin.yaw if d_pin is not None and d_pin.ok else np.nan))
        if s.split == "test" and abs(wp.yaw) < 10:
            face = fit.landmarks[:N_MESH_VERTICES]
            sc, _, _ = similarity_2d(canon[:, :2], face[:, :2])
            zc, zf = sc * canon[:, 2], face[:, 2]
            zc, zf = zc - zc.mean(), zf - zf.mean()
            relief.append(float((zf * zc).sum() / (zc * zc).sum()))
    split = np.array([r[0] for r in rows])
    y = np.array([r[1:] for r in rows], dtype=np.float64)  # fsr.pose, matrix, dlib wp, dlib pinhole
    slope = float((y[:, 0] * y[:, 1]).sum() / (y[:, 1] ** 2).sum())
    print(f"All {len(y)} sample crops MediaPipe finds: fsr.pose yaw = {slope:.3f} x the "
          "matrix's (least squares through 0)")
    turned = (split == "test") & np.isfinite(y[:, 2]) & (np.abs(y[:, 2]) > args.min_abs_yaw)
    print(f"\nTest crops with |dlib weak-perspective yaw| > {args.min_abs_yaw:g} (n = "
          f"{int(turned.sum())}), median ratio to dlib's weak-perspective yaw:\n")
    print("| reading | camera | ratio |\n|---|---|---|")
    for k, name, cam in ((1, "MediaPipe matrix", "63-degree pinhole"),
                         (3, "dlib 68 + solvePnP", "pinhole, focal = crop size"),
                         (0, "fsr.pose (MediaPipe landmarks)", "weak perspective")):
        ok = turned & np.isfinite(y[:, k])
        print(f"| {name} | {cam} | {np.median(y[ok, k] / y[ok, 2]):.2f} |")
    q = np.percentile(relief, [25, 50, 75])
    print(f"\nMediaPipe's depth against the canonical face, near-frontal test crops (n = "
          f"{len(relief)}): slope {q[1]:.2f} (IQR {q[0]:.2f}-{q[2]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
