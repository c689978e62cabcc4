"""The image loop, in chunks of ``--batch-size`` images (:mod:`harness.batching` batches the
methods, metrics and features of a chunk). For each image, only what the cache lacks is
computed, and shared work is done once: ground truth loaded once per size, pose once, each
task's input degraded once, the 3D prior computed once per input (from the degraded input,
never the ground truth, unless the suite asks for a labelled oracle), then every method, its
metrics and its set-metric features. Each task's input also goes once through the whole-photo
face detector (``face_pipeline``), whose finding is cached as its own line, apart from the
method results.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from fsr.bench import BenchError, first_line
from fsr.bench.compute import lib
from fsr.bench.compute.batching import file_problem, process_chunk
from fsr.bench.compute.identity_embed import floor_specs, labelled
from fsr.bench.compute.outputs import OutputsMethod, check_outputs, open_outputs, parse_spec
from fsr.bench.compute.store import Store, detect_key, embed_key, image_key, ref_key, result_key
from fsr.bench.compute.timing import Timer
from fsr.bench.inputs.datasets import open_dataset
from fsr.bench.inputs.datasets.base import Dataset, Item
from fsr.bench.inputs.protocol import run_protocol
from fsr.bench.inputs.suite import Suite, Task

POSE_SIZE = 256  # pose is estimated on the ground truth at this size (input for real photos)


@dataclass
class Plan:
    suite: Suite
    datasets: list[Dataset]
    items: list[tuple[Dataset, Item]]
    methods: dict[str, list]  # task name -> Method objects
    reference: Dataset | None = None
    ref_items: list[Item] = field(default_factory=list)
    dataset_items: dict[str, list[Item]] = field(default_factory=dict)  # before sharding
    skipped: list[dict] = field(default_factory=list)  # files left out as the datasets opened

    def protocol(self, metric_defs: dict) -> dict:
        """The run's protocol fingerprint per dataset x task (:mod:`fsr.bench.inputs.protocol`)."""
        return run_protocol(self.suite, {d.name: (d.cfg["type"], d.kind,
                                                  self.dataset_items[d.name])
                                         for d in self.datasets}, metric_defs,
                            (self.reference.name, self.reference.items) if self.reference
                            else None)

    @property
    def outputs_methods(self) -> list[OutputsMethod]:
        seen = {id(m): m for ms in self.methods.values() for m in ms
                if isinstance(m, OutputsMethod)}
        return list(seen.values())


def parse_shard(text: str | None) -> tuple[int, int]:
    """'2/4' -> (1, 4) (zero-based index); None -> (0, 1)."""
    if not text:
        return 0, 1
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise BenchError(f"--shard must look like k/n (e.g. 1/2), got {text!r}") from None
    if not 1 <= k <= n:
        raise BenchError(f"--shard k/n needs 1 <= k <= n, got {text!r}")
    return k - 1, n


def _matches(method, task: Task) -> bool:
    if isinstance(method, OutputsMethod):
        return method.serves(task)
    if method.task != task.kind:
        return False
    return task.kind == "restore" or method.scale == task.scale


def select_methods(suite: Suite, only: list[str] | None, device: str = "cpu",
                   dtype: str = "float32") -> dict[str, list]:
    """Methods per task: 'auto' = every available method whose task (and scale) matches.

    ``NAME=outputs:PATH`` is a folder of saved outputs (:mod:`fsr.bench.compute.outputs`); the tasks it
    has folders for also get their baseline (bicubic / the input), which paired.csv compares
    every method with.
    """
    from fsr.methods import MethodError, available_methods, load_method

    names = only or (available_methods(fetchable=True) if suite.methods == "auto" else list(suite.methods))
    task_names = [t.name for t in suite.tasks]
    loaded = {}
    for name in names:
        outputs = parse_spec(name)
        try:
            loaded[name] = open_outputs(*outputs, task_names) if outputs else \
                load_method(name, oracle=suite.oracle_prior, device=device, dtype=dtype)
        except MethodError as err:
            raise BenchError(str(err)) from None
    for task in suite.tasks:  # a folder of outputs is compared with its task's baseline
        base = task.baseline
        if base not in loaded and any(isinstance(m, OutputsMethod) and m.serves(task)
                                      for m in loaded.values()):
            loaded[base] = load_method(base, device=device, dtype=dtype)
    chosen = {t.name: [m for m in loaded.values() if _matches(m, t)] for t in suite.tasks}
    if only or suite.methods != "auto":
        unused = [n for n, m in loaded.items() if not any(_matches(m, t) for t in suite.tasks)]
        if unused:
            raise BenchError(f"method(s) {', '.join(unused)} match no task of suite "
                             f"{suite.name} ({', '.join(t.name for t in suite.tasks)})")
    return chosen


