"""Does a render look turned by its 3D turn? MediaPipe's landmarks on the render against the
rendered geometry, on HELD-OUT (test-split) near-frontal crops.

A render's ground truth is known: the rotated mesh (``fsr.synth.profile.rotate_points``). For
each geometric turn this measures, over one near-frontal crop per test identity (both signs):

* ``found``: renders on which MediaPipe finds a face;
* ``2D error``: median distance between MediaPipe's 468 landmarks on the render and the rotated
  mesh's projection, in inter-ocular distances (a render that looked less turned than its
  geometry would move the landmarks away from it);
* ``matrix``: the median change of MediaPipe's own yaw (its facial transformation matrix,
  a 63-degree camera across the crop), as a fraction of the turn;
* ``weak perspective``: the same for fsr.pose's yaw (the canonical face fitted to MediaPipe's
  2D landmarks under weak perspective, what the benchmark buckets by);
* ``landmarks``: the same from a similarity fit of MediaPipe's canonical face to MediaPipe's
  3D landmarks on its weighted Procrustes points (orthographic, MediaPipe's predicted depth).

    uv run python bench/studies/profile_geometry.py [--turns 15,30,45,60,70]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def procrustes_yaw(landmarks: np.ndarray) -> float:
    """Yaw (degrees, fsr.pose sign) of a weighted similarity fit of the canonical face."""
    from fsr.pose.canonical import canonical_mesh
    from fsr.pose.common import rotation_to_ypr
    from fsr.priors.mesh import N_MESH_VERTICES, canonical_screen_vertices, similarity_3d

    mesh = canonical_mesh()
    ids = mesh.procrustes_ids
    _, rot, _ = similarity_3d(canonical_screen_vertices()[ids],
                              np.asarray(landmarks)[:N_MESH_VERTICES][ids], mesh.procrustes_weights)
    flip = np.diag([1.0, -1.0, -1.0])  # screen axes -> GL axes, the matrix's frame
    return float(rotation_to_ypr(flip @ rot @ flip)[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", default="15,30,45,60,70")
    ap.add_argument("--max-abs-yaw", type=float, default=12.0)
    args = ap.parse_args()
    from fsr.data.samples import load_samples
    from fsr.imageio import read_image
    from fsr.pose.mediapipe_pose import get_face_mesh
    from fsr.priors.mesh import N_MESH_VERTICES, fit_mesh, five_points
    from fsr.synth.profile import build_image_mesh, rotate_geometric, rotate_points

    turns = [float(t) for t in args.turns.split(",")]
    seen, sources = set(), []
    for s in load_samples("test"):
        if s.is_photo and s.pose_ok and abs(s.yaw) < args.max_abs_yaw and s.identity not in seen:
            seen.add(s.identity)
            sources.append(s)
    rows = {t: {"n": 0, "found": 0, "err": [], "matrix": [], "wp": [], "lms": []} for t in turns}
    for s in sources:
        img = read_image(s.path)
        source_fit = fit_mesh(img)  # one fit: the mesh and the source's matrix yaw
        mesh = build_image_mesh(img, source_fit)
        face = mesh.points[:N_MESH_VERTICES]
        iod = float(np.linalg.norm(np.subtract(*five_points(face)[:2])))
        base_lms = procrustes_yaw(face)
        base_matrix = source_fit.matrix_pose().yaw
        for t in turns:
            for sign in (1.0, -1.0):
                r = rows[t]
                r["n"] += 1
                out = rotate_geometric(img, mesh, sign * t)
                fit = get_face_mesh().detect(out.image)
                if fit is None:
                    continue
                truth = rotate_points(mesh, sign * t)[:N_MESH_VERTICES]
                lms = fit.landmarks[:N_MESH_VERTICES]
                r["found"] += 1
                r["err"].append(np.median(np.linalg.norm(lms[:, :2] - truth[:, :2], axis=1)) / iod)
                r["matrix"].append(sign * (fit.matrix_pose().yaw - base_matrix) / t)
                r["wp"].append(sign * (fit.pose().yaw - mesh.source_yaw) / t)
                r["lms"].append(sign * (procrustes_yaw(lms) - base_lms) / t)
        print(f"{s.id}: done", file=sys.stderr)
    print(f"Held-out test identities: {len(sources)} near-frontal crops (|source yaw| < "
          f"{args.max_abs_yaw:g}), both signs. Medians over the renders MediaPipe finds.\n")
    print("| geometric turn | n | MediaPipe found | 2D landmark error (inter-ocular) | "
          "yaw read / turn: matrix | weak perspective | landmarks |")
    print("|---|---|---|---|---|---|---|")

    def med(values, fmt=".2f"):
        return format(float(np.median(values)), fmt) if values else "-"

    for t in turns:
        r = rows[t]
        print(f"| {t:g} | {r['n']} | {r['found']} | {med(r['err'], '.3f')} | {med(r['matrix'])} | "
              f"{med(r['wp'])} | {med(r['lms'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
