"""Benchmark suites: one YAML file -> a validated :class:`Suite`.

A suite names its datasets, tasks (what degradation makes the input, at which size), methods
('auto' or a list), per-image metrics, set metrics and the |yaw| bucket edges::

    name: pose
    datasets: [{name: samples, type: samples, split: test}]
    tasks:
      - {name: sr-x4, kind: sr, scale: 4, size: 128, degradation: {type: bicubic, scale: 4}}
      - {name: restore, kind: restore, size: 128, degradation: {type: blind, size: 128}}
    methods: auto
    metrics: [psnr, ssim, lpips, identity]
    set_metrics: [fid, kid]
    pose: {edges: [0, 15, 30, 45]}
    face_pipeline: {detector: auto}   # the default; false skips it

``size`` is the ground-truth/output size. ``degradation: given`` means the dataset supplies the
low-quality input (CelebA-Test pairs, real photos). A metric may be ``{name: identity,
against: input}`` (real photos have no ground truth). ``prior: degraded | oracle`` (the names
of training's ``prior_source``): prior-guided methods fit their 3D prior on the degraded input
(the default) or, with ``oracle``, on the ground truth; such rows are labelled ``+oracle``.
``score: ntire2025`` adds the NTIRE 2025 real-world challenge score (``report/ntire.py``).
``face_pipeline`` counts, per task and |yaw| bucket, the faces whole-photo mode
(``fsr.restore.restore(..., aligned=False)``) would not find: its detector (a name for
``fsr.face.create_detector``) runs once per image and task on the task's input (see
``fsr.bench.compute.lib.FaceFinder``). It changes no task signature, so cached method results stay valid.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from fsr.bench import BenchError

SUITES_DIR = Path(__file__).resolve().parents[3] / "bench" / "suites"
TASK_KINDS = ("sr", "restore")
# each task kind's plain baseline: paired.csv compares every method with weights against it
TASK_BASELINE = {"sr": "bicubic-x{scale}", "restore": "input"}
FACE_PIPELINE_DEFAULT = {"detector": "auto"}
# where a prior-guided method's 3D prior is fitted: training's prior_source names
PRIOR_SOURCES = ("degraded", "oracle")
SCORES = ("ntire2025",)  # the challenge scores a suite may ask for (report/ntire.py)
# what older suites said -> what they say now (one line naming the new word, not a traceback)
RENAMED = {"prior": {"degraded-input": "degraded"}, "key": {"dataset": "datasets"}}


@dataclass(frozen=True)
class Task:
    """One way of making an input: ``kind`` sr (output = input x scale) or restore (same size)."""

    name: str
    kind: str
    size: int
    scale: int = 1
    degradation: dict | None = None  # None = the dataset gives the low-quality input

    @property
    def in_size(self) -> int:
        return self.size // self.scale

    @property
    def baseline(self) -> str:
        """The plain method every other is compared with in paired.csv (bicubic / the input)."""
        return TASK_BASELINE[self.kind].format(scale=self.scale)

    @property
    def signature(self) -> str:
        """Short hash of everything that changes this task's inputs (cache key part)."""
        spec = {"kind": self.kind, "size": self.size, "scale": self.scale,
                "degradation": self.degradation}
        return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class SuiteMetric:
    """A metric a suite asks for and what it is scored against (its definition is
    :class:`fsr.metrics.MetricSpec`)."""

    name: str
    against: str = "gt"  # 'gt' (full reference), 'input' (identity to the low-quality input)

    @property
    def column(self) -> str:
        return self.name if self.against == "gt" else f"{self.name}-vs-input"