def make_plan(suite: Suite, only_methods=None, limit=None, shard=(0, 1),
              datasets: list[str] | None = None, device: str = "cpu",
              dtype: str = "float32", with_methods: bool = True, strict: bool = False) -> Plan:
    """The run's datasets, images (this shard's) and methods per task (``with_methods=False``:
    none, for --export-inputs, which loads no weights). A file a dataset left out as it opened
    (a malformed pose label) is in ``Plan.skipped``; ``strict``: it stops the run instead."""
    cfgs = [d for d in suite.datasets if not datasets or d["name"] in datasets]
    if datasets and len(cfgs) != len(datasets):
        known = ", ".join(d["name"] for d in suite.datasets)
        raise BenchError(f"unknown dataset in --datasets {','.join(datasets)}; suite has: {known}")
    opened = [open_dataset(dict(c)) for c in cfgs]  # raises DatasetMissing first, before imports
    skipped = [s for ds in opened for s in ds.skipped]
    if strict and skipped:
        s = skipped[0]
        raise BenchError(f"{s['what']} {s['file']}: {s['reason']} (--strict)")
    reference = open_dataset(dict(suite.reference)) if suite.reference and suite.set_metrics \
        else None
    items, dataset_items = [], {}
    for ds in opened:
        chosen = ds.items[:limit] if limit else ds.items
        items += [(ds, it) for it in chosen]
        dataset_items[ds.name] = chosen
    k, n = shard
    items = [pair for i, pair in enumerate(items) if i % n == k]
    ref_items = (reference.items[:limit] if limit else reference.items) if reference else []
    ref_items = [it for i, it in enumerate(ref_items) if i % n == k]
    methods = select_methods(suite, only_methods, device, dtype) if with_methods else \
        {t.name: [] for t in suite.tasks}
    return Plan(suite, opened, items, methods, reference, ref_items, dataset_items, skipped)


def check_outputs_folders(plan: Plan, allow_missing: bool) -> dict:
    """Every outputs folder of the plan against the run's images, before any computing:
    label -> OutputsCheck."""
    every = [it for items in plan.dataset_items.values() for it in items]
    sizes = {t.name: t.size for t in plan.suite.tasks}
    return {m.label: check_outputs(m, [it for _, it in plan.items], every, plan.suite.tasks_for,
                                   sizes, allow_missing) for m in plan.outputs_methods}


