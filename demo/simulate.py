"""The demo's "simulate a low-resolution capture" mode: the benchmark run on the visitor's photo.

Each detected face, aligned at the benchmark's ground-truth size, is the ground truth; it is
degraded exactly as the benchmark degrades its images (the pose suite's task for the method:
sr-x4 / sr-x8 bicubic, restore GFPGAN blind; seed ``seed_for(image_key, task)`` with an
image key made from the photo's bytes and the face's number), every method restores that
input, and each output is scored by ``fsr.bench.compute.one_face`` -- the engine's own degrade, prior and
metric calls, so the numbers mean what the leaderboard's mean. Metric or method failures come
back as messages; no number is made up or turned into NaN.
"""

from __future__ import annotations

import hashlib
import time
from functools import cache

import numpy as np

from demo.photo import pose_text
from fsr.imageio import to_uint8

SUITE = "pose"  # the leaderboard's suite: its tasks, metrics and degradation recipes


@cache
def _bench():
    """The benchmark pieces the demo uses, imported on first use (the app starts without torch)."""
    from types import SimpleNamespace

    from fsr.bench import BenchError
    from fsr.bench.compute import lib, one_face
    from fsr.bench.inputs import suite

    return SimpleNamespace(BenchError=BenchError, lib=lib, one_face=one_face, suite=suite)


@cache
def suite():
    return _bench().suite.load_suite(SUITE)


@cache
def metrics():
    """One fsr.bench.compute.lib.Metrics per process (LPIPS and identity load once)."""
    return _bench().lib.Metrics()


def metric_columns() -> list[str]:
    return [s.column for s in suite().metrics]


def score_given(pred: np.ndarray, gt: np.ndarray) -> tuple[dict, list[str]]:
    """The pose suite's metrics of one uint8 crop against a ground truth the user gave (resized
    to the crop), scored like a benchmark image; failures are messages."""
    h = _bench()
    task = h.suite.Task(name="given", kind="restore", size=pred.shape[0], scale=1)
    values, problems = {}, []
    for spec in suite().metrics:  # one at a time: one failing must not hide the others
        try:
            values.update(h.one_face.score(metrics(), [spec], h.lib.to_tensor(pred / 255.0),
                                          gt.astype(np.float32) / 255, gt.astype(np.float32) / 255,
                                          task, "the crop"))
        except h.BenchError as err:
            problems.append(str(err))
    return {k: round(v, 4) for k, v in values.items()}, problems


def _u8(t_or_a) -> np.ndarray:
    return to_uint8(t_or_a[0].permute(1, 2, 0).numpy() if hasattr(t_or_a, "permute") else t_or_a)


def photo_key(img: np.ndarray) -> str:
    return "demo/" + hashlib.sha1(np.ascontiguousarray(img).tobytes()).hexdigest()[:16]


def ground_truths(img: np.ndarray, detector, max_faces: int, size: int, aligned: bool):
    """[(face dict, float gt at ``size``)] for each detected face, or the aligned crop."""
    from fsr.restore import RestoreError
    from fsr.restore.common import aligned_crop

    if aligned:
        from fsr.data.degradations import resize

        gt = resize(img.astype(np.float32) / 255, (size, size))
        note = (f"face 1: aligned crop {img.shape[0]} px"
                + (f" < {size} px ground truth: upsampled (softer than a real {size} px face)"
                   if img.shape[0] < size else f", ground truth at {size} px"))
        return [({"index": 1, "box": [0.0, 0.0, float(img.shape[1]), float(img.shape[0])],
                  "score": 1.0, "native_px": img.shape[0], "status": "simulated",
                  "note": note}, gt)], 0
    from fsr.face.pipeline import FacePipeline
    from fsr.restore import ALIGN_SIDE, native_side

    pipe = FacePipeline(detector, out_size=ALIGN_SIDE, max_faces=max_faces, mask="ellipse")
    faces = pipe.detect(img)
    if not faces:
        raise RestoreError("no face found in the image (try --aligned for a face crop, or another "
                           "--detector)")
    out = []
    for i, f in enumerate(faces, 1):
        px = int(round(native_side(f.affine)))
        crop = aligned_crop(img, f.affine, size)
        note = (f"face {i}: {px} px in the photo; ground truth: aligned at {size} px"
                + (" (upsampled: softer than a real face of that size)" if px < size else ""))
        out.append(({"index": i, "box": [float(v) for v in f.box], "score": float(f.score),
                     "native_px": px, "status": "simulated", "note": note},
                    crop.astype(np.float32) / 255))
    return out, pipe.dropped


