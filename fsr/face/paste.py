"""Paste restored faces back into the (upsampled) photo with soft masks.

    from fsr.face.paste import paste_faces, upsample_background
    canvas = upsample_background(img_rgb, 2)                       # bicubic, or a callable
    out = paste_faces(canvas, restored_crops, affines, upscale=2)  # masks: feathered ellipse

``affines`` map ORIGINAL image coordinates to the aligned crop (what :func:`align_face` returns,
crop side ``crop_size``). A restored crop may be larger than the aligned one (a 4x face SR model
turns a 128 crop into 512): the scale between them is read from the array sizes. Each face is
warped only into its bounding box, so many faces on a large canvas stay cheap, and faces cut
by the image border are pasted where they overlap it.

Masks, in crop coordinates, 1 = take the restored face:
- ``'ellipse'`` (default without a parser): an ellipse over the FFHQ template's face region,
  feathered with a Gaussian (sigma 4% of the crop) so no seam shows;
- ``'square'``: facexlib's no-parsing mask, the whole crop with feathered edges;
- a :class:`FaceParser` (facexlib ParseNet, asset ``parsenet``): face classes only (skin, brows,
  eyes, nose, lips, ears), blurred as facexlib does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch

from fsr.face.align import rescale_affine, transform_points

Upsampler = Callable[[np.ndarray], np.ndarray]


class PasteError(ValueError):
    """Inconsistent paste inputs (counts, shapes); one-line message."""


def ellipse_mask(size: int, centre: tuple[float, float] = (0.5, 0.53),
                 radii: tuple[float, float] = (0.36, 0.44), feather: float = 0.04) -> np.ndarray:
    """Feathered ellipse covering the face in an FFHQ-aligned crop, float32 (size, size) in [0, 1].

    The defaults cover the template's eyes (y=0.47), mouth (y=0.72) and chin with margin, and
    leave the crop's corners (hair, background) to the upsampled photo.
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cx, cy = centre[0] * size - 0.5, centre[1] * size - 0.5
    r = ((xx - cx) / (radii[0] * size)) ** 2 + ((yy - cy) / (radii[1] * size)) ** 2
    mask = (r <= 1.0).astype(np.float32)
    sigma = max(feather * size, 0.5)
    return np.clip(cv2.GaussianBlur(mask, (0, 0), sigma), 0.0, 1.0)


def square_mask(size: int, feather: float = 0.05) -> np.ndarray:
    """facexlib's mask without parsing: the whole crop, edges eroded then blurred."""
    mask = np.zeros((size, size), np.float32)
    edge = max(int(round(feather * size)), 1)
    mask[edge:size - edge, edge:size - edge] = 1.0
    return np.clip(cv2.GaussianBlur(mask, (0, 0), max(edge / 2, 0.5)), 0.0, 1.0)


# facexlib's MASK_COLORMAP: classes kept for pasting (0 background, 14 neck, 16 cloth,
# 17 hair, 18 hat are left to the background).
PARSE_FACE_CLASSES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15)


