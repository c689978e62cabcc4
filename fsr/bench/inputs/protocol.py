"""The protocol fingerprint of a run, per dataset x task: what makes two runs' numbers comparable.

Published face-restoration numbers do not compare across papers because each paper's
low-quality set, FID reference and identity code differ. A run pins all of them::

    {"samples/sr-x4": {"fingerprint": "<16 hex>", "parts": {
        "dataset":  type, kind, images, content_sha256 (of every ground-truth and given-input
                    file of the run's images, before sharding),
        "task":     kind, size, scale, degradation recipe (or 'given'), seed rule,
        "pose":     bucket edges and where the pose comes from,
        "metrics":  per column: metric, against, network, weights sha256,
        "set_metrics": per set metric: feature weights sha256, reference (and its content),
        "prior", "bootstrap"}}}

It goes into manifest.json, the export's protocol.json and the leaderboard beside every
table; ``leaderboard/make.py RUN [RUN ...]`` merges only runs whose parts agree
(:func:`difference` names the first part that does not).

    >>> a = {"dataset": {"images": 2}, "task": {"size": 128}, "metrics": {"psnr": {"m": 1}}}
    >>> difference(a, a | {"task": {"size": 64}})
    'task size'
    >>> difference(a, a | {"metrics": {"psnr": {"m": 1}, "lpips": {"m": 2}}}) is None  # extra
    True
"""

from __future__ import annotations

import hashlib
import json
import math

SEED_RULE = ("seed = sha256('<dataset>/<image id>|<task name>')[:4] as a big-endian integer >> 1 "
             "(fsr.data.degradations.seed_for), one fixed input per image and task")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def dataset_content(items) -> str:
    """sha256 over the items' keys and content fingerprints (their files' sha256)."""
    return _sha("\n".join(f"{it.key}|{it.fingerprint}" for it in items))


def fingerprint(parts: dict) -> str:
    return _sha(json.dumps(parts, sort_keys=True, default=str))[:16]


FRIENDLY = {"task.degradation": "degradation", "task.size": "task size",
            "task.scale": "task scale", "task.seed_rule": "seed rule",
            "dataset.content_sha256": "dataset content", "dataset.images": "image count",
            "pose.edges": "pose bucket edges", "prior": "prior source",
            "bootstrap": "bootstrap settings"}


def difference(a: dict, b: dict) -> str | None:
    """What differs first between two protocols' parts, in words (None: they agree). Metric
    columns are compared where both runs have them (a run may score more columns); every other
    part must be equal."""
    common = set(a.get("metrics") or {}) & set(b.get("metrics") or {})
    a = a | {"metrics": {c: a["metrics"][c] for c in common}}
    b = b | {"metrics": {c: b["metrics"][c] for c in common}}
    path = _first_leaf(a, b)
    return None if path is None else _describe(path)


def _first_leaf(a, b, prefix: str = "") -> str | None:
    """Dotted path of the first leaf where two nested mappings differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            found = _first_leaf(a.get(k), b.get(k), f"{prefix}{k}.")
            if found:
                return found
        return None
    return prefix.rstrip(".") if a != b else None


def _describe(path: str) -> str:
    if path.startswith("set_metrics.") and ".reference" in path:
        return f"{path.split('.')[1].upper()} reference"
    if path.startswith("metrics."):
        return f"metric {path.split('.')[1]} ({path.split('.', 2)[2]})"
    for key in sorted(FRIENDLY, key=len, reverse=True):
        if path == key or path.startswith(key + "."):
            return FRIENDLY[key]
    return path


def paper_reference(cfg: dict) -> dict:
    """A paper's FID reference (suite ``fid_reference``): its name and, for a statistics file
    (.npz / VQFR's .pth), the file's sha256; a folder's content hash is in set_metrics.csv."""
    import os
    from pathlib import Path

    where = cfg.get("path") or os.environ.get(cfg.get("env") or "", "")
    path = Path(os.path.expandvars(os.path.expanduser(where))) if where else None
    out = {"name": cfg.get("name")}
    if path is not None and path.is_file():
        from fsr.assets.resolver import sha256_of

        out["sha256"] = sha256_of(path)
    elif path is not None and path.is_dir():
        out["folder"] = path.name
    else:
        out["absent"] = cfg.get("env") or cfg.get("path")
    return out


def run_protocol(suite, datasets: dict, metric_defs: dict, reference=None) -> dict:
    """``{'<dataset>/<task>': {'fingerprint', 'parts'}}`` for every dataset x task of a run.

    ``datasets``: dataset name -> (type, kind, the run's items before sharding);
    ``metric_defs``: bench/run.py's metric column -> definition (model, weights);
    ``reference``: (name, items) of the suite's FID reference set, if it has one.
    """
    metrics = {col: {k: d.get(k) for k in ("name", "against", "model", "weights_sha256")}
               for col, d in metric_defs.items() if not d.get("set_metric")}
    set_defs = {name: d for name, d in metric_defs.items() if d.get("set_metric")}
    out = {}
    for name, (dtype, kind, items) in datasets.items():
        content = dataset_content(items)
        for task in suite.tasks_for(name):
            given = task.degradation is None
            if set_defs:
                if kind == "real" and reference is not None:
                    ref = {"set": reference[0], "content_sha256": dataset_content(reference[1])}
                else:
                    ref = {"set": f"ground truth of the same images at {task.size} px",
                           "content_sha256": content}
                if getattr(suite, "fid_reference", None):
                    ref |= {"paper_reference": paper_reference(suite.fid_reference)}
            parts = {
                "dataset": {"type": dtype, "kind": kind, "images": len(items),
                            "content_sha256": content},
                "task": {"name": task.name, "kind": task.kind, "size": task.size,
                         "scale": task.scale, "degradation": "given" if given else
                         task.degradation, "seed_rule": None if given else SEED_RULE},
                "pose": {"edges": [e for e in suite.edges if math.isfinite(e)],
                         "source": "dataset labels or fsr.pose on the ground truth "
                                   "(the input for real photos)"},
                "metrics": metrics,
                "set_metrics": {n: {"features_sha256": d.get("weights_sha256"),
                                    "reference": ref} for n, d in set_defs.items()},
                "prior": "oracle" if suite.oracle_prior else "degraded",
                "bootstrap": suite.bootstrap,
            }
            out[f"{name}/{task.name}"] = {"fingerprint": fingerprint(parts), "parts": parts}
    return out
