"""The numpy rasteriser against a per-pixel reference, and the SH lighting maths."""

import numpy as np
import pytest

from fsr.priors.render import (
    directional_sh,
    interpolate,
    rasterize,
    sh_basis,
    shade,
    vertex_normals,
)


def _reference(verts, faces, h, w):
    best, fid = np.full((h, w), np.inf), np.full((h, w), -1)
    for f, (a, b, c) in enumerate(faces):
        A, B, C = verts[a], verts[b], verts[c]
        area = (B[0] - A[0]) * (C[1] - A[1]) - (B[1] - A[1]) * (C[0] - A[0])
        if abs(area) < 1e-9:
            continue
        for i in range(h):
            for j in range(w):
                px, py = j + 0.5, i + 0.5
                w0 = ((C[0] - B[0]) * (py - B[1]) - (C[1] - B[1]) * (px - B[0])) / area
                w1 = ((A[0] - C[0]) * (py - C[1]) - (A[1] - C[1]) * (px - C[0])) / area
                w2 = 1 - w0 - w1
                if min(w0, w1, w2) >= -1e-6:
                    z = w0 * A[2] + w1 * B[2] + w2 * C[2]
                    if z < best[i, j] - 1e-5 or (abs(z - best[i, j]) <= 1e-5 and f > fid[i, j]):
                        best[i, j], fid[i, j] = z, f
    return fid, best


def test_matches_per_pixel_reference():
    rng = np.random.default_rng(0)
    verts = rng.random((60, 3)) * np.array([40.0, 30.0, 10.0]) - np.array([4.0, 3.0, 0.0])
    faces = rng.integers(0, 60, (40, 3))
    ras = rasterize(verts, faces, 30, 40)
    fid, depth = _reference(verts.astype(np.float32).astype(np.float64), faces, 30, 40)
    assert (ras.face_id == fid).mean() > 0.998  # float32 ties on shared edges may differ
    fg = fid >= 0
    assert np.allclose(ras.depth[fg], depth[fg], atol=1e-4)
    assert np.isinf(ras.depth[~fg]).all() and (ras.bary[~fg] == 0).all()
    assert np.allclose(ras.bary[fg].sum(-1), 1, atol=1e-5)


def test_nearer_triangle_wins_and_quad_has_no_gaps():
    quad = np.array([[0, 0, 5], [16, 0, 5], [16, 12, 5], [0, 12, 5]], float)
    near = np.array([[2, 2, 1], [10, 2, 1], [2, 10, 1]], float)
    verts = np.vstack([quad, near])
    faces = np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6]])
    ras = rasterize(verts, faces, 12, 16)
    assert (ras.face_id >= 0).all()  # the two quad halves tile the image exactly
    assert ras.face_id[3, 3] == 2 and ras.depth[3, 3] == pytest.approx(1.0)
    assert ras.face_id[10, 14] in (0, 1) and ras.depth[10, 14] == pytest.approx(5.0)
    colour = interpolate(np.eye(7)[:, :3], faces, ras)  # vertex one-hots -> barycentrics
    assert colour[10, 14].sum() == pytest.approx(1.0, abs=1e-5) and colour[3, 3, :3].sum() == 0


def test_degenerate_and_offscreen_triangles_are_ignored():
    verts = np.array([[0, 0, 0], [5, 5, 0], [10, 10, 0], [-50, -50, 0], [-40, -50, 0], [-50, -40, 0]], float)
    ras = rasterize(verts, np.array([[0, 1, 2], [3, 4, 5]]), 8, 8)
    assert (ras.face_id == -1).all()
    with pytest.raises(ValueError):
        rasterize(verts[:, :2], np.array([[0, 1, 2]]), 8, 8)
    with pytest.raises(ValueError):
        rasterize(verts, np.array([[0, 1, 2]]), 0, 8)


def test_vertex_normals_of_a_plane():
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], float)
    n = vertex_normals(verts, np.array([[0, 1, 2], [1, 3, 2]]))
    assert np.allclose(n, [0, 0, 1])


def test_directional_sh_approximates_lambert():
    sh = directional_sh((1.0, 0.5, 0.25), ambient=0.3, direction=(0, 0, 1))
    assert sh.shape == (27,)
    n = np.array([[0, 0, 1.0], [1, 0, 0.0], [0, 0.6, 0.8]])
    target = 0.3 + 0.7 * np.clip(n @ [0, 0, 1], 0, None)
    got = shade(n, sh)
    assert np.allclose(got[:, 0], target, atol=0.08)
    assert np.allclose(got[:, 1], 0.5 * got[:, 0], atol=1e-5)


def test_sh_fit_recovers_known_lighting():
    from fsr.priors.prior import estimate_sh

    rng = np.random.default_rng(1)
    n = rng.normal(size=(400, 3))
    n[:, 2] = np.abs(n[:, 2])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    true = directional_sh((0.8, 0.6, 0.5), 0.4, (0.5, 0.2, 1.0))
    colours = shade(n, true)
    fitted = estimate_sh(n, colours, directional_sh((0.7,) * 3, 0.35, (0.3, 0.4, 1.0)))
    assert np.abs(shade(n, fitted) - colours).max() < 0.03
    assert sh_basis(n).shape == (400, 9)
