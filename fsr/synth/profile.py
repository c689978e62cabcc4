"""Face profiling (Zhu et al., CVPR 2016, the recipe behind 300W-LP): turn a real aligned face
crop to a chosen yaw by fitting a 3D face, giving the rest of the head a depth model, rotating
the whole 3D image mesh and rendering it back with the photo's own texture.

    from fsr.synth.profile import profile_face
    out = profile_face(crop_rgb, 30.0)        # the head turned by +30 degrees of yaw
    out.image.shape == crop_rgb.shape, out.mask.dtype    # (True, dtype('uint8'))

What is built (all in the crop's pixel frame: x right, y down, z away from the camera):

* **face**: MediaPipe's 468 mesh vertices with their depth (:func:`fsr.priors.mesh.fit_mesh`);
* **head**: an ellipsoid (hair, forehead, ears, back of the head) placed from a similarity fit
  of MediaPipe's canonical face to the landmarks; its depth is corrected near the face by the
  mesh-minus-ellipsoid offsets of the face-oval vertices so the two surfaces join;
* **background**: anchors on a grid and on the crop border, outside the head, kept fixed (as
  3DDFA's profiling keeps its outer anchors), far behind the head for the z-buffer.

All points are Delaunay-triangulated in the source image; face and head points rotate about a
vertical axis through the head centre (``yaw > 0``: nose towards image right, the
:mod:`fsr.pose.common` convention), the background stays, and the triangles are rendered with a
z-buffer (:func:`fsr.priors.render.rasterize`), each pixel sampling the photo at its source
position; the face mesh is drawn over the band of anchors that joins it to the head (their
depths are guesses, and on the side turning into view the band folded over the cheek, cutting
its outline into teeth: MediaPipe found 28% of the renders at 60 degrees on 16 unseen crops
of 14 people, 44% with the face drawn first; docs/profiling.md). Parts of the head seen at a
grazing angle in the photo come out magnified, and the
background between the turned head and the fixed anchors is stretched; a pixel whose texture
is magnified more than :data:`REAL_MAX_STRETCH` times (by area), or a hole left where folded
triangles were culled (inpainted), is :data:`MASK_FILLED` in :attr:`ProfiledFace.mask`, the
rest :data:`MASK_REAL`. (Mirroring the other half of the face was tried: on near-frontal
sources both halves are seen equally, so it only added seams.) ``yaw`` is the rotation applied to the photographed head, so
``yaw = 0`` returns the input unchanged and a near-frontal source at yaw ``y0`` lands near
``y0 + yaw`` (measure it with :func:`fsr.pose.estimate_pose`). Deterministic: the same crop
and yaw give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fsr.pose.common import PoseInputError, check_rgb

MASK_REAL, MASK_FILLED = 255, 0
MIN_CROP_FACE_FRACTION = 0.3  # an aligned crop's face oval spans about 0.5-0.6 of its width
MAX_ABS_YAW = 90.0
MIN_SIDE = 64
# Head model in MediaPipe's canonical face frame (cm; screen axes: x right, y down, z away).
# The canonical face spans x +-7.7 at the cheeks (234/454), chin y = +9.4, nose tip z = -7.5;
# an adult head is ~23 cm chin to crown, ~17 cm wide with hair, and turns about the
# atlanto-axial joint ~10.5 cm behind the nose tip.
HEAD_CENTRE = (0.0, -2.8, 3.2)
HEAD_AXES = (8.6, 12.2, 9.0)
GRID = 14  # background/head anchors per side
RINGS = (1.1, 1.25)  # anchor rings around the face oval, as multiples of its size
BACKGROUND_FOLLOW = 0.35  # background this far outside the head (in head radii) stops turning
REAL_MAX_STRETCH = 2.5  # magnification above which texture counts as filled, not real
# (geometric turn, median change of fsr.pose's yaw it produces) on train-split identities,
# measured by bench/studies/profile_calibration.py (see docs/profiling.md)
# (7 train identities, |source yaw| < 12, both signs pooled; n = 14 at 10-20, 12-13 at
# 30-55, 9 at 60, 8 at 65; MediaPipe finds the face on 1 of 14 renders at 70 and none at 80,
# so the table stops at 65 and larger yaws use its last slope). The weak-perspective yaw reads
# ~0.9 of the 3D turn: MediaPipe's landmarks on a render lag its geometry a little.
YAW_CALIBRATION: tuple[tuple[float, float], ...] = (
    (10.0, 9.1), (20.0, 18.2), (30.0, 27.2), (40.0, 35.8), (50.0, 44.8), (55.0, 49.9),
    (60.0, 53.2), (65.0, 58.1),
)


class ProfileError(ValueError):
    """The input cannot be profiled (no face, not an aligned crop, bad yaw)."""


@dataclass(frozen=True)
class ProfiledFace:
    """A render of the crop at ``source_yaw + yaw``.

    ``image``: HxWx3 uint8; ``mask``: HxW uint8, :data:`MASK_REAL` (photo texture) or
    :data:`MASK_FILLED` (stretched or inpainted); ``source_yaw``: MediaPipe's yaw of the input (degrees).
    """

    image: np.ndarray
    mask: np.ndarray
    yaw: float
    source_yaw: float

    @property
    def real_fraction(self) -> float:
        return float((self.mask == MASK_REAL).mean())


@dataclass(frozen=True)
class ImageMesh:
    """The 3D image mesh of one crop: points (N, 3) in pixels, which rotate rigidly (face and
    head) and how much of the turn the background near the head follows, the triangles and
    the head's rotation axis (x, z)."""

    points: np.ndarray
    rigid: np.ndarray  # (N,) bool: face and head points, turned in 3D
    follow: np.ndarray  # (N,) fraction of the turn a point follows (1 on face and head)
    triangles: np.ndarray
    axis: tuple[float, float]
    source_yaw: float
    shape: tuple[int, int]  # (H, W) of the crop it was built from
    face_triangles: int = 0  # the first ones in ``triangles`` are the face mesh's