class Runner:
    """Runs a :class:`Plan` into a :class:`Store`, timing every stage."""

    def __init__(self, plan: Plan, store: Store, timer: Timer, device: str = "cpu",
                 batch_size: int = 1, strict: bool = False, metrics=None) -> None:
        self.plan, self.store, self.timer = plan, store, timer
        self.suite = plan.suite
        self.batch_size = max(1, int(batch_size))  # images per chunk (harness.batching)
        # metrics stay float32 whatever the methods' dtype (built already by usable_metrics)
        self.metrics = metrics or lib.Metrics(device)
        self.features = lib.Features(device)
        self.need_feat = bool(self.suite.set_metrics)
        self.sizes = sorted({t.size for t in self.suite.tasks})
        self.minfo = {s.name: lib.metric_info(s.name) for s in self.suite.metrics}
        self.msig = {s.column: lib.metric_signature(self.minfo[s.name]) for s in self.suite.metrics}
        self.fsig = self.features.signature if self.need_feat else None
        # identity_floor.csv's ground-truth embeddings: labelled datasets (all images, before
        # sharding, so every shard agrees) x identity columns against the ground truth
        self.floor_specs = floor_specs(self.suite)
        self.floor_datasets = {name for name, items in plan.dataset_items.items()
                               if self.floor_specs and labelled(items)}
        self.finder = None  # the whole-photo detector, built once
        if self.suite.face_pipeline:
            with timer("setup"):
                self.finder = lib.FaceFinder(self.suite.face_pipeline["detector"])
        self.computed_images = 0
        self.strict = strict  # stop at the first unreadable file instead of skipping it
        self.skipped: list[dict] = list(plan.skipped)  # unreadable files: what, file, reason, key
        self.skipped_images: set[str] = set()  # image keys left out of the report
        self.absent: set[tuple] = set()  # (image key, task, method label) left unscored
        from fsr.bench.compute.sheet import SheetTiles

        self.sheet = SheetTiles(plan, store.dir.parent)  # the methods' contact-sheet tiles

    def columns(self, item: Item) -> list:
        """Metric specs that apply to this item (no ground-truth metrics on real photos)."""
        return [s for s in self.suite.metrics if not (
            s.against == "gt" and item.kind == "real" and self.minfo[s.name].reference == "full")]

    def _complete(self, rec: dict | None, cols: list[str]) -> bool:
        if rec is None:
            return False
        sigs = rec.get("msig") or {}
        if any(c not in rec["metrics"] or sigs.get(c) != self.msig[c] for c in cols):
            return False
        return not self.need_feat or (rec.get("feat") is not None
                                      and rec.get("fsig") == self.fsig)

    def ref_missing(self, item: Item, size: int) -> bool:
        rec = self.store.records.get(ref_key(image_key(item), size))
        return rec is None or rec.get("fsig") != self.fsig

    def embeds_missing(self, item: Item) -> list[tuple]:
        """(identity spec, size) pairs whose ground-truth embedding the cache lacks."""
        if item.dataset not in self.floor_datasets:
            return []
        out = []
        for size in sorted({t.size for t in self.suite.tasks_for(item.dataset)}):
            for spec in self.floor_specs:
                rec = self.store.records.get(embed_key(image_key(item), spec.name, size))
                if rec is None or rec.get("msig") != self.msig[spec.column]:
                    out.append((spec, size))
        return out

    def detect_key(self, item: Item, task: Task) -> str:
        return detect_key(image_key(item), task, self.finder.name, self.finder.signature)

    def todo(self, item: Item) -> tuple[list, list[int], bool, list[Task]]:
        """(task, method) pairs, reference sizes, whether the image line and which tasks'
        face-pipeline lines are missing from the cache."""
        cols = [s.column for s in self.columns(item)]
        work = []
        tasks = self.suite.tasks_for(item.dataset)
        for task in tasks:
            for m in self.plan.methods[task.name]:
                if not self._complete(self.store.records.get(result_key(image_key(item), task, m.label, m.signature)), cols):
                    work.append((task, m))
        refs = []
        if self.need_feat and item.kind != "real":
            refs = [s for s in self.sizes if self.ref_missing(item, s)]
        detect = [] if self.finder is None else \
            [t for t in tasks if self.detect_key(item, t) not in self.store.records]
        return work, refs, image_key(item) not in self.store.records, detect

    def run(self, progress: bool = True) -> None:
        from tqdm import tqdm

        jobs = [(ds, it, False) for ds, it in self.plan.items]
        jobs += [(self.plan.reference, it, True) for it in self.plan.ref_items]
        bar = tqdm(total=len(jobs), desc=f"bench {self.suite.name}", unit="img",
                   disable=not progress, file=sys.stderr, dynamic_ncols=True)
        start = 0
        while start < len(jobs):
            chunk, start = jobs[start:start + self.batch_size], start + self.batch_size
            bar.set_postfix_str(chunk[0][1].id[:24])
            self.process_chunk(chunk)
            bar.update(len(chunk))
        bar.close()

    def process_chunk(self, jobs: list[tuple]) -> None:
        """Up to ``batch_size`` images (ds, item, ref_only) at once; one cache append."""
        self.computed_images += process_chunk(self, jobs)

    def skip(self, what: str, path, err: Exception, key: str, result: tuple | None = None) -> None:
        """A file that cannot be read: one line, recorded, the run goes on (``--strict``:
        the same line stops it). ``result``: (image key, task, method label) left unscored;
        None: the whole image is left out."""
        reason = file_problem(err, path)
        if self.strict:
            raise BenchError(f"{what} {path}: {reason} (--strict)")
        self.skipped.append({"what": what, "file": str(path), "reason": reason, "key": key,
                             **({"task": result[1], "method": result[2]} if result else {})})
        if result is None:
            self.skipped_images.add(key)
        else:
            self.absent.add(result)

    def image_line(self, ds: Dataset, item: Item, gt_at) -> dict:
        return image_line(ds, item, gt_at, self.timer)

    def detect_line(self, item: Item, task: Task, lq: np.ndarray) -> dict:
        """Would whole-photo mode find this face? (a miss is a result, not an error)"""
        t0 = time.perf_counter()
        try:
            found = self.finder(lq)
        except Exception as err:  # noqa: BLE001 - one line naming detector and image
            msg = first_line(err)
            raise BenchError(f"face detector {self.finder.name} failed on {item.key} "
                             f"({task.name}): {msg}") from err
        took = time.perf_counter() - t0
        self.timer.add("detect", took)
        return {"type": "detect", "key": self.detect_key(item, task), "dataset": item.dataset,
                "id": item.id, "task": task.name, "detector": self.finder.name, **found,
                "time": {"detect": round(took, 4)}}

    def task_input(self, ds: Dataset, item: Item, task: Task, gt_at) -> np.ndarray:
        return task_input(ds, item, task, gt_at, self.timer)

    def prior_for(self, lq: np.ndarray, gt_at, task: Task) -> dict:
        """The prior of ``lq`` (:mod:`fsr.priors.service`), cached in the run's cache/priors;
        the suite's labelled oracle fits the ground truth at the task's output size."""
        with self.timer("prior"):
            if self.suite.oracle_prior:  # labelled ablation: the prior sees the ground truth
                return self.store.priors.get(lq, gt_at(task.size), source="oracle")
            return self.store.priors.get(lq)


