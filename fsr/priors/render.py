"""Pure-numpy z-buffer rasteriser and spherical-harmonics (SH) Lambertian shading.

Orthographic: vertices are (x, y, z) in pixels of the output image (x right, y down, pixel
(i, j) has its centre at (j + 0.5, i + 0.5)), z grows away from the camera. Triangles are
rasterised in vectorised batches: each triangle's bounding box is laid on a grid padded to a
power-of-two size shared by its batch, edge functions decide coverage, and a scatter-min over
depth resolves visibility (ties go to the higher triangle index).

    >>> v = np.array([[2., 2., 0.], [30., 4., 0.], [6., 28., 0.]])
    >>> ras = rasterize(v, np.array([[0, 1, 2]]), 32, 32)
    >>> int((ras.face_id >= 0).sum())  # pixels covered
    372

SH lighting: 9 real SH basis functions of the unit normal (GL view axes: x right, y up,
z towards the viewer) with the Lambertian convolution factors folded in (Ramamoorthi &
Hanrahan 2001), so ``colour = basis(n) @ coeffs`` is the irradiance times albedo; the
per-channel coefficients are 9 numbers each (27 for RGB).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

SH_ORDER = ("1", "y", "z", "x", "xy", "yz", "3z^2-1", "xz", "x^2-y^2")
_C0 = 1.0 / math.sqrt(4 * math.pi)
_C1 = math.sqrt(3.0 / (4 * math.pi))
_C2 = 3.0 * math.sqrt(5.0 / (12 * math.pi))
_A0, _A1, _A2 = math.pi, 2 * math.pi / math.sqrt(3.0), 2 * math.pi / math.sqrt(8.0)


@dataclass
class Raster:
    """Per-pixel result: visible triangle (-1 = background), barycentrics, depth."""

    face_id: np.ndarray  # (H, W) int64
    bary: np.ndarray  # (H, W, 3) float32, zeros on background
    depth: np.ndarray  # (H, W) float32, +inf on background


def _edge(ax, ay, bx, by, px, py):
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


def rasterize(verts: np.ndarray, faces: np.ndarray, height: int, width: int,
              cull_backfaces: bool = False) -> Raster:
    """Rasterise triangles ``faces`` (F, 3) of ``verts`` (V, 3) into an H x W z-buffer.

    ``cull_backfaces`` drops triangles wound clockwise on screen (x right, y down).
    """
    verts = np.asarray(verts, dtype=np.float32)
    faces = np.asarray(faces, dtype=np.int64)
    if verts.ndim != 2 or verts.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(f"expected verts (V,3) and faces (F,3), got {verts.shape}, {faces.shape}")
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    tri = verts[faces]  # (F, 3, 3)
    x, y, z = tri[..., 0], tri[..., 1], tri[..., 2]
    with np.errstate(invalid="ignore"):
        area = _edge(x[:, 0], y[:, 0], x[:, 1], y[:, 1], x[:, 2], y[:, 2])
        keep = np.isfinite(area) & (np.abs(area) > 1e-9)
        if cull_backfaces:
            keep &= area > 0
        # pixel-centre index ranges covered by each bounding box
        x0 = np.clip(np.ceil(x.min(1) - 0.5), 0, None)
        x1 = np.clip(np.floor(x.max(1) - 0.5), None, width - 1)
        y0 = np.clip(np.ceil(y.min(1) - 0.5), 0, None)
        y1 = np.clip(np.floor(y.max(1) - 0.5), None, height - 1)
        keep &= (x1 >= x0) & (y1 >= y0)
    ids = np.nonzero(keep)[0]
    pix_all, z_all, f_all = [], [], []
    if ids.size:
        span = np.maximum(x1[ids] - x0[ids], y1[ids] - y0[ids]) + 1
        # batch triangles by box size so padding wastes at most 4x
        size_class = np.ceil(np.log2(np.maximum(span, 1))).astype(np.int64)
        for c in np.unique(size_class):
            sel = ids[size_class == c]
            g = np.arange(1 << int(c), dtype=np.float32)
            px = x0[sel, None, None] + g[None, None, :]  # (n, 1, b)
            py = y0[sel, None, None] + g[None, :, None]  # (n, b, 1)
            cx, cy = px + 0.5, py + 0.5
            xs, ys, zs = x[sel][..., None, None], y[sel][..., None, None], z[sel][..., None, None]
            a = area[sel][:, None, None]
            w0 = _edge(xs[:, 1], ys[:, 1], xs[:, 2], ys[:, 2], cx, cy) / a
            w1 = _edge(xs[:, 2], ys[:, 2], xs[:, 0], ys[:, 0], cx, cy) / a
            w2 = 1.0 - w0 - w1
            inside = (w0 >= -1e-6) & (w1 >= -1e-6) & (w2 >= -1e-6)
            inside &= (px <= x1[sel, None, None]) & (py <= y1[sel, None, None])
            n_idx, r, q = np.nonzero(inside)
            zz = (w0[n_idx, r, q] * zs[n_idx, 0, 0, 0] + w1[n_idx, r, q] * zs[n_idx, 1, 0, 0]
                  + w2[n_idx, r, q] * zs[n_idx, 2, 0, 0])
            pix_all.append((py[n_idx, r, 0] * width + px[n_idx, 0, q]).astype(np.int64))
            z_all.append(zz)
            f_all.append(sel[n_idx])
    depth = np.full(height * width, np.inf, dtype=np.float32)
    face_id = np.full(height * width, -1, dtype=np.int64)
    if pix_all:
        pix, zc, fc = np.concatenate(pix_all), np.concatenate(z_all), np.concatenate(f_all)
        np.minimum.at(depth, pix, zc.astype(np.float32))
        win = zc.astype(np.float32) <= depth[pix]
        np.maximum.at(face_id, pix[win], fc[win])
    face_id = face_id.reshape(height, width)
    return Raster(face_id=face_id, bary=barycentrics(verts, faces, face_id),
                  depth=depth.reshape(height, width))


def barycentrics(verts: np.ndarray, faces: np.ndarray, face_id: np.ndarray) -> np.ndarray:
    """(H, W, 3) barycentric weights of each pixel centre in its triangle (0 on background)."""
    h, w = face_id.shape
    out = np.zeros((h, w, 3), dtype=np.float32)
    ii, jj = np.nonzero(face_id >= 0)
    if ii.size == 0:
        return out
    tri = np.asarray(verts, dtype=np.float32)[faces[face_id[ii, jj]]]  # (n, 3, 3)
    cx, cy = jj.astype(np.float32) + 0.5, ii.astype(np.float32) + 0.5
    x, y = tri[..., 0], tri[..., 1]
    a = _edge(x[:, 0], y[:, 0], x[:, 1], y[:, 1], x[:, 2], y[:, 2])
    w0 = _edge(x[:, 1], y[:, 1], x[:, 2], y[:, 2], cx, cy) / a
    w1 = _edge(x[:, 2], y[:, 2], x[:, 0], y[:, 0], cx, cy) / a
    out[ii, jj] = np.stack([w0, w1, 1.0 - w0 - w1], axis=-1)
    return out


def interpolate(attr: np.ndarray, faces: np.ndarray, ras: Raster) -> np.ndarray:
    """Interpolate per-vertex ``attr`` (V, C) to pixels: (H, W, C), zeros on background."""
    h, w = ras.face_id.shape
    out = np.zeros((h, w, attr.shape[1]), dtype=np.float32)
    fg = ras.face_id >= 0
    vals = attr[faces[ras.face_id[fg]]]  # (n, 3, C), foreground pixels only
    out[fg] = (vals * ras.bary[fg][..., None]).sum(axis=1)
    return out


def vertex_normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals, in the same axes as ``verts``."""
    tri = np.asarray(verts, dtype=np.float64)[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros((len(verts), 3))
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)