def _oriented(points: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Triangles wound so :func:`fsr.priors.render.rasterize` sees positive area."""
    p = points[tri]
    area = (p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1]) - \
        (p[:, 1, 1] - p[:, 0, 1]) * (p[:, 2, 0] - p[:, 0, 0])
    tri = tri.copy()
    flip = area < 0
    tri[flip] = tri[flip][:, [0, 2, 1]]
    return tri[np.abs(area) > 1e-9]


def build_image_mesh(crop_rgb: np.ndarray, fit=None) -> ImageMesh:
    """Fit the face (unless ``fit``, a :class:`~fsr.pose.mediapipe_pose.FaceMeshFit` in the
    crop's pixel frame, is given) and build the face + head + background mesh."""
    from scipy.spatial import ConvexHull, Delaunay

    from fsr.priors.mesh import N_MESH_VERTICES, canonical_screen_vertices, fit_mesh, similarity_3d

    img = check_rgb(crop_rgb, min_side=MIN_SIDE)
    h, w = img.shape[:2]
    if fit is None:
        fit = fit_mesh(img)
    if fit is None:
        raise ProfileError("no face found")
    face = np.asarray(fit.landmarks, dtype=np.float64)[:N_MESH_VERTICES]
    span = float(np.ptp(face[:, 0]))
    if span < MIN_CROP_FACE_FRACTION * w:
        raise ProfileError(f"not an aligned face crop: the face spans {span / w:.0%} of the "
                           f"width (an aligned crop's face spans over {MIN_CROP_FACE_FRACTION:.0%})")
    s, rot, t = similarity_3d(canonical_screen_vertices(), face)
    centre = s * rot @ np.array(HEAD_CENTRE) + t
    ax, ay, az = (s * a for a in HEAD_AXES)

    def ellipsoid(x, y):
        r2 = ((x - centre[0]) / ax) ** 2 + ((y - centre[1]) / ay) ** 2
        return r2, centre[2] - az * np.sqrt(np.clip(1.0 - r2, 0.0, None))

    # depth offsets where the face oval meets the head, spread to nearby head anchors
    hull = Delaunay(face[:, :2])
    oval_ids = np.unique(hull.convex_hull)
    _, z_oval = ellipsoid(face[oval_ids, 0], face[oval_ids, 1])
    offset = face[oval_ids, 2] - z_oval

    # two rings hugging the face oval (its hull scaled about its centre) join the face to the
    # head smoothly; the coarse grid covers the rest, clear of the outer ring
    poly = face[ConvexHull(face[:, :2]).vertices, :2]
    mid = poly.mean(0)
    poly_z = face[ConvexHull(face[:, :2]).vertices, 2]
    rings = np.concatenate([mid + k * (poly - mid) for k in RINGS])
    # ring depth: the oval vertex's own depth, going back towards the head's rim depth
    ring_z = np.concatenate([poly_z + (k - 1.0) / (RINGS[-1] - 1.0) * 0.5 * np.clip(
        centre[2] - poly_z, 0, None) for k in RINGS])
    inside_img = (rings[:, 0] > 0) & (rings[:, 0] < w) & (rings[:, 1] > 0) & (rings[:, 1] < h)
    rings, ring_z = rings[inside_img], ring_z[inside_img]
    outer = Delaunay(mid + RINGS[-1] * (poly - mid))
    g = (np.arange(GRID + 1) / GRID)
    gx, gy = np.meshgrid(g * w, g * h)
    cand = np.stack([gx.ravel(), gy.ravel()], 1)
    d_ring = np.sqrt(((cand[:, None, :] - rings[None]) ** 2).sum(-1)).min(1) if len(rings) \
        else np.full(len(cand), np.inf)
    border = (cand[:, 0] <= 0) | (cand[:, 0] >= w) | (cand[:, 1] <= 0) | (cand[:, 1] >= h)
    keep = border | ((outer.find_simplex(cand) < 0) & (d_ring > 0.5 * w / GRID))
    anchors = np.concatenate([rings, cand[keep]])
    border = np.concatenate([np.zeros(len(rings), bool), border[keep]])
    r2, z = ellipsoid(anchors[:, 0], anchors[:, 1])
    d = np.sqrt(((anchors[:, None, :] - face[None, oval_ids, :2]) ** 2).sum(-1))
    wts = 1.0 / np.maximum(d, 1.0) ** 2
    z = z + (wts @ offset) / wts.sum(1) * np.exp(-(d.min(1) / (0.15 * w)) ** 2)
    z[: len(rings)] = ring_z
    head = ((r2 < 1.0) & ~border) | (np.arange(len(anchors)) < len(rings))
    z = np.where(head, z, centre[2] + 2.0 * az)  # background: far behind the head
    # background near the head follows part of its turn (fading to none one third of the head
    # radius out, and none on the crop border) so hair and ears do not tear from it
    follow = np.clip((1.0 + BACKGROUND_FOLLOW - np.sqrt(r2)) / BACKGROUND_FOLLOW, 0.0, 1.0)
    follow = np.where(head, 1.0, np.where(border, 0.0, follow))
    points = np.concatenate([face, np.column_stack([anchors, z])])
    rigid = np.concatenate([np.ones(len(face), bool), head])
    follow = np.concatenate([np.ones(len(face)), follow])
    # the face keeps MediaPipe's own triangles (they follow the surface: Delaunay's would
    # bridge the cheek and the jaw line across depth); Delaunay joins it to the anchors
    from fsr.pose.canonical import canonical_mesh

    dela = Delaunay(points[:, :2]).simplices.astype(np.int64)
    face_tri = canonical_mesh().triangles.astype(np.int64)
    face_tri = _oriented(points[:, :2], face_tri)
    tri = np.concatenate([face_tri, _oriented(points[:, :2], dela[(dela >= len(face)).any(1)])])
    return ImageMesh(points, rigid, follow, tri, (float(centre[0]), float(centre[2])),
                     float(fit.pose().yaw), (h, w), len(face_tri))


def rotate_points(mesh: ImageMesh, yaw: float) -> np.ndarray:
    """Points after turning the head by ``yaw`` degrees (background points stay)."""
    a = math.radians(yaw)
    c, s = math.cos(a), math.sin(a)
    cx, cz = mesh.axis
    p = mesh.points.copy()
    dx, dz = p[:, 0] - cx, p[:, 2] - cz
    # GL yaw R_y(a) written in screen axes (z away): the nose (dz < 0) goes to +x for a > 0
    x2, z2 = cx + c * dx - s * dz, cz + s * dx + c * dz
    # background: turned by its fraction of the angle as if on the axis plane (its depth is
    # only for the z-buffer), so it shrinks towards the axis as the head's rim does
    x_bg = cx + np.cos(a * mesh.follow) * dx
    p[:, 0] = np.where(mesh.rigid, x2, x_bg)
    p[:, 2] = np.where(mesh.rigid, z2, p[:, 2])
    return p


def _tri_area(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
    q = p[tri]
    return (q[:, 1, 0] - q[:, 0, 0]) * (q[:, 2, 1] - q[:, 0, 1]) - \
        (q[:, 1, 1] - q[:, 0, 1]) * (q[:, 2, 0] - q[:, 0, 0])


def _vertex_areas(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Per point: mean on-screen area of its triangles (0 for back-facing ones)."""
    area = np.clip(_tri_area(p, tri), 0, None)
    acc, cnt = np.zeros(len(p)), np.zeros(len(p))
    for k in range(3):
        np.add.at(acc, tri[:, k], area)
        np.add.at(cnt, tri[:, k], 1)
    return acc / np.maximum(cnt, 1)


def geometric_turn(yaw: float) -> float:
    """The 3D turn (degrees) that MediaPipe reads as a change of ``yaw`` (odd, monotone,
    piecewise linear in :data:`YAW_CALIBRATION`; beyond the table, the last slope)."""
    if not (math.isfinite(yaw) and abs(yaw) <= MAX_ABS_YAW):
        raise ProfileError(f"yaw must be a number in [-{MAX_ABS_YAW:g}, {MAX_ABS_YAW:g}], got {yaw}")
    read = np.array([0.0] + [r for _, r in YAW_CALIBRATION])
    turn = np.array([0.0] + [t for t, _ in YAW_CALIBRATION])
    a = abs(float(yaw))
    if a <= read[-1]:
        out = float(np.interp(a, read, turn))
    else:
        slope = (turn[-1] - turn[-2]) / (read[-1] - read[-2])
        out = float(turn[-1] + slope * (a - read[-1]))
    return math.copysign(min(out, MAX_ABS_YAW), yaw)


def render_profile(crop_rgb: np.ndarray, mesh: ImageMesh, yaw: float) -> ProfiledFace:
    """Render ``crop_rgb`` with its head turned so MediaPipe reads ``yaw`` degrees more yaw
    (the 3D turn is :func:`geometric_turn`); see the module docstring."""
    out = rotate_geometric(crop_rgb, mesh, geometric_turn(float(yaw)))
    return ProfiledFace(out.image, out.mask, float(yaw), out.source_yaw)


def rotate_geometric(crop_rgb: np.ndarray, mesh: ImageMesh, turn: float) -> ProfiledFace:
    """Render ``crop_rgb`` with its 3D head turned by exactly ``turn`` degrees (uncalibrated)."""
    import cv2

    from fsr.priors.render import Raster, barycentrics, interpolate, rasterize

    img = check_rgb(crop_rgb, min_side=MIN_SIDE)
    if not (math.isfinite(turn) and abs(turn) <= MAX_ABS_YAW):
        raise ProfileError(f"turn must be a number in [-{MAX_ABS_YAW:g}, {MAX_ABS_YAW:g}], got {turn}")
    h, w = img.shape[:2]
    if tuple(mesh.shape) != (h, w):
        raise ProfileError(f"the mesh was built for a {mesh.shape[1]}x{mesh.shape[0]} crop, "
                           f"not {w}x{h}")
    dst = rotate_points(mesh, float(turn))
    src = mesh.points
    ras = rasterize(dst, mesh.triangles, h, w, cull_backfaces=True)
    if mesh.face_triangles:
        # the face mesh is drawn over the band that joins it to the head: that band's anchors
        # carry guessed depths, and on the side turning into view they fold over the cheek
        face = rasterize(dst, mesh.triangles[: mesh.face_triangles], h, w, cull_backfaces=True)
        fid = np.where(face.face_id >= 0, face.face_id, ras.face_id)
        ras = Raster(fid, barycentrics(dst, mesh.triangles, fid),
                     np.where(face.face_id >= 0, face.depth, ras.depth))
    a_src = np.maximum(_vertex_areas(src[:, :2], mesh.triangles), 1e-6)
    stretch = _vertex_areas(dst[:, :2], mesh.triangles) / a_src  # magnification of texture
    attrs = np.column_stack([src[:, :2], stretch]).astype(np.float32)
    px = interpolate(attrs, mesh.triangles, ras)
    out = cv2.remap(img, px[..., 0] - 0.5, px[..., 1] - 0.5, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT)
    mask = np.full((h, w), MASK_REAL, np.uint8)
    mask[px[..., 2] > REAL_MAX_STRETCH] = MASK_FILLED
    holes = ras.face_id < 0
    if holes.any():  # folds culled with nothing behind them: inpaint from the surroundings
        out = cv2.inpaint(out, holes.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        mask[holes] = MASK_FILLED
    return ProfiledFace(out, mask, float(turn), mesh.source_yaw)


def profile_face(crop_rgb: np.ndarray, yaw: float, fit=None) -> ProfiledFace:
    """Turn the head in an aligned RGB uint8 face crop by ``yaw`` degrees.

    Raises :class:`ProfileError` (no face, not an aligned crop, yaw outside +-90) or
    :class:`~fsr.pose.common.PoseInputError` (not an RGB uint8 array of at least 64 px).
    """
    return render_profile(crop_rgb, build_image_mesh(crop_rgb, fit), yaw)


def profile_yaws(crop_rgb: np.ndarray, yaws, fit=None) -> list[ProfiledFace]:
    """:func:`profile_face` at several yaws, fitting the face once."""
    mesh = build_image_mesh(crop_rgb, fit)
    return [render_profile(crop_rgb, mesh, float(y)) for y in yaws]


__all__ = ["MASK_FILLED", "MASK_REAL", "ImageMesh", "PoseInputError",
           "ProfileError", "ProfiledFace", "build_image_mesh", "profile_face",
           "geometric_turn", "profile_yaws", "render_profile", "rotate_geometric", "rotate_points"]