# -- what every method of a task gets: the same for a run and for --export-inputs ------------
def task_input(ds: Dataset, item: Item, task: Task, gt_at, timer: Timer) -> np.ndarray:
    """The task's input of ``item``: the dataset's given input at the task's input size, or
    the ground truth at the task's size degraded with the per-(image, task) seed."""
    if task.degradation is None:
        with timer("io"):
            return ds.load_lq(item, task.in_size)
    gt = gt_at(task.size)
    with timer("degradation"):
        return lib.degrade(gt, task.degradation, item.key, task.name)


def image_line(ds: Dataset, item: Item, gt_at, timer: Timer) -> dict:
    """The image's cache line: its identity and pose (the dataset's label, else fsr.pose on
    the ground truth at POSE_SIZE, or on the input for real photos)."""
    rec = {"type": "image", "key": image_key(item), "dataset": item.dataset, "id": item.id,
           "identity": item.identity, "source": item.source, "kind": item.kind}
    if item.pose is not None:
        rec.update(pose=list(item.pose), pose_ok=True, pose_method="dataset",
                   pose_from="gt")
        rec.update(item.meta.get("image_fields", {}))  # sweep: target/measured yaw
        if item.meta.get("estimate_pose"):  # labelled sets: fsr's estimate next to it
            with timer("pose"):
                rec["pose_estimated"] = lib.estimate_pose(gt_at(POSE_SIZE))["pose"]
        return rec
    if item.kind == "real":
        with timer("io"):
            img = ds.load_lq(item, None)
        src = "input"
    else:
        img, src = gt_at(POSE_SIZE), "gt"
    with timer("pose"):
        rec.update(lib.estimate_pose(img), pose_from=src)
    rec.update(item.meta.get("image_fields", {}))  # category labels (Menpo, CFP-FP)
    return rec
