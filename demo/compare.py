"""The demo's processing, callable without a browser: run several methods on one photo.

    >>> from demo.compare import compare
    >>> out = compare("demo/examples/multi_face.jpg", ["bicubic-x4", "lanczos-x4"])
    >>> len(out["faces"]), out["methods"], out["csv"]            # doctest: +SKIP
    (5, ['bicubic-x4', 'lanczos-x4'], PosixPath('/tmp/fsr-demo/.../results.csv'))

Everything that restores, detects, estimates pose or measures lives in ``fsr``; this module
only loops over the chosen methods, applies the app's guards (pixels, faces, time), draws the
detections and packs the results (crops as PNG, photos as JPEG, a CSV, a zip). Anything the
user can cause raises :class:`DemoError` with one line meant for the page.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import tempfile
import time
import warnings
import zipfile
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

MAX_PIXELS = int(os.environ.get("FSR_DEMO_MAX_PIXELS", 16_000_000))  # input photo
MAX_OUTPUT_PIXELS = 24_000_000  # the whole restored photo; faces keep the method's full scale
MAX_FACES = int(os.environ.get("FSR_DEMO_MAX_FACES", 10))
TIME_LIMIT_S = float(os.environ.get("FSR_DEMO_TIME_LIMIT", 180))
METRICS = ("psnr", "ssim", "lpips", "identity")
CSV_COLUMNS = ["method", "face", "x1", "y1", "x2", "y2", "score", "yaw", "pitch", "roll",
               "input_px", "output_px", *METRICS, "identity_model", "seconds"]
OUT_ROOT = Path(tempfile.gettempdir()) / "fsr-demo"
KEEP_OUTPUTS_S = 3600  # request folders older than this are deleted by later requests


class DemoError(ValueError):
    """Something the user can fix (no face, bad file, no method...): one line for the page."""


@cache
def method_info(name: str) -> tuple[str, int]:
    from fsr.methods import load_method

    m = load_method(name)
    return m.task, m.scale


def method_choices(task: str | None = None, scale: int | None = None) -> list[str]:
    """Methods whose weights are on this machine, for ``task`` ('sr'/'restore') and ``scale``."""
    from fsr.methods import MethodError, available_methods

    names = []
    for name in available_methods(task):
        try:
            m_task, m_scale = method_info(name)
        except MethodError:  # weights vanished or fail their check: not offered
            continue
        if scale is None or m_task != "sr" or m_scale == int(scale):
            names.append(name)
    return names


def _deg(v: float) -> str:
    return f"{int(round(v)):+d}"  # never '-0'


def pose_text(yaw, pitch, roll) -> str:
    if yaw is None:
        return "pose unknown"
    return f"yaw {_deg(yaw)}°, pitch {_deg(pitch)}°, roll {_deg(roll)}°"


def annotate(img: np.ndarray, faces: list[dict]) -> np.ndarray:
    """The photo with each face's box, and its number and yaw/pitch/roll under the box."""
    import cv2

    out = np.ascontiguousarray(img.copy())
    thick = max(1, round(max(img.shape[:2]) / 500))
    for f in faces:
        x1, y1, x2, y2 = (int(round(v)) for v in f["box"])
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 0), thick + 1)
        text = f"#{f['index']}" + ("" if f["yaw"] is None else
                                   f" y{_deg(f['yaw'])} p{_deg(f['pitch'])} r{_deg(f['roll'])}")
        # font sized so the label is about as wide as the box (readable, not overlapping)
        (w1, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, thick)
        font = min(max((x2 - x1) * 1.1 / w1, 0.35), 3.0)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font, thick)
        ty = y2 + th + base + 2
        if ty + base > out.shape[0]:  # no room under the box: write above it
            ty = max(y1 - base - 2, th)
        cv2.rectangle(out, (x1, ty - th - 2), (x1 + tw + 2, ty + base), (0, 0, 0), -1)
        cv2.putText(out, text, (x1 + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 255, 0), thick,
                    cv2.LINE_AA)
    return out


class _DetectOnce:
    """A detector that remembers its last answer, so one photo is detected once for all the
    methods of a request (FacePipeline, which restore() builds, accepts a detector object)."""

    def __init__(self, detector) -> None:
        self.detector, self.name = detector, getattr(detector, "name", "detector")
        self._key, self._dets, self.calls = None, None, 0

    def detect_faces(self, img_bgr: np.ndarray, conf_threshold: float | None = None, **_):
        import hashlib

        key = (img_bgr.shape, hashlib.sha1(np.ascontiguousarray(img_bgr)).digest(), conf_threshold)
        if key != self._key:
            self._dets = self.detector.detect_faces(img_bgr, conf_threshold)
            self._key = key
            self.calls += 1
        return self._dets.copy()


@lru_cache(maxsize=4)
def get_detector(name: str):
    """The named detector, built once per process (its weights load once)."""
    from fsr.face.detectors import DetectorUnavailable, create_detector

    try:
        return create_detector(name)
    except (DetectorUnavailable, ValueError) as err:  # no weights / unknown name
        raise DemoError(str(err).splitlines()[0]) from None


