"""Read any photo as uint8 RGB, write images atomically.

    from fsr.imageio import read_image, write_image
    rgb = read_image("photo.jpg")          # (H, W, 3) uint8, EXIF rotation applied
    write_image("out/photo.png", rgb)      # fsr.files.atomic_write: never half-written

Conversions (each one states what it does, so results are predictable):
- EXIF orientation (tags 2-8) is applied, so pixels are upright as a viewer shows them.
- Grayscale (L, 1, I;16, I) is replicated to 3 channels.
- 16-bit samples are scaled to 8-bit with rounding: v8 = round(v16 * 255 / 65535).
- Alpha (RGBA, LA, palette with transparency) is composited over white by default
  (``alpha='white'``), i.e. what an image viewer on a white page shows; ``alpha='drop'`` keeps
  the colour channels as stored (transparent pixels then show whatever colour they hold).
- Palette and CMYK images are converted to RGB; multi-frame files give their first frame.
Anything unreadable (missing, empty, truncated, not an image, too big, too small) raises
:class:`ImageReadError` with a one-line message.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np

from fsr.files import atomic_write

DEFAULT_MAX_PIXELS = 50_000_000  # 50 MP: larger files are rejected before decoding
DEFAULT_MIN_SIDE = 8  # a face cannot be seen in fewer pixels than this
_WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP",
                  ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}


class ImageReadError(ValueError):
    """An image could not be read; the message is one line meant for the user."""


def _open(source):
    from PIL import Image, UnidentifiedImageError

    name = "<bytes>" if isinstance(source, bytes | bytearray) else str(source)
    if not isinstance(source, bytes | bytearray):
        path = Path(source)
        if not path.exists():
            raise ImageReadError(f"{name}: no such file")
        if not path.is_file():
            raise ImageReadError(f"{name}: not a file")
        if path.stat().st_size == 0:
            raise ImageReadError(f"{name}: empty file")
        data = path.read_bytes()
    else:
        data = bytes(source)
        if not data:
            raise ImageReadError(f"{name}: empty data")
    try:
        with warnings.catch_warnings():  # sizes are checked by read_image itself
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise ImageReadError(f"{name}: image too large (decompression-bomb limit)") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{name}: not an image file (unknown format)") from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for malformed headers
        raise ImageReadError(f"{name}: cannot read image header ({exc})") from None
    return img, data, name


def _png_is_16bit_colour(img) -> bool:
    """Pillow reads 16-bit RGB(A) PNGs by truncating to the high byte: detect them."""
    return img.format == "PNG" and any(str(t.args).endswith(";16B") and str(t.args)[:3] == "RGB"
                                       for t in img.tile)


def _samples_to_uint8(arr: np.ndarray) -> np.ndarray:
    """Decoded integer samples (8/16-bit, bool) -> uint8; see :func:`to_uint8` for floats."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16 or arr.dtype.kind in "iu":
        arr = np.clip(arr.astype(np.float64), 0, 65535)
        return np.round(arr * (255.0 / 65535.0)).astype(np.uint8)
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    raise ImageReadError(f"unsupported sample type {arr.dtype}")


def _composite(rgb: np.ndarray, alpha: np.ndarray | None, mode: str) -> np.ndarray:
    if alpha is None or mode == "drop":
        return rgb
    a = alpha.astype(np.float32)[..., None] / 255.0
    out = rgb.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.round(out).astype(np.uint8)


