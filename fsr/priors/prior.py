"""The 3D facial prior of one face crop: a shaded mesh render pixel-aligned to the crop, optional
normal and depth maps, and a coefficient vector (:mod:`fsr.priors.coeffs`).

    prior = compute_prior(lr_rgb_uint8, size=32)   # fit on the (upsampled) LR input only
    prior.render.shape, prior.render.dtype, prior.fitted  # -> ((32, 32, 3), dtype('float32'), True)

Like the SAM3D authors' renders: a Lambertian face on black, lit by spherical harmonics that
are fitted (least squares) to the input's colours at visible mesh vertices, so the render
carries the input's skin tone and light. When MediaPipe finds no face (tiny or odd inputs)
the canonical face is rendered frontal at the FFHQ template, ``fitted=False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fsr.pose.common import Pose, check_rgb
from fsr.priors.coeffs import COEFF_LAYOUT, pack_coeffs
from fsr.priors.mesh import (
    FFHQ_TEMPLATE_5,
    IDENTITY_LEN,
    N_MESH_VERTICES,
    fit_mesh,
    identity_descriptor,
    template_vertices,
)

LIGHTING_MODES = ("fitted", "grey", "skin")
GREY_ALBEDO = (0.7, 0.7, 0.7)
SKIN_ALBEDO = (0.80, 0.62, 0.52)
DEFAULT_AMBIENT = 0.35
DEFAULT_LIGHT_DIR = (0.3, 0.4, 1.0)  # GL view axes: from upper right, mostly frontal
SH_RIDGE = 0.05  # ridge weight per vertex pulling fitted SH towards the default lighting
MIN_FIT_VERTICES = 30  # fewer visible vertices -> only the albedo colour is fitted
N_EXPRESSION = dict(COEFF_LAYOUT)["expression"]


@dataclass
class Prior:
    """A rendered 3D prior; arrays are float32 H x W x C in [0, 1] (black = background)."""

    render: np.ndarray
    coeffs: np.ndarray
    fitted: bool
    pose: Pose
    normal: np.ndarray | None = None  # (n + 1) / 2 of the unit normal, GL view axes
    depth: np.ndarray | None = None  # 1 at the nearest point, -1 per face width further away
    landmarks: np.ndarray | None = None  # (478 | 468, 3) mesh in output pixels (x, y, z)
    source: str = "mediapipe"
    extra: dict = field(default_factory=dict)


def default_sh(lighting: str = "grey") -> np.ndarray:
    """27 SH coefficients of the default light with the grey or skin albedo."""
    from fsr.priors.render import directional_sh

    albedo = SKIN_ALBEDO if lighting == "skin" else GREY_ALBEDO
    return directional_sh(albedo, DEFAULT_AMBIENT, DEFAULT_LIGHT_DIR)


def estimate_sh(normals: np.ndarray, colours: np.ndarray, prior_sh: np.ndarray,
                full: bool = True, iters: int = 3) -> np.ndarray:
    """Fit 27 SH coefficients to per-vertex ``colours`` (N, 3) in [0, 1] given unit ``normals``
    (N, 3, GL view axes): ridge least squares towards ``prior_sh``, re-fitted twice without
    residuals beyond 2.5 sigma (eyes, brows, lips, hair). ``full=False`` (or too few points)
    keeps the prior's light and fits only a per-channel albedo scale."""
    from fsr.priors.render import sh_basis

    basis = sh_basis(np.asarray(normals, dtype=np.float64))
    c = np.asarray(colours, dtype=np.float64)
    l0 = np.asarray(prior_sh, dtype=np.float64).reshape(3, 9).T  # (9, 3)
    keep = np.ones(len(c), dtype=bool)
    for _ in range(iters):
        b, y = basis[keep], c[keep]
        if full and keep.sum() >= MIN_FIT_VERTICES:
            lam = SH_RIDGE * len(b)
            coef = np.linalg.solve(b.T @ b + lam * np.eye(9), b.T @ y + lam * l0)
        else:
            pred = b @ l0
            k = (pred * y).sum(0) / np.maximum((pred * pred).sum(0), 1e-9)
            coef = l0 * k
        res = np.abs(basis @ coef - c).mean(1)
        sigma = 1.4826 * np.median(res[keep]) + 1e-6
        keep = res < 2.5 * sigma
    return coef.T.reshape(-1)


