"""The resumable cache: an append-only JSON-lines file, one fsync'ed batch of lines per image.

``<out>/cache/records.jsonl`` holds five kinds of line::

    {"type": "image",  "key": "<dataset>/<id>|<fingerprint>", "pose": [yaw, pitch, roll], ...}
    {"type": "result", "key": "<image key>|<task>:<sig>|<method>:<sig>", "metrics": {...},
     "feat": "<base64 float32 set-metric features or null>", "time": {"method": s, ...}}
    {"type": "ref",    "key": "<image key>|ref:<size>", "feat": "..."}
    {"type": "detect", "key": "<image key>|detect:<task>:<sig>|<detector>:<sig>", "found": true,
     "detections": 1, "best_score": 0.99, "view": [64, 64], "time": {"detect": s}}
    {"type": "embed",  "key": "<image key>|embed:<identity metric>:<size>", "model": ...,
     "statistic": ..., "msig": ..., "emb": "<base64 float32 embedding of the ground truth>"}

Keys hold everything that changes a number (file fingerprint, task signature, method weights),
so a changed input never reuses a stale line and an unchanged one is never computed twice.
A later line with the same key wins. A line cut by ``kill -9`` fails to parse and is skipped, so
an interrupted run loses at most the image it was working on. Priors are cached separately in
``cache/priors/`` by :class:`fsr.priors.PriorCache` (one ``.npz`` per prior source, size and
hash of the image the mesh is fitted on; the key is built there, beside the cache it indexes).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from pathlib import Path

import numpy as np

from fsr.bench import BenchError
from fsr.priors import PriorCache


# -- cache keys: every key format lives here, beside the cache it indexes --------------------
def image_key(item) -> str:
    """``<dataset>/<id>|<content fingerprint>`` of a dataset Item."""
    return f"{item.key}|{item.fingerprint}"


def result_key(image_key: str, task, label: str, signature: str) -> str:
    """Cache key of one method's result on one image and task (``task``: a suite Task)."""
    return f"{image_key}|{task.name}:{task.signature}|{label}:{signature}"


def ref_key(image_key: str, size: int) -> str:
    """Cache key of the set-metric features of an image's reference (ground truth) at ``size``."""
    return f"{image_key}|ref:{size}"


def embed_key(image_key: str, metric: str, size: int) -> str:
    """Cache key of an identity metric's embedding of an image's ground truth at ``size``."""
    return f"{image_key}|embed:{metric}:{size}"


def detect_key(image_key: str, task, detector: str, signature: str) -> str:
    """Cache key of the face-pipeline line of one image and task (``task``: a suite Task)."""
    return f"{image_key}|detect:{task.name}:{task.signature}|{detector}:{signature}"


def encode_feat(feat: np.ndarray | None) -> str | None:
    if feat is None:
        return None
    return base64.b64encode(np.ascontiguousarray(feat, dtype="<f4").tobytes()).decode("ascii")


def decode_feat(text: str | None) -> np.ndarray | None:
    if text is None:
        return None
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


class Store:
    """``Store(out_dir)``: ``records`` (key -> line) loaded on open; ``append(lines)`` is durable."""

    def __init__(self, out_dir: Path, lock: bool = True) -> None:
        self.dir = Path(out_dir) / "cache"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "records.jsonl"
        # the 3D priors, one .npz per fsr.priors.service key (its keys live beside its cache)
        self.priors = PriorCache(self.dir / "priors")
        self._lock = None
        if lock:
            self._lock = open(self.dir / "lock", "w")  # noqa: SIM115 - held for the run
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BenchError(f"another run is writing to {out_dir} (cache/lock is held); "
                                 "use a different --out") from None
        self.records: dict[str, dict] = {}
        self.skipped_lines = 0
        self.load(self.path)

    def load(self, path: Path) -> None:
        """Read (or merge in) a records file; lines that do not parse are counted and skipped."""
        if not path.is_file():
            return
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                    self.records[rec["key"]] = rec
                except (json.JSONDecodeError, KeyError, TypeError):
                    self.skipped_lines += 1

    def append(self, lines: list[dict]) -> None:
        """Write ``lines`` with one write, flush and fsync (all or, if killed, a torn last line)."""
        if not lines:
            return
        text = "".join(json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n"
                       for rec in lines)
        with open(self.path, "a", encoding="utf-8") as f:
            if f.tell() > 0 and not self._ends_with_newline():
                f.write("\n")  # a torn line from a killed run must not swallow the next one
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        for rec in lines:
            self.records[rec["key"]] = rec

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None