def sh_basis(normals: np.ndarray) -> np.ndarray:
    """(..., 9) Lambertian-convolved SH basis of unit normals (..., 3) (order :data:`SH_ORDER`)."""
    normals = np.asarray(normals)
    nx, ny, nz = normals[..., 0], normals[..., 1], normals[..., 2]
    one = nx * 0 + 1
    return np.stack([
        _A0 * _C0 * one,
        _A1 * _C1 * ny, _A1 * _C1 * nz, _A1 * _C1 * nx,
        _A2 * _C2 * nx * ny, _A2 * _C2 * ny * nz,
        _A2 * _C2 / (2 * math.sqrt(3.0)) * (3 * nz * nz - 1),
        _A2 * _C2 * nx * nz, _A2 * _C2 * 0.5 * (nx * nx - ny * ny),
    ], -1)


def _fibonacci_hemisphere(n: int = 2000) -> np.ndarray:
    i = np.arange(n) + 0.5
    z = i / n  # uniform in z on the front hemisphere
    phi = i * math.pi * (3 - math.sqrt(5))
    r = np.sqrt(1 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], -1)


@functools.lru_cache(maxsize=16)
def _directional_sh(albedo: tuple, ambient: float, direction: tuple) -> np.ndarray:
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    n = _fibonacci_hemisphere()
    target = ambient + (1 - ambient) * np.clip(n @ d, 0, None)
    coef, *_ = np.linalg.lstsq(sh_basis(n), target, rcond=None)
    return np.concatenate([a * coef for a in albedo]).astype(np.float64)


def directional_sh(albedo=(0.7, 0.7, 0.7), ambient: float = 0.35,
                   direction=(0.3, 0.4, 1.0)) -> np.ndarray:
    """27 SH coefficients (RGB, channel-major) approximating ``albedo * (ambient + (1 -
    ambient) * max(0, n . direction))`` on the front hemisphere of normals (least squares)."""
    key = (tuple(map(float, albedo)), float(ambient), tuple(map(float, direction)))
    return _directional_sh(*key).copy()


def shade(normals: np.ndarray, sh: np.ndarray) -> np.ndarray:
    """RGB (..., 3) = basis(normals) @ sh, with ``sh`` the 27 coefficients (channel-major)."""
    sh = np.asarray(sh, dtype=np.float32).reshape(3, 9)
    return sh_basis(np.asarray(normals, dtype=np.float32)) @ sh.T