def _sample(img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear RGB samples of a float image at pixel positions (N, 2) (x, y; 0.5 = centre)."""
    import cv2

    map_xy = (xy - 0.5).astype(np.float32).reshape(-1, 1, 2)
    out = cv2.remap(img, map_xy[..., 0], map_xy[..., 1], cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(-1, 3)


def render_mesh(verts: np.ndarray, height: int, width: int, sh: np.ndarray | None = None,
                image: np.ndarray | None = None, fit_light: str = "full") -> dict:
    """Rasterise the 468-vertex mesh ``verts`` (screen pixels, x right, y down, z away) into
    an H x W frame and shade it. ``sh`` (27) fixes the light; otherwise it is fitted to
    ``image`` (H x W x 3 float in [0, 1]) at visible vertices (``fit_light`` 'full' = 9 SH per
    channel, 'albedo' = colour only). Returns render, normal, depth, mask, sh."""
    from fsr.pose.canonical import canonical_mesh
    from fsr.priors.render import interpolate, rasterize, shade, vertex_normals

    faces = canonical_mesh().triangles
    v = np.asarray(verts[:N_MESH_VERTICES], dtype=np.float32)
    ras = rasterize(v, faces, height, width)
    mask = ras.face_id >= 0
    vn = vertex_normals(v * np.array([1.0, -1.0, -1.0]), faces)  # GL axes; CCW = outward
    face_w = float(np.ptp(v[:, 0])) + 1e-6
    if sh is None:
        if image is None:
            raise ValueError("render_mesh needs either sh or image")
        xy = v[:, :2]
        ij = np.clip(np.floor(xy).astype(int), 0, [width - 1, height - 1])
        zbuf = ras.depth[ij[:, 1], ij[:, 0]]
        visible = (v[:, 2] <= zbuf + 0.03 * face_w) & (vn[:, 2] > 0.2)
        visible &= (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)
        sh = estimate_sh(vn[visible], _sample(image, xy[visible]), default_sh("grey"),
                         full=fit_light == "full")
    pn = interpolate(vn.astype(np.float32), faces, ras)
    pn /= np.maximum(np.linalg.norm(pn, axis=-1, keepdims=True), 1e-12)
    m3 = mask[..., None]
    colour = np.clip(shade(pn, sh), 0, 1) * m3
    normal = (pn + 1) / 2 * m3
    zmin = float(ras.depth[mask].min()) if mask.any() else 0.0
    depth = np.where(mask, np.clip(1.0 - (ras.depth - zmin) / face_w, 0, 1), 0.0)
    return {"render": colour.astype(np.float32), "normal": normal.astype(np.float32),
            "depth": depth.astype(np.float32)[..., None], "mask": mask,
            "sh": np.asarray(sh, dtype=np.float64)}


def _out_size(size, h: int, w: int) -> tuple[int, int]:
    if size is None:
        return h, w
    if isinstance(size, int | np.integer):
        size = (int(size), int(size))
    oh, ow = (int(s) for s in size)
    if oh < 1 or ow < 1:
        raise ValueError(f"size must be positive, got {size}")
    return oh, ow


def _resize(a: np.ndarray, oh: int, ow: int) -> np.ndarray:
    import cv2

    if a.shape[:2] == (oh, ow):
        return a.astype(np.float32)
    interp = cv2.INTER_AREA if oh <= a.shape[0] else cv2.INTER_LINEAR
    out = cv2.resize(a.astype(np.float32), (ow, oh), interpolation=interp)
    return out.reshape(oh, ow, -1)


def compute_prior(img_rgb: np.ndarray, size=None, upsample_to: int = 256,
                  lighting: str = "fitted", with_maps: bool = True,
                  template: np.ndarray = FFHQ_TEMPLATE_5) -> Prior:
    """3D prior of the face in an RGB uint8 crop, rendered at ``size`` (int, (H, W) or None =
    the input's size). The mesh is fitted on the input upsampled (bicubic) to ``upsample_to``
    on its longer side when smaller, rendered at least that large, then area-downsampled to
    ``size`` (anti-aliased edges).

    ``lighting``: 'fitted' (SH from the input), 'grey' or 'skin' (fixed light). A pure
    function of its arguments: same input, same prior.
    """
    import cv2

    if lighting not in LIGHTING_MODES:
        raise ValueError(f"lighting must be one of {LIGHTING_MODES}, got {lighting!r}")
    if upsample_to is None or int(upsample_to) < 16:
        raise ValueError(f"upsample_to must be an int >= 16, got {upsample_to}")
    img = check_rgb(img_rgb)
    h, w = img.shape[:2]
    oh, ow = _out_size(size, h, w)
    r = max(1.0, upsample_to / max(oh, ow))
    rh, rw = round(oh * r), round(ow * r)
    fit = fit_mesh(img, upsample_to=upsample_to)
    work = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    fixed = None if lighting == "fitted" else default_sh(lighting)
    if fit is not None:
        verts = fit.landmarks * np.array([rw / w, rh / h, rw / w])
        maps = render_mesh(verts, rh, rw, sh=fixed, image=work)
        pose = fit.matrix_pose()  # the pose the bundled SAM3D models were trained with
        expr = np.zeros(N_EXPRESSION)
        expr[: min(N_EXPRESSION, fit.blendshapes.size)] = fit.blendshapes[:N_EXPRESSION]
        coeffs = pack_coeffs(
            rotation=np.radians([pose.yaw, pose.pitch, pose.roll]),
            translation=fit.matrix[:3, 3], expression=expr,
            identity=identity_descriptor(fit.landmarks), lighting=maps["sh"])
        out_lms = fit.landmarks * np.array([ow / w, oh / h, ow / w])
        source = "mediapipe"
    else:
        verts = template_vertices(rh, rw, template)
        maps = render_mesh(verts, rh, rw, sh=fixed, image=work, fit_light="albedo")
        pose = Pose(0.0, 0.0, 0.0, ok=False, method="template")
        coeffs = pack_coeffs(rotation=np.zeros(3), translation=np.zeros(3),
                             expression=np.zeros(N_EXPRESSION), identity=np.zeros(IDENTITY_LEN),
                             lighting=maps["sh"])
        out_lms = verts * np.array([ow / rw, oh / rh, ow / rw])
        source = "template"
    if not np.all(np.isfinite(coeffs)):
        coeffs = np.nan_to_num(coeffs, nan=0.0, posinf=0.0, neginf=0.0)
    render = np.clip(_resize(maps["render"], oh, ow), 0, 1)
    normal = depth = None
    if with_maps:
        normal = np.clip(_resize(maps["normal"], oh, ow), 0, 1)
        depth = np.clip(_resize(maps["depth"], oh, ow), 0, 1)
    return Prior(render=render, coeffs=coeffs, fitted=fit is not None, pose=pose, normal=normal,
                 depth=depth, landmarks=out_lms, source=source,
                 extra={"render_scale": r, "padded_fit": bool(fit.padded) if fit else False})
