"""``--merge DIR1 DIR2 ... --out DIR``: union the caches of shard runs and report once.

Each shard folder must hold a manifest.json of the same suite (same tasks, metrics and method
signatures); the merged report is built from the cached lines alone, so it equals what a
single run over all images gives.
"""

from __future__ import annotations

import json
from pathlib import Path

from fsr.bench import BenchError
from fsr.bench.compute.store import Store
from fsr.bench.compute.timing import Timer
from fsr.bench.inputs.suite import parse_suite
from fsr.bench.report.tables import RunInfo

_SAME = ("tasks", "metrics", "set_metrics", "pose_edges", "prior", "bootstrap", "datasets",
         "face_pipeline")


def _manifest(path: Path) -> dict:
    try:
        return json.loads((path / "manifest.json").read_text())
    except FileNotFoundError:
        raise BenchError(f"--merge: {path} has no manifest.json (not a finished run)") from None
    except json.JSONDecodeError:
        raise BenchError(f"--merge: {path}/manifest.json is not valid JSON") from None


def merge_dirs(dirs: list[Path], out: Path):
    timer = Timer()
    manifests = [_manifest(d) for d in dirs]
    first = manifests[0]["suite"]
    for d, m in zip(dirs[1:], manifests[1:], strict=True):
        diff = [k for k in _SAME if m["suite"].get(k) != first.get(k)]
        if diff:
            raise BenchError(f"--merge: {d} ran a different suite setup ({', '.join(diff)})")
    suite = parse_suite(first["raw"], Path(first["file"]))
    methods: dict[str, list[dict]] = {}
    for m in manifests:
        for task, entries in m["methods"].items():
            have = {(e["label"], e["signature"]) for e in methods.setdefault(task, [])}
            methods[task] += [e for e in entries if (e["label"], e["signature"]) not in have]
    for task in methods:
        methods[task].sort(key=lambda e: e["label"])
    order = {d["name"]: i for i, d in enumerate(suite.datasets)}
    keys = sorted({k for m in manifests for k in m["images"]},
                  key=lambda k: (order.get(k.split("/", 1)[0], 99), k))
    ref_keys = sorted({k for m in manifests for k in m.get("reference_images", [])})
    out.mkdir(parents=True, exist_ok=True)
    store = Store(out)
    with timer("io"):
        for d in dirs:
            if Path(d).resolve() != Path(out).resolve():
                store.load(Path(d) / "cache" / "records.jsonl")
        store.path.unlink(missing_ok=True)
        store.append(list(store.records.values()))
    datasets: dict = {}
    for m in manifests:
        for name, entry in m["datasets"].items():
            datasets.setdefault(name, dict(entry))
    shard_timings = [m["timings"] for m in manifests]
    extra = {"merged_from": [str(d) for d in dirs], "shard_timings": shard_timings}
    finders = {json.dumps(m.get("face_pipeline"), sort_keys=True) for m in manifests}
    if len(finders) > 1:
        names = sorted({(m.get("face_pipeline") or {}).get("detector", "none") for m in manifests})
        raise BenchError(f"--merge: the shards ran different face-pipeline detectors or weights "
                         f"({', '.join(names)}); rerun them on one machine setup")
    face_pipeline = manifests[0].get("face_pipeline") if suite.face_pipeline else None
    extra["protocol"] = same_protocol(dirs, manifests)
    extra["skipped"] = [s for m in manifests for s in m.get("skipped") or []]
    extra["submitted_by"] = manifests[0].get("submitted_by")
    absent = {tuple(k) for m in manifests for k in m.get("absent_results") or []}
    extra["absent_results"] = sorted(list(k) for k in absent)
    info = RunInfo(suite, keys, methods, ref_keys, face_pipeline=face_pipeline, absent=absent)
    return info, store, timer, datasets, extra


def same_protocol(dirs: list[Path], manifests: list[dict]) -> dict:
    """The shards' common protocol (each shard pins the whole, unsharded image list)."""
    from fsr.bench.inputs.protocol import difference

    first = manifests[0].get("protocol")
    for d, m in zip(dirs, manifests, strict=True):
        if m.get("protocol") is None:
            raise BenchError(f"--merge: {d}/manifest.json has no protocol fingerprint (a run "
                             "from before protocols were pinned); rerun that shard")
        for key in sorted(set(first) | set(m["protocol"])):
            a, b = first.get(key), m["protocol"].get(key)
            if a is None or b is None:
                continue  # a shard may hold no image of a dataset
            diff = difference(a["parts"], b["parts"])
            if diff:
                raise BenchError(f"--merge: {key}: {d}'s {diff} differs from {dirs[0]}'s")
    return {k: v for m in manifests for k, v in m["protocol"].items()}