@dataclass
class Suite:
    name: str
    path: Path
    description: str
    datasets: list[dict]
    tasks: list[Task]
    methods: str | list[str]
    metrics: list[SuiteMetric]
    set_metrics: list[str]
    edges: tuple[float, ...]
    reference: dict | None = None  # FID reference set when the datasets have no ground truth
    # a paper's FID reference (fsr.metrics.fid.load_reference): {name, path | env}
    fid_reference: dict | None = None
    oracle_prior: bool = False
    score: str | None = None  # one of SCORES: a challenge score computed from the tables
    bootstrap: dict = field(default_factory=lambda: {"n": 1000, "seed": 0, "alpha": 0.05})
    raw: dict = field(default_factory=dict)
    face_pipeline: dict | None = field(default_factory=lambda: dict(FACE_PIPELINE_DEFAULT))
    dataset_tasks: dict = field(default_factory=dict)  # dataset name -> task names, when limited

    def tasks_for(self, dataset: str) -> list[Task]:
        """The tasks run on ``dataset``: all, unless its entry names some (``tasks: [...]``)."""
        names = self.dataset_tasks.get(dataset)
        return [t for t in self.tasks if names is None or t.name in names]

    def to_dict(self) -> dict:
        return {"name": self.name, "file": self.path.name, "description": self.description,
                "datasets": self.datasets, "reference": self.reference,
                "fid_reference": self.fid_reference,
                "tasks": [t.__dict__ | {"signature": t.signature} for t in self.tasks],
                "methods": self.methods, "metrics": [m.__dict__ for m in self.metrics],
                "set_metrics": self.set_metrics, "pose_edges": [e for e in self.edges
                                                                if math.isfinite(e)],
                "prior": "oracle" if self.oracle_prior else "degraded", "score": self.score,
                "bootstrap": self.bootstrap, "face_pipeline": self.face_pipeline,
                "dataset_tasks": {k: list(v) for k, v in self.dataset_tasks.items()},
                "raw": self.raw}


def suite_names() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.yml"))


def _fail(path: Path, what: str) -> BenchError:
    return BenchError(f"suite {path.name}: {what}")


def _task(path: Path, cfg: object) -> Task:
    if not isinstance(cfg, dict) or "name" not in cfg:
        raise _fail(path, f"each task needs a mapping with a name, got {cfg!r}")
    kind = cfg.get("kind", "sr")
    if kind not in TASK_KINDS:
        raise _fail(path, f"task {cfg['name']}: kind must be one of {TASK_KINDS}, got {kind!r}")
    scale = int(cfg.get("scale", 1 if kind == "restore" else 4))
    size = int(cfg.get("size", 128))
    if kind == "restore" and scale != 1:
        raise _fail(path, f"task {cfg['name']}: a restore task has scale 1")
    if size % scale:
        raise _fail(path, f"task {cfg['name']}: size {size} is not divisible by scale {scale}")
    deg = cfg.get("degradation", "given")
    if deg == "given":
        deg = None
    elif not (isinstance(deg, dict) and "type" in deg):
        raise _fail(path, f"task {cfg['name']}: degradation must be 'given' or a mapping "
                          f"with a type, got {deg!r}")
    return Task(name=str(cfg["name"]), kind=kind, size=size, scale=scale, degradation=deg)


def _face_pipeline(path: Path, cfg: object) -> dict | None:
    """``true``/absent -> the default detector, ``false`` -> None, ``{detector: NAME}``."""
    if cfg is True:
        return dict(FACE_PIPELINE_DEFAULT)
    if cfg is False:
        return None
    if not isinstance(cfg, dict) or set(cfg) - set(FACE_PIPELINE_DEFAULT):
        raise _fail(path, f"face_pipeline must be false, true or {{detector: NAME}}, got {cfg!r}")
    detector = cfg.get("detector", FACE_PIPELINE_DEFAULT["detector"])
    if detector != FACE_PIPELINE_DEFAULT["detector"]:
        from fsr.face.detectors import DETECTOR_NAMES  # imports torch: only for a named detector

        if detector not in DETECTOR_NAMES:
            raise _fail(path, f"face_pipeline: unknown detector {detector!r}; choose one of "
                              f"{', '.join(DETECTOR_NAMES)}")
    return {"detector": str(detector)}


def _metric(path: Path, cfg: object) -> SuiteMetric:
    if isinstance(cfg, str):
        return SuiteMetric(cfg)
    if isinstance(cfg, dict) and "name" in cfg:
        against = cfg.get("against", "gt")
        if against not in ("gt", "input"):
            raise _fail(path, f"metric {cfg['name']}: against must be gt or input")
        return SuiteMetric(str(cfg["name"]), against)
    raise _fail(path, f"bad metric entry {cfg!r}")