def _read(image, what: str, max_pixels: int) -> np.ndarray:
    from fsr.imageio import ImageReadError, read_image

    if image is None:
        raise DemoError(f"no {what}: upload an image or pick an example")
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise DemoError(f"{what}: expected an HxWx3 uint8 RGB array, got {image.dtype} "
                            f"{image.shape}")
        if image.shape[0] * image.shape[1] > max_pixels:
            h, w = image.shape[:2]
            raise DemoError(f"{what}: {w}x{h} = {w * h / 1e6:.1f} MP exceeds the limit of "
                            f"{max_pixels / 1e6:.1f} MP")
        return image
    try:
        return read_image(image, max_pixels=max_pixels)
    except ImageReadError as err:
        # the upload's temporary path means nothing to the user: keep the file name only
        raise DemoError(f"{what}: {str(err).replace(str(image), Path(str(image)).name)}") from None


def _resize_uint8(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from fsr.data.degradations import resize

    return (resize(img.astype(np.float32) / 255, size) * 255).round().astype(np.uint8)


@cache
def _metric(name: str):
    from fsr.metrics import create_metric

    return create_metric(name)


def face_metrics(pred: np.ndarray, gt: np.ndarray) -> tuple[dict, list[str]]:
    """PSNR/SSIM/LPIPS/identity of one uint8 crop against its ground truth (resized to it)."""
    import torch

    if gt.shape[:2] != pred.shape[:2]:
        gt = _resize_uint8(gt, pred.shape[:2])

    def t(a):
        return torch.from_numpy(a.astype(np.float32) / 255).permute(2, 0, 1)[None]

    values, problems = {"identity_model": ""}, []
    for name in METRICS:
        try:
            metric = _metric(name)
            with torch.no_grad():
                values[name] = float(metric(t(pred), t(gt))[0])
            if name == "identity":
                values["identity_model"] = getattr(metric, "model_name", "")
        except Exception as err:  # noqa: BLE001 - one metric failing must not hide the others
            values[name] = math.nan
            problems.append(f"{name} not computed: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
    return values, problems


def _out_dir() -> Path:
    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in OUT_ROOT.glob("run-*"):
        try:
            if now - old.stat().st_mtime > KEEP_OUTPUTS_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return Path(tempfile.mkdtemp(prefix="run-", dir=OUT_ROOT))


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def compare(image, methods, aligned: bool = False, gt=None, *, detector: str = "auto",
            max_faces: int = MAX_FACES, max_pixels: int = MAX_PIXELS,
            time_limit: float = TIME_LIMIT_S, out_dir: str | os.PathLike | None = None) -> dict:
    """Run each of ``methods`` on ``image`` (a path or uint8 RGB array) and pack the results.

    ``aligned=True``: the image is one FFHQ-aligned face crop (no detection); ``gt`` (a path
    or array, aligned crop only) adds PSNR/SSIM/LPIPS/identity per face. Methods run one after
    another until ``time_limit`` seconds have passed; the rest are skipped with a message.

    Returns a dict: ``methods`` (those that ran), ``faces`` (per face: index, box, score,
    yaw/pitch/roll, label, ``input`` (the uint8 crop the methods saw), ``outputs``
    {method: uint8 crop}), ``photos`` {method: JPEG path of the whole restored photo},
    ``annotated`` (uint8 photo with boxes and angles), ``rows`` (CSV rows as dicts), ``csv``
    and ``zip`` paths, ``messages`` (warnings for the page), ``seconds`` {method: s}.
    """
    from fsr.imageio import write_image
    from fsr.methods import MethodError, load_method
    from fsr.restore import RestoreError, restore

    start = time.perf_counter()
    methods = list(dict.fromkeys(methods or []))
    if not methods:
        raise DemoError("choose at least one method")
    img = _read(image, "image", max_pixels)
    gt_img = _read(gt, "ground truth", max_pixels) if gt is not None else None
    messages: list[str] = []
    if gt_img is not None and not aligned:
        messages.append("ground truth is compared only with an aligned face crop; it was ignored")
        gt_img = None
    if gt_img is not None and abs(gt_img.shape[1] / gt_img.shape[0]
                                  - img.shape[1] / img.shape[0]) > 0.02:
        raise DemoError(f"ground truth {gt_img.shape[1]}x{gt_img.shape[0]} does not have the "
                        f"input crop's aspect ratio ({img.shape[1]}x{img.shape[0]})")

    usable = []
    for name in methods:
        try:
            m = load_method(name)
            usable.append((name, m.task, m.scale))
        except MethodError as err:
            messages.append(f"{name} skipped: {err}")
    if not usable:
        raise DemoError("; ".join(messages))

    det = None if aligned else _DetectOnce(get_detector(detector))
    out = Path(out_dir) if out_dir is not None else _out_dir()
    out.mkdir(parents=True, exist_ok=True)
    faces: list[dict] = []
    photos: dict[str, Path] = {}
    seconds: dict[str, float] = {}
    ran: list[str] = []
    for name, task, scale in usable:
        if time.perf_counter() - start > time_limit:
            messages.append(f"{name} skipped: the request's time limit of {time_limit:.0f} s "
                            "was reached (choose fewer methods or a smaller photo)")
            continue
        t0 = time.perf_counter()
        upscale = None
        if not aligned and task == "sr":
            cap = math.sqrt(MAX_OUTPUT_PIXELS / (img.shape[0] * img.shape[1]))
            if scale > cap:
                upscale = cap
                messages.append(f"{name}: whole photo upscaled x{cap:.2f} instead of x{scale} "
                                f"(output capped at {MAX_OUTPUT_PIXELS / 1e6:.0f} MP); the "
                                "face crops keep the method's full scale")
        try:
            with warnings.catch_warnings():  # max_faces dropping is reported below instead
                warnings.simplefilter("ignore", UserWarning)
                res = restore(img, name, aligned=aligned, detector=det or detector, upscale=upscale,
                              max_faces=max_faces)
        except RestoreError as err:
            if not ran and not faces:  # no face / unusable image: the same for every method
                raise DemoError(str(err).replace("--aligned", "'already-aligned face crop'")
                                .replace("--detector", "detector")) from None
            messages.append(f"{name} failed: {err}")
            continue
        except Exception as err:  # noqa: BLE001 - one method failing must not lose the others
            first = str(err).splitlines()[0] if str(err) else ""
            messages.append(f"{name} failed: {type(err).__name__}: {first}")
            continue
        seconds[name] = time.perf_counter() - t0
        if not faces:
            if res.dropped_faces:
                messages.append(f"{len(res.faces) + res.dropped_faces} faces found; only the "
                                f"{len(res.faces)} largest are restored (limit {max_faces})")
            for i, f in enumerate(res.faces, 1):
                faces.append({"index": i, "box": [float(v) for v in f.box],
                              "score": float(f.score), "yaw": f.yaw, "pitch": f.pitch,
                              "roll": f.roll, "label": f"face {i}: {pose_text(f.yaw, f.pitch, f.roll)}",
                              "input": f.input_crop, "outputs": {}})
        if len(res.faces) != len(faces):
            messages.append(f"{name} failed: found {len(res.faces)} faces, not {len(faces)}")
            continue
        for face, f in zip(faces, res.faces, strict=True):
            face["outputs"][name] = f.output_crop
        ran.append(name)
        if not aligned:
            photos[name] = write_image(out / "photos" / f"{_slug(name)}.jpg", res.image, quality=95)
    if not ran:
        raise DemoError("no method produced a result: " + "; ".join(messages))

    rows = []
    for face in faces:
        for name in ran:
            pred = face["outputs"][name]
            row = {"method": name, "face": face["index"],
                   **dict(zip(("x1", "y1", "x2", "y2"), (round(v, 1) for v in face["box"]),
                              strict=True)),
                   "score": round(face["score"], 4),
                   **{k: None if face[k] is None else round(face[k], 2)
                      for k in ("yaw", "pitch", "roll")},
                   "input_px": face["input"].shape[0], "output_px": pred.shape[0],
                   "seconds": round(seconds[name], 3)}
            if gt_img is not None:
                values, problems = face_metrics(pred, gt_img)
                row.update(values)
                messages += [p for p in problems if p not in messages]
            rows.append(row)

    annotated = annotate(img, faces)
    files = [write_image(out / "annotated.jpg", annotated, quality=92)]
    for face in faces:
        stem = out / "faces" / f"face{face['index']:02d}"
        files.append(write_image(f"{stem}_input-crop.png", face["input"]))  # no method has this name
        files += [write_image(f"{stem}_{_slug(n)}.png", face["outputs"][n]) for n in ran]
    if gt_img is not None:
        files.append(write_image(out / "faces" / "ground_truth.png", gt_img))
    csv_path = out / "results.csv"
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, restval="")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    zip_path = out / "fsr-results.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as zf:  # PNG/JPEG are compressed
        for path in [*files, *photos.values(), csv_path]:
            zf.write(path, Path(path).relative_to(out).as_posix())
    return {"methods": ran, "faces": faces, "photos": photos, "annotated": annotated,
            "rows": rows, "csv": csv_path, "zip": zip_path, "messages": messages,
            "seconds": seconds, "total_seconds": time.perf_counter() - start,
            "aligned": aligned, "has_gt": gt_img is not None,
            "detections": 0 if det is None else det.calls}


def leaderboard_markdown(root: str | os.PathLike | None = None) -> str:
    """The newest leaderboard Markdown, or how to make one when there is none yet."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    for rel in ("leaderboard/LEADERBOARD.md", "results/pose/LEADERBOARD.md"):
        path = root / rel
        if path.is_file() and path.stat().st_size:
            return f"*From `{rel}`.*\n\n" + path.read_text(encoding="utf-8")
    return ("No leaderboard has been made on this machine yet. Run the benchmark and render it:\n\n"
            "```\npython bench/run.py --suite pose       # writes results/pose/\n"
            "python leaderboard/make.py results/pose -o leaderboard/LEADERBOARD.md\n```\n\n"
            "then reload this page.")
