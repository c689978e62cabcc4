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
import os
import shutil
import tempfile
import time
import warnings
import zipfile
from functools import cache
from pathlib import Path

from demo.photo import DemoError, DetectOnce, annotate, get_detector, pose_text, read_photo
from demo.simulate import metric_columns, score_given, simulate

MAX_PIXELS = int(os.environ.get("FSR_DEMO_MAX_PIXELS", 16_000_000))  # input photo
MAX_OUTPUT_PIXELS = 24_000_000  # the whole restored photo; faces keep the method's full scale
MAX_FACES = int(os.environ.get("FSR_DEMO_MAX_FACES", 10))
TIME_LIMIT_S = float(os.environ.get("FSR_DEMO_TIME_LIMIT", 180))
CHECKS = ("psnr_vs_input", "identity_dist_vs_input")  # native mode: is the output still the input?
MODES = ("auto", "simulate", "native")


def csv_columns() -> list[str]:
    """The CSV's columns; the metric ones are the pose suite's (read on first use, not at import)."""
    return ["mode", "method", "face", "x1", "y1", "x2", "y2", "score", "yaw", "pitch", "roll",
            "face_px", "status", "task", "input_px", "output_px", *metric_columns(),
            *CHECKS, "seconds", "note"]

OUT_ROOT = Path(tempfile.gettempdir()) / "fsr-demo"
KEEP_OUTPUTS_S = 3600  # request folders older than this are deleted by later requests


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