def load_suite(name_or_path: str) -> Suite:
    """Read ``bench/suites/<name>.yml`` (or a path to a YAML file) and validate it."""
    import yaml

    path = Path(name_or_path)
    if path.suffix not in (".yml", ".yaml"):
        path = SUITES_DIR / f"{name_or_path}.yml"
    if not path.is_file():
        raise BenchError(f"unknown suite {name_or_path!r}; known suites: "
                         f"{', '.join(suite_names())} (or give a path to a .yml file)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise _fail(path, f"not valid YAML ({str(err).splitlines()[0]})") from None
    return parse_suite(raw, path)


def parse_suite(raw: dict, path: Path) -> Suite:
    """Validate a suite mapping (as read from ``path``) into a :class:`Suite`."""
    import copy

    raw = copy.deepcopy(raw)
    if not isinstance(raw, dict):
        raise _fail(path, "expected a mapping at the top level")
    for old, new in RENAMED["key"].items():
        if old in raw:
            raise _fail(path, f"`{old}:` is now `{new}:` (a list): write `{new}: [{{...}}]`")
    datasets = copy.deepcopy(raw.get("datasets"))
    if not datasets or not all(isinstance(d, dict) and "type" in d for d in datasets):
        raise _fail(path, "needs datasets: a list of mappings, each with a type")
    for d in datasets:
        d.setdefault("name", d["type"])
    if len({d["name"] for d in datasets}) != len(datasets):
        raise _fail(path, "dataset names must be unique")
    tasks = [_task(path, t) for t in raw.get("tasks") or []]
    if not tasks:
        raise _fail(path, "needs at least one task")
    if len({t.name for t in tasks}) != len(tasks):
        raise _fail(path, "task names must be unique")
    dataset_tasks = {}
    for d in datasets:  # a dataset may run a subset of the tasks (the sweep: the main ones)
        if "tasks" not in d:
            continue
        names = d.pop("tasks")
        unknown = [n for n in names or [] if n not in {t.name for t in tasks}] \
            if isinstance(names, list) else [names]
        if not names or unknown:
            raise _fail(path, f"dataset {d['name']}: tasks must be a non-empty list of the "
                              f"suite's task names ({', '.join(t.name for t in tasks)})")
        dataset_tasks[d["name"]] = tuple(names)
    methods = raw.get("methods", "auto")
    if methods != "auto" and not (isinstance(methods, list) and methods):
        raise _fail(path, "methods must be 'auto' or a non-empty list of method names")
    edges = [float(e) for e in (raw.get("pose") or {}).get("edges", [0, 15, 30, 45])]
    if not edges or edges[0] != 0 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise _fail(path, f"pose edges must start at 0 and increase, got {edges}")
    boot = {"n": 1000, "seed": 0, "alpha": 0.05} | (raw.get("bootstrap") or {})
    fid_ref = raw.get("fid_reference")
    if fid_ref is not None and not (isinstance(fid_ref, dict) and fid_ref.get("name")
                                    and (fid_ref.get("path") or fid_ref.get("env"))):
        raise _fail(path, "fid_reference needs a name and a path or env (a folder, an .npz "
                          "with mu/sigma, or VQFR's .pth)")
    prior = raw.get("prior", "degraded")
    if prior in RENAMED["prior"]:
        raise _fail(path, f"prior {prior!r} is now called {RENAMED['prior'][prior]!r}: write "
                          f"`prior: {RENAMED['prior'][prior]}`")
    if prior not in PRIOR_SOURCES:
        raise _fail(path, f"prior must be one of {', '.join(PRIOR_SOURCES)}, got {prior!r}")
    score = raw.get("score")
    if score is not None and score not in SCORES:
        raise _fail(path, f"score must be one of {', '.join(SCORES)} (or absent), got {score!r}")
    return Suite(
        name=str(raw.get("name", path.stem)), path=Path(path),
        description=str(raw.get("description", "")).strip(), datasets=datasets, tasks=tasks,
        methods=methods, metrics=[_metric(path, m) for m in raw.get("metrics") or ["psnr"]],
        set_metrics=[str(m) for m in raw.get("set_metrics") or []],
        edges=tuple(edges) + (math.inf,), reference=raw.get("reference"), fid_reference=fid_ref,
        oracle_prior=prior == "oracle", score=score, bootstrap=boot, raw=raw,
        face_pipeline=_face_pipeline(path, raw.get("face_pipeline", True)),
        dataset_tasks=dataset_tasks)


# -- pose buckets: applied when tables are made, so edges can change without recomputing --
def bucket_of(yaw: float | None, ok: bool, edges: tuple[float, ...]) -> str:
    from fsr.pose.common import pose_bucket

    if not ok or yaw is None or not math.isfinite(yaw):
        return "unknown"
    return pose_bucket(yaw, edges)


def bucket_order(edges: tuple[float, ...]) -> list[str]:
    from fsr.pose.common import bucket_labels

    return ["all", *bucket_labels(edges), "unknown"]