def _decode(img, data: bytes, name: str, deep_colour: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (rgb uint8, alpha uint8 or None) before EXIF orientation."""
    from PIL import Image

    if deep_colour:
        import cv2

        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if arr is None or arr.ndim != 3:
            raise ImageReadError(f"{name}: cannot decode 16-bit PNG")
        arr = _samples_to_uint8(arr)
        rgb = arr[..., 2::-1] if arr.shape[2] >= 3 else np.repeat(arr[..., :1], 3, axis=2)
        alpha = arr[..., 3] if arr.shape[2] == 4 else None
        return np.ascontiguousarray(rgb), alpha
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        img = img.convert("RGB")
    elif mode == "PA":
        img = img.convert("RGBA")
    elif mode == "1":
        img = img.convert("L")
    elif mode in ("RGBa", "La"):  # premultiplied alpha
        img = img.convert("RGBA")
    mode = img.mode
    if mode == "F":
        raise ImageReadError(f"{name}: 32-bit float images are not supported (mode F)")
    arr = np.asarray(img)
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 'I' is how some Pillow versions hand over 16-bit grayscale: treat its range as 16-bit.
        arr = _samples_to_uint8(arr)
        return np.repeat(arr[..., None], 3, axis=2), None
    arr = _samples_to_uint8(arr)
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2), None
    if mode == "LA":
        return np.repeat(arr[..., :1], 3, axis=2), arr[..., 1]
    if mode == "RGBA":
        return np.ascontiguousarray(arr[..., :3]), arr[..., 3]
    if arr.ndim == 3 and arr.shape[2] == 3:
        return arr, None
    raise ImageReadError(f"{name}: unsupported image mode {Image.getmodebase(mode)}/{mode}")


_ORIENT_OPS = {  # EXIF orientation -> (rot90 count counter-clockwise, flip left-right first)
    2: (0, True), 3: (2, False), 4: (2, True), 5: (1, True), 6: (3, False), 7: (3, True),
    8: (1, False),
}


def _apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    if orientation not in _ORIENT_OPS:
        return arr
    k, flip = _ORIENT_OPS[orientation]
    if flip:
        arr = arr[:, ::-1]
    return np.ascontiguousarray(np.rot90(arr, k))


def read_image(source: str | os.PathLike | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               min_side: int = DEFAULT_MIN_SIDE, alpha: str = "white") -> np.ndarray:
    """Read an image file (or its bytes) as an upright ``(H, W, 3)`` uint8 RGB array.

    Args:
        source: a path, or the file's bytes.
        max_pixels: reject images with more pixels than this (checked before decoding).
        min_side: reject images whose shorter side is below this.
        alpha: 'white' composites transparency over white; 'drop' discards the alpha channel.

    Example:
        read_image("group.jpg", max_pixels=100_000_000).shape  # -> (886, 1280, 3)
    """
    if alpha not in ("white", "drop"):
        raise ValueError(f"alpha must be 'white' or 'drop', got {alpha!r}")
    img, data, name = _open(source)
    w, h = img.size
    if w * h > max_pixels:
        raise ImageReadError(f"{name}: {w}x{h} = {w * h / 1e6:.1f} MP exceeds the limit of "
                             f"{max_pixels / 1e6:.1f} MP (raise max_pixels to allow it)")
    if min(w, h) < min_side:
        raise ImageReadError(f"{name}: {w}x{h} is too small (shorter side < {min_side} px)")
    deep_colour = _png_is_16bit_colour(img)  # ask before getexif()/load() clear img.tile
    try:
        orientation = int(img.getexif().get(274, 1) or 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop reading the pixels
        orientation = 1
    try:
        img.seek(0)
        img.load()
        rgb, a = _decode(img, data, name, deep_colour)
    except ImageReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt data surface as many types
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageReadError(f"{name}: cannot decode image data ({msg})") from None
    out = _composite(rgb, a, alpha)
    return _apply_orientation(out, orientation)


def read_samples(source: str | os.PathLike | bytes, *,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image as stored: ``(H, W, C)`` uint8 or uint16, C in 1-4, no conversion.

    For callers that must see what a file holds before deciding (the benchmark scores a
    method's saved outputs: 16-bit keeps its precision, grey or transparent outputs are
    refused rather than silently converted). EXIF orientation is not applied. Unreadable,
    empty, truncated or non-image files raise :class:`ImageReadError` (one line).

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "grey.png"
        >>> _ = write_image(path, np.zeros((16, 16), np.uint8))
        >>> read_samples(path).shape, read_samples(path).dtype
        ((16, 16, 1), dtype('uint8'))
    """
    img, data, name = _open(source)
    w, h = img.size
    if w * h > max_pixels:
        raise ImageReadError(f"{name}: {w}x{h} = {w * h / 1e6:.1f} MP exceeds the limit of "
                             f"{max_pixels / 1e6:.1f} MP")
    deep_colour = _png_is_16bit_colour(img)
    try:
        if deep_colour:
            import cv2

            arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
            if arr is None or arr.ndim != 3:
                raise ImageReadError(f"{name}: cannot decode 16-bit PNG")
            arr = np.concatenate([arr[..., 2::-1], arr[..., 3:]], axis=2)  # BGR(A) -> RGB(A)
        else:
            img.seek(0)
            img.load()
            if img.mode == "P":
                img = img.convert("RGBA" if "transparency" in img.info else "RGB")
            elif img.mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
                img = img.convert("RGB")
            elif img.mode == "1":
                img = img.convert("L")
            elif img.mode in ("RGBa", "La", "PA"):
                img = img.convert("RGBA" if img.mode != "La" else "LA")
            if img.mode == "F":
                raise ImageReadError(f"{name}: 32-bit float images are not supported (mode F)")
            arr = np.asarray(img)
            if img.mode.startswith("I"):  # 16-bit grey as Pillow hands it over
                arr = np.clip(arr, 0, 65535).astype(np.uint16)
    except ImageReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt data surface as many types
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageReadError(f"{name}: cannot decode image data ({msg})") from None
    arr = arr[..., None] if arr.ndim == 2 else arr
    if arr.dtype not in (np.uint8, np.uint16) or arr.shape[2] not in (1, 2, 3, 4):
        raise ImageReadError(f"{name}: unsupported samples {arr.dtype} x {arr.shape[2]} channels")
    return np.ascontiguousarray(arr)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] -> contiguous uint8: clipped, times 255, rounded half to even
    (``np.round``), so 0.5/255 -> 0 and 1.5/255 -> 2; a uint8 array is returned as it is.

    The one conversion every fsr caller uses (the 3D prior's input, pose, saved outputs), so
    the same float image always becomes the same bytes.

        >>> to_uint8(np.array([[[-0.1, 0.5, 1.2]]], np.float32)).tolist()
        [[[0, 128, 255]]]
    """
    img = np.asarray(img)
    if img.dtype == np.uint8:
        return np.ascontiguousarray(img)
    return np.ascontiguousarray((np.clip(img, 0, 1) * 255.0).round().astype(np.uint8))


def write_image(path: str | os.PathLike, rgb: np.ndarray, *, quality: int = 95) -> Path:
    """Write an ``(H, W, 3)`` (or ``(H, W)``) uint8 RGB array atomically; format from suffix.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "face.png"
        >>> write_image(path, np.zeros((64, 64, 3), np.uint8)) == path
        True
    """
    from PIL import Image

    path = Path(path)
    fmt = _WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image suffix {path.suffix!r}; "
                         f"use one of {', '.join(sorted(_WRITE_FORMATS))}")
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or not (rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[2] == 3)):
        raise ValueError(f"write_image wants uint8 (H, W, 3) or (H, W), got {rgb.dtype} "
                         f"{tuple(rgb.shape)}")
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    with atomic_write(path) as tmp:
        Image.fromarray(np.ascontiguousarray(rgb)).save(tmp, format=fmt, **kwargs)
    return path
