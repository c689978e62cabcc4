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
(:func:`differences` names the first part that does not).

    >>> a = {"dataset": {"images": 2}, "task": {"size": 128}, "metrics": {"psnr": {"m": 1}}}
    >>> differences(a, a | {"task": {"size": 64}})
    ['task']
    >>> differences(a, a | {"metrics": {"psnr": {"m": 1}, "lpips": {"m": 2}}})  # extra column
    []
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


def differences(a: dict, b: dict) -> list[str]:
    """Names of the parts in which two protocols differ. Metric columns are compared where both
    runs have them (a run may score more columns); every other part must be equal."""
    out = [k for k in sorted(set(a) | set(b)) if k != "metrics" and a.get(k) != b.get(k)]
    ma, mb = a.get("metrics") or {}, b.get("metrics") or {}
    out += [f"metric {c}" for c in sorted(set(ma) & set(mb)) if ma[c] != mb[c]]
    return out


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
                "prior": "oracle" if suite.oracle_prior else "degraded-input",
                "bootstrap": suite.bootstrap,
            }
            out[f"{name}/{task.name}"] = {"fingerprint": fingerprint(parts), "parts": parts}
    return out