class FaceParser:
    """facexlib's ParseNet (19 classes, 512x512) turning a restored crop into a soft face mask."""

    def __init__(self, weights: str | os.PathLike | None = None, device: str = "cpu") -> None:
        from facexlib.parsing.parsenet import ParseNet

        if weights is None:
            from fsr.assets import resolve

            weights = resolve("parsenet")
        self.device = torch.device(device)
        self.model = ParseNet(in_size=512, out_size=512, parsing_ch=19)
        state = torch.load(weights, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "params" in state:
            state = state["params"]
        try:
            self.model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ValueError(f"{weights}: not a ParseNet state dict "
                             f"({str(exc).splitlines()[0]})") from None
        self.model.eval().requires_grad_(False).to(self.device)

    @torch.inference_mode()
    def __call__(self, face_rgb: np.ndarray) -> np.ndarray:
        """Soft mask float32 (h, w) in [0, 1] for one RGB uint8 crop of any size."""
        h, w = face_rgb.shape[:2]
        x = cv2.resize(face_rgb, (512, 512), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        x = torch.from_numpy(x / 127.5 - 1.0).permute(2, 0, 1)[None].to(self.device)
        labels = self.model(x)[0].argmax(dim=1)[0].cpu().numpy()
        mask = np.isin(labels, PARSE_FACE_CLASSES).astype(np.float32)
        # facexlib's smoothing: two wide Gaussian blurs, then a 10-px black frame.
        mask = cv2.GaussianBlur(mask, (101, 101), 11)
        mask = cv2.GaussianBlur(mask, (101, 101), 11)
        mask[:10], mask[-10:], mask[:, :10], mask[:, -10:] = 0, 0, 0, 0
        return cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)


def upsample_background(img: np.ndarray, upscale: float,
                        upsampler: Upsampler | None = None) -> np.ndarray:
    """The whole photo at ``upscale`` x: bicubic, or ``upsampler(img)`` (e.g. Real-ESRGAN),
    resized to the exact target size if the callable's scale differs."""
    if upscale <= 0:
        raise PasteError(f"upscale must be > 0, got {upscale}")
    h, w = img.shape[:2]
    size = (max(int(round(w * upscale)), 1), max(int(round(h * upscale)), 1))
    out = img if upsampler is None else np.asarray(upsampler(img))
    if out.ndim != 3 or out.shape[2] != 3:
        raise PasteError(f"background upsampler returned shape {out.shape}; expected (H, W, 3)")
    if out.dtype != np.uint8:
        out = np.clip(np.round(out), 0, 255).astype(np.uint8)
    if (out.shape[1], out.shape[0]) != size:
        big = out.shape[0] < size[1]
        out = cv2.resize(out, size, interpolation=cv2.INTER_CUBIC if big else cv2.INTER_AREA)
    return out


def upsample_tiled(img: np.ndarray, upsampler: Upsampler, tile: int = 400,
                   pad: int = 10) -> np.ndarray:
    """``upsampler`` run tile by tile (Real-ESRGAN's ``--tile``): each ``tile`` x ``tile`` piece
    is run with ``pad`` pixels of context on every side, which are cut off the result, so a
    large photo never goes through the network at once and no seam shows. ``tile <= 0``: the
    whole image at once. The scale is read from the first tile's result.

    Example:
        >>> img = np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8)
        >>> up = lambda t: np.repeat(np.repeat(t, 2, 0), 2, 1)
        >>> bool((upsample_tiled(img, up, tile=16, pad=3) == up(img)).all())
        True
    """
    h, w = img.shape[:2]
    if tile <= 0 or (h <= tile and w <= tile):
        return np.asarray(upsampler(img))
    out, scale = None, None
    for y in range(0, h, tile):
        for x in range(0, w, tile):
            y0, x0 = max(y - pad, 0), max(x - pad, 0)
            y1, x1 = min(y + tile + pad, h), min(x + tile + pad, w)
            up = np.asarray(upsampler(img[y0:y1, x0:x1]))
            if scale is None:
                scale = up.shape[0] / (y1 - y0)
                if up.ndim != 3 or round(up.shape[1] / (x1 - x0), 6) != round(scale, 6) \
                        or abs(scale * (y1 - y0) - round(scale * (y1 - y0))) > 1e-6:
                    raise PasteError(f"tiled upsampler returned {up.shape} for a tile of "
                                     f"{(y1 - y0, x1 - x0)}: not an integer scale")
                out = np.zeros((round(h * scale), round(w * scale), up.shape[2]), up.dtype)
            ty, tx = round((y - y0) * scale), round((x - x0) * scale)
            th, tw = round(min(tile, h - y) * scale), round(min(tile, w - x) * scale)
            out[round(y * scale):round(y * scale) + th, round(x * scale):round(x * scale) + tw] = \
                up[ty:ty + th, tx:tx + tw]
    return out


def _mask_for(kind, crop: np.ndarray) -> np.ndarray:
    size = crop.shape[0]
    if isinstance(kind, np.ndarray):
        m = kind.astype(np.float32)
        return cv2.resize(m, (size, size)) if m.shape != (size, size) else m
    if kind == "ellipse":
        return ellipse_mask(size)
    if kind == "square":
        return square_mask(size)
    if callable(kind):
        return np.asarray(kind(crop), np.float32)
    raise PasteError(f"mask must be 'ellipse', 'square', an array or a callable, got {kind!r}")


def paste_faces(canvas: np.ndarray, restored: Sequence[np.ndarray], affines: Sequence[np.ndarray],
                upscale: float = 1.0, crop_size: int | None = None,
                mask: str | np.ndarray | Callable = "ellipse") -> np.ndarray:
    """Blend restored crops into ``canvas`` (the photo already upsampled by ``upscale``).

    Args:
        canvas: (H*upscale, W*upscale, 3) uint8 RGB background.
        restored: square RGB crops, one per face (uint8, or float in [0, 255]).
        affines: (2, 3) image->aligned-crop affines in original-image coordinates.
        upscale: canvas size / original image size.
        crop_size: side of the aligned crop the affines refer to (default: each restored crop's).
        mask: 'ellipse', 'square', a (s, s) array, or a callable crop -> mask (e.g. FaceParser).

    Returns the blended uint8 canvas (a new array).
    """
    if len(restored) != len(affines):
        raise PasteError(f"{len(restored)} restored faces but {len(affines)} affine matrices")
    if canvas.ndim != 3 or canvas.shape[2] != 3:
        raise PasteError(f"canvas must be (H, W, 3), got {canvas.shape}")
    out = np.array(canvas, dtype=np.uint8, copy=True)  # blend per face box, never the whole canvas in float
    for face, affine in zip(restored, affines, strict=True):
        face = np.asarray(face)
        if face.ndim != 3 or face.shape[0] != face.shape[1] or face.shape[2] != 3:
            raise PasteError(f"restored faces must be square (s, s, 3), got {face.shape}")
        if face.dtype != np.uint8:
            face = np.clip(np.round(face), 0, 255).astype(np.uint8)
        placed = _warp_to_canvas(face, affine, out.shape, upscale, crop_size, mask,
                                 cv2.INTER_LINEAR, cv2.BORDER_REPLICATE, face)
        if placed is None:
            continue  # the face lies entirely outside the canvas
        (x0, y0, x1, y1), warped, m = placed
        region = out[y0:y1, x0:x1].astype(np.float32)
        blend = m * warped.astype(np.float32) + (1.0 - m) * region
        out[y0:y1, x0:x1] = np.clip(np.round(blend), 0, 255).astype(np.uint8)
    return out


def add_detail(canvas: np.ndarray, details: Sequence[np.ndarray], affines: Sequence[np.ndarray],
               upscale: float = 1.0, crop_size: int | None = None,
               mask: str | np.ndarray | Callable = "ellipse",
               mask_faces: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Add signed detail crops (float32 (s, s, 3), 0-255 units) to ``canvas`` under the face
    mask: the canvas's own pixels are kept and only the detail is warped (bicubic), so a
    face made of its own pixels plus a method's detail is not blurred by a warp there and back.
    Arguments as :func:`paste_faces`; a callable ``mask`` (a face parser) reads ``mask_faces``
    (uint8 crops the size of the details, the face itself). Returns a new uint8 canvas.

    Example:
        >>> canvas = np.full((40, 40, 3), 100, np.uint8)
        >>> a = np.array([[1.0, 0, 0], [0, 1.0, 0]])            # the crop is the canvas's corner
        >>> out = add_detail(canvas, [np.full((20, 20, 3), 50, np.float32)], [a], mask="square")
        >>> int(out[10, 10, 0]), int(out[30, 30, 0])
        (150, 100)
    """
    if len(details) != len(affines):
        raise PasteError(f"{len(details)} detail crops but {len(affines)} affine matrices")
    if callable(mask) and (mask_faces is None or len(mask_faces) != len(details)):
        raise PasteError("a callable mask needs mask_faces, one uint8 crop per detail crop")
    out = np.array(canvas, dtype=np.uint8, copy=True)
    for i, (detail, affine) in enumerate(zip(details, affines, strict=True)):
        detail = np.asarray(detail, np.float32)
        if detail.ndim != 3 or detail.shape[0] != detail.shape[1] or detail.shape[2] != 3:
            raise PasteError(f"detail crops must be square (s, s, 3), got {detail.shape}")
        face = mask_faces[i] if mask_faces is not None else np.zeros(detail.shape, np.uint8)
        placed = _warp_to_canvas(detail, affine, out.shape, upscale, crop_size, mask,
                                 cv2.INTER_CUBIC, cv2.BORDER_CONSTANT, face)
        if placed is None:
            continue
        (x0, y0, x1, y1), warped, m = placed
        region = out[y0:y1, x0:x1].astype(np.float32) + m * warped
        out[y0:y1, x0:x1] = np.clip(np.round(region), 0, 255).astype(np.uint8)
    return out


def _warp_to_canvas(crop: np.ndarray, affine: np.ndarray, canvas_shape: tuple, upscale: float,
                    crop_size: int | None, mask, interp: int, border: int,
                    mask_face: np.ndarray):
    """``crop`` and its mask (made from ``mask_face``, uint8 of the crop's size) warped into the canvas box the face covers: ((x0, y0, x1, y1),
    warped crop, (h, w, 1) mask), or None when the face lies outside the canvas."""
    ch, cw = canvas_shape[:2]
    side = crop.shape[0]
    # canvas -> crop affine (pixel-centre exact for both rescalings).
    to_face = rescale_affine(affine, src_scale=upscale, dst_scale=side / float(crop_size or side))
    to_canvas = cv2.invertAffineTransform(to_face)
    corners = transform_points(to_canvas, [[-1, -1], [side, -1], [-1, side], [side, side]])
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, cw), min(y1, ch)
    if x1 <= x0 or y1 <= y0:
        return None
    # Warp into the face's bounding box only: shift the canvas origin to (x0, y0).
    roi = to_face.copy()
    roi[:, 2] += roi[:, 0] * x0 + roi[:, 1] * y0
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(crop, roi, size, flags=interp | cv2.WARP_INVERSE_MAP,
                            borderMode=border, borderValue=0)
    m = cv2.warpAffine(_mask_for(mask, mask_face), roi, size,
                       flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)[..., None]
    return (x0, y0, x1, y1), warped, m