def simulate(img: np.ndarray, usable: list[tuple[str, object]], *, detector, max_faces: int,
             aligned: bool, time_limit: float, start: float, messages: list[str]):
    """(faces, ran, rows, seconds, dropped) of the simulated mode; see the module docstring."""
    h = _bench()
    su = suite()
    tasks = {}
    for name, m in usable:
        try:
            tasks[name] = h.one_face.task_for(su, m.task, m.scale)
        except h.BenchError as err:
            messages.append(f"{name} skipped: {err}")
    sizes = {t.size for t in tasks.values()}
    if not tasks:
        return [], [], [], {}, 0
    size = max(sizes)
    pairs, dropped = ground_truths(img, detector, max_faces, size, aligned)
    key = photo_key(img)
    faces, rows, seconds, ran = [], [], {}, []
    for face, gt in pairs:
        pose = h.lib.estimate_pose(_resize(gt, 256))
        face["yaw"], face["pitch"], face["roll"] = pose["pose"]
        face["label"] = f"face {face['index']}: {pose_text(face['yaw'], face['pitch'], face['roll'])}"
        face.update(gt=_u8(gt), inputs={}, outputs={}, key=f"{key}/face{face['index']}")
        faces.append(face)
    for name, m in usable:
        if name not in tasks:
            continue
        if time.perf_counter() - start > time_limit:
            messages.append(f"{name} skipped: the request's time limit of {time_limit:.0f} s "
                            "was reached (choose fewer methods or a smaller photo)")
            continue
        task, t0, ok = tasks[name], time.perf_counter(), True
        for face, (_, gt) in zip(faces, pairs, strict=True):
            gt_t = gt if gt.shape[0] == task.size else _resize(gt, task.size)
            try:
                lq = h.one_face.task_input(gt_t, task, face["key"])
                out = h.one_face.run_method(m, lq, task)
            except h.BenchError as err:
                messages.append(f"{name} failed on face {face['index']}: {err}")
                ok = False
                break
            face["inputs"][task.name] = _u8(lq)
            face["outputs"][name] = _u8(out)
            row = {"method": name, "face": face["index"], "task": task.name,
                   "input_px": lq.shape[0], "output_px": int(out.shape[-1])}
            for spec in su.metrics:  # one at a time: one failing must not hide the others
                try:
                    row.update({k: round(v, 4) for k, v in h.one_face.score(
                        metrics(), [spec], out, gt_t, lq, task, f"face {face['index']}").items()})
                except h.BenchError as err:  # the row keeps a blank, the page says why
                    messages.append(f"{name}, face {face['index']}: {err}")
            rows.append(row)
        if ok:
            seconds[name] = time.perf_counter() - t0
            ran.append(name)
        else:
            rows = [r for r in rows if r["method"] != name]
            for face in faces:
                face["outputs"].pop(name, None)
    for face in faces:
        first = next((tasks[n].name for n in ran), None)
        face["input"] = face["inputs"].get(first, face["gt"])
    for r in rows:
        r["seconds"] = round(seconds.get(r["method"], 0.0), 3)
    return faces, ran, rows, seconds, dropped


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    from fsr.data.degradations import resize

    return img if img.shape[0] == size else resize(np.ascontiguousarray(img, np.float32), (size, size))