def compare(image, methods, aligned: bool = False, gt=None, *, mode: str = "auto",
            detector: str = "auto", max_faces: int = MAX_FACES, max_pixels: int = MAX_PIXELS,
            time_limit: float = TIME_LIMIT_S, out_dir: str | os.PathLike | None = None) -> dict:
    """Run each of ``methods`` on ``image`` (a path or uint8 RGB array) and pack the results.

    ``mode='simulate'``: each face (aligned, at the benchmark's size) is the ground truth, the
    benchmark's degradation makes the input, and every output is scored as the benchmark
    scores it (:mod:`demo.simulate`). ``mode='native'``: the photo itself is the low-quality
    input (:func:`fsr.restore.restore` at native resolution: faces larger than a method's
    input are kept, and each face is checked against the input). ``'auto'``: simulate when the
    largest face is larger than the methods' input, native otherwise; a user ``gt`` means native.
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
    img = read_photo(image, "image", max_pixels)
    gt_img = read_photo(gt, "ground truth", max_pixels) if gt is not None else None
    messages: list[str] = []
    if gt_img is not None and not aligned:
        messages.append("ground truth is compared only with an aligned face crop; it was ignored")
        gt_img = None
    if gt_img is not None and abs(gt_img.shape[1] / gt_img.shape[0]
                                  - img.shape[1] / img.shape[0]) > 0.02:
        raise DemoError(f"ground truth {gt_img.shape[1]}x{gt_img.shape[0]} does not have the "
                        f"input crop's aspect ratio ({img.shape[1]}x{img.shape[0]})")

    if mode not in MODES:
        raise DemoError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    usable, loaded = [], []
    for name in methods:
        try:
            m = load_method(name)
            usable.append((name, m.task, m.scale))
            loaded.append((name, m))
        except MethodError as err:
            messages.append(f"{name} skipped: {err}")
    if not usable:
        raise DemoError("; ".join(messages))

    det = None if aligned else DetectOnce(get_detector(detector))
    out = Path(out_dir) if out_dir is not None else _out_dir()
    out.mkdir(parents=True, exist_ok=True)
    if mode == "auto":
        mode, why = _auto_mode(img, loaded, aligned, gt_img is not None, det, max_faces)
        messages.append(why)
    faces: list[dict] = []
    photos: dict[str, Path] = {}
    seconds: dict[str, float] = {}
    ran: list[str] = []
    rows: list[dict] = []
    if mode == "simulate":
        try:
            faces, ran, rows, seconds, dropped = simulate(
                img, loaded, detector=det, max_faces=max_faces, aligned=aligned,
                time_limit=time_limit, start=start, messages=messages)
        except RestoreError as err:
            raise DemoError(str(err).replace("--aligned", "'already-aligned face crop'")
                            .replace("--detector", "detector")) from None
        if dropped:
            messages.append(f"{len(faces) + dropped} faces found; only the {len(faces)} largest "
                            f"are simulated (limit {max_faces})")
        if gt_img is not None:
            messages.append("simulated mode makes its own ground truth; the uploaded one was "
                            "ignored")
            gt_img = None
        usable = []  # the native loop below does nothing
    for name, _task, _scale in usable:
        if time.perf_counter() - start > time_limit:
            messages.append(f"{name} skipped: the request's time limit of {time_limit:.0f} s "
                            "was reached (choose fewer methods or a smaller photo)")
            continue
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():  # max_faces dropping is reported below instead
                warnings.simplefilter("ignore", UserWarning)
                res = restore(img, name, aligned=aligned, detector=det or detector,
                              max_faces=max_faces, max_output_pixels=MAX_OUTPUT_PIXELS)
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
        messages += [f"{name}: {n}" for n in res.notes]
        if not faces:
            if res.dropped_faces:
                messages.append(f"{len(res.faces) + res.dropped_faces} faces found; only the "
                                f"{len(res.faces)} largest are restored (limit {max_faces})")
            for i, f in enumerate(res.faces, 1):
                faces.append({"index": i, "box": [float(v) for v in f.box],
                              "score": float(f.score), "yaw": f.yaw, "pitch": f.pitch,
                              "roll": f.roll, "label": f"face {i}: {pose_text(f.yaw, f.pitch, f.roll)}",
                              "native_px": f.native_px, "input": f.input_crop, "outputs": {},
                              "inputs": {}, "status": {}, "notes": {}, "checks": {}})
        if len(res.faces) != len(faces):
            messages.append(f"{name} failed: found {len(res.faces)} faces, not {len(faces)}")
            continue
        for face, f in zip(faces, res.faces, strict=True):
            face["outputs"][name] = f.output_crop
            face["inputs"][name] = f.input_crop  # what this method saw (kept: the native face)
            face["status"][name], face["notes"][name] = f.status, f.note
            face["checks"][name] = (f.psnr_vs_input, f.identity_dist_vs_input)
        ran.append(name)
        if not aligned:
            photos[name] = write_image(out / "photos" / f"{_slug(name)}.jpg", res.image, quality=95)
    if not ran:
        raise DemoError("no method produced a result: " + "; ".join(messages))

    if mode == "native":
        for face in faces:
            for name in ran:
                pred = face["outputs"][name]
                psnr_in, id_in = face["checks"][name]
                row = {"method": name, "face": face["index"], "status": face["status"][name],
                       "note": face["notes"][name], "input_px": face["inputs"][name].shape[0],
                       "output_px": pred.shape[0], "psnr_vs_input": psnr_in,
                       "identity_dist_vs_input": id_in, "seconds": round(seconds[name], 3)}
                if gt_img is not None:
                    values, problems = score_given(pred, gt_img)
                    row.update(values)
                    messages += [p for p in problems if p not in messages]
                rows.append(row)
    by_face = {f["index"]: f for f in faces}
    for row in rows:  # the face's own columns, the same in both modes
        face = by_face[row["face"]]
        row.update({"mode": mode, "face_px": face.get("native_px"),
                    **dict(zip(("x1", "y1", "x2", "y2"), (round(v, 1) for v in face["box"]),
                               strict=True)),
                    "score": round(face["score"], 4),
                    **{k: None if face[k] is None else round(face[k], 2)
                       for k in ("yaw", "pitch", "roll")}})
        row.setdefault("status", face.get("status") if mode == "simulate" else None)
        row.setdefault("note", face.get("note"))
    _label_faces(faces, ran, mode)

    annotated = annotate(img, faces)
    files = [write_image(out / "annotated.jpg", annotated, quality=92)]
    for face in faces:
        stem = out / "faces" / f"face{face['index']:02d}"
        files.append(write_image(f"{stem}_input-crop.png", face["input"]))  # no method has this name
        if "gt" in face:
            files.append(write_image(f"{stem}_ground-truth.png", face["gt"]))
        files += [write_image(f"{stem}_{_slug(n)}.png", face["outputs"][n]) for n in ran]
    if gt_img is not None:
        files.append(write_image(out / "faces" / "ground_truth.png", gt_img))
    csv_path = out / "results.csv"
    with open(csv_path, "w", newline="") as fh:
        # the suite's metric columns beyond the fixed ones (e.g. identity-dist) follow them
        columns = csv_columns()
        extra = list(dict.fromkeys(k for r in rows for k in r if k not in columns))
        writer = csv.DictWriter(fh, fieldnames=columns + extra, restval="")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    zip_path = out / "fsr-results.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as zf:  # PNG/JPEG are compressed
        for path in [*files, *photos.values(), csv_path]:
            zf.write(path, Path(path).relative_to(out).as_posix())
    return {"methods": ran, "faces": faces, "photos": photos, "annotated": annotated,
            "rows": rows, "csv": csv_path, "zip": zip_path, "messages": messages,
            "seconds": seconds, "total_seconds": time.perf_counter() - start,
            "aligned": aligned, "has_gt": gt_img is not None or mode == "simulate", "mode": mode,
            "detections": 0 if det is None else det.calls}


def _auto_mode(img, loaded, aligned: bool, has_gt: bool, det, max_faces: int) -> tuple[str, str]:
    """'native' when a chosen fixed-input method would put the largest face through its model
    (fsr.restore.routes: up to the measured sizes), or, with any-size methods only, when the
    face is within the benchmark's input (x4: 32 px); else 'simulate' (restoring the photo
    itself would only keep its faces). And why, for the status line."""
    from fsr.restore import face_input_side, native_side
    from fsr.restore.routes import choose_route

    if has_gt:
        return "native", "mode: your crop and your ground truth (native)"
    if aligned:
        largest = img.shape[0]
    else:
        from fsr.face.pipeline import FacePipeline

        found = FacePipeline(det, out_size=512, max_faces=max_faces, mask="ellipse").detect(img)
        if not found:
            return "native", "mode: native (no face found to simulate)"
        largest = max(int(round(native_side(f.affine))) for f in found)
    routed = []  # fixed-input methods that would use their model on the largest face
    for name, m in loaded:
        side = face_input_side(m)
        if side is not None and choose_route(m.label, largest, side).route != "kept":
            routed.append(f"{name} ({choose_route(m.label, largest, side).route})")
    fixed = [m for _, m in loaded if face_input_side(m) is not None]
    bench_side = min(128 // m.scale if m.task == "sr" else 128 for _, m in loaded)
    if routed or (not fixed and largest <= bench_side):
        return "native", (f"mode: your photo is the low-resolution input (largest face {largest} "
                          "px" + (f"; {', '.join(routed)}" if routed else "") + ")")
    return "simulate", (f"mode: simulated low-resolution capture (the largest face, {largest} "
                        "px, is beyond what the methods restore at its size: restoring the photo "
                        "itself would keep it as it is); choose 'My photo is the "
                        "low-resolution input' to restore the photo itself")


def _label_faces(faces: list[dict], ran: list[str], mode: str) -> None:
    """Each face's label says its size and what happened to it (shown next to the face)."""
    for f in faces:
        base = f"face {f['index']}: {f.get('native_px', '?')} px, " + \
            pose_text(f["yaw"], f["pitch"], f["roll"])
        if mode == "simulate":
            f["label"], f["tag"] = base + " - simulated (ground truth | input | methods)", "sim"
        else:
            kinds = sorted({f["status"][n] for n in ran if n in f.get("status", {})})
            f["label"] = base + " - " + "/".join(kinds)
            f["tag"] = "/".join(kinds).replace("whole-photo", "photo")


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


YAW_METRICS = ("psnr", "lpips", "identity-dist")  # the Benchmark tab's choice, in this order


def yaw_plots(root: str | os.PathLike | None = None) -> dict[str, Path]:
    """The leaderboard's per-yaw plots of the test faces, {metric: PNG}, those that exist."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    plots = root / "leaderboard" / "pose" / "plots"
    found = {m: plots / f"samples_{m}_vs_yaw.png" for m in YAW_METRICS}
    return {m: p for m, p in found.items() if p.is_file()}
