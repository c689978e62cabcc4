"""A chunk of images through the engine at once: methods, metrics and Inception features run on
batches of up to ``--batch-size`` images instead of one image at a time.

The protocol per image is the engine's (:mod:`harness.engine`): only what the cache lacks is
computed, the pose once, each task's input once, the 3D prior once per input from that input.
What changes is the grouping: for each task and method, the images of the chunk that need it
go through the network together, then through each metric together, and every Inception
feature of the chunk (outputs and reference images) is extracted in a few large batches.
The chunk's cache lines are written with one fsync'ed append, so ``kill -9`` loses at most
the chunk being computed (``--batch-size 1`` is the old image-at-a-time behaviour).

Batching does not change results beyond float rounding: a network that draws noise runs one
image at a time with its fixed seed (:meth:`fsr.methods.Method._forward`), and the rest agree
to float32 rounding (tests/bench/test_batching.py compares batch 1 and 16 runs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from fsr.bench import BenchError, first_line
from fsr.bench.compute import lib
from fsr.bench.compute.identity_embed import embedding_lines
from fsr.bench.compute.outputs import OutputFileError, OutputsMethod
from fsr.bench.compute.store import encode_feat, image_key, ref_key, result_key
from fsr.bench.inputs.datasets.base import Dataset, Item
from fsr.bench.inputs.suite import Task


@dataclass
class ImageJob:
    """One image of a chunk: what it needs, its loaded arrays, and its cache lines."""

    ds: Dataset
    item: Item
    work: list  # (task, method) pairs to compute
    refs: list[int]  # reference sizes whose features are missing
    need_image: bool
    detect: list[Task]
    embeds: list  # (identity spec, size) whose ground-truth embedding is missing
    timer: object
    runner: object
    gts: dict = field(default_factory=dict)
    lqs: dict = field(default_factory=dict)
    lines: list[dict] = field(default_factory=list)

    def gt_at(self, size: int) -> np.ndarray:
        if size not in self.gts:
            with self.timer("io"):
                self.gts[size] = self.ds.load_gt(self.item, size)
        return self.gts[size]

    def ref_image(self, size: int) -> np.ndarray:
        if self.item.kind == "real":
            with self.timer("io"):
                return self.ds.load_lq(self.item, size)
        return self.gt_at(size)

    def lq_of(self, task: Task) -> np.ndarray:  # each task's input made once, for all uses
        if task.name not in self.lqs:
            self.lqs[task.name] = self.runner.task_input(self.ds, self.item, task, self.gt_at)
        return self.lqs[task.name]


def plan_jobs(runner, jobs: list[tuple]) -> list[ImageJob]:
    """The chunk's images that miss something in the cache, with what they miss."""
    out = []
    for ds, item, ref_only in jobs:
        if ref_only:  # an image of the FID reference set: only its features
            work, need_image, detect, embeds = [], False, [], []
            refs = [s for s in runner.sizes if runner.ref_missing(item, s)]
        else:
            work, refs, need_image, detect = runner.todo(item)
            embeds = runner.embeds_missing(item)
        if work or refs or need_image or detect or embeds:
            out.append(ImageJob(ds, item, work, refs, need_image, detect, embeds, runner.timer,
                                runner))
    return out


def file_problem(err: Exception, path) -> str:
    """A read error as a short reason: 'truncated', 'not an image', or its own words."""
    text = first_line(err)
    text = text.removeprefix(f"{path}: ").removeprefix(f"{path}").strip(" :")
    low = text.lower()
    if "truncated" in low:
        return "truncated"
    if "not an image" in low or "unknown format" in low or "cannot identify" in low:
        return "not an image"
    return text or type(err).__name__


def readable(runner, job: ImageJob) -> bool:
    """Decode the job's files once before anything is computed; an unreadable one leaves the
    image out of the run (one line, :meth:`Runner.skip`) instead of stopping it."""
    item = job.item
    need_gt = item.gt_path is not None and (job.work or job.refs or job.need_image
                                            or job.detect or job.embeds)
    # the given input is decoded at a task's input size, kept for the task (lq_of)
    given = next((t for t in runner.suite.tasks_for(item.dataset) if t.degradation is None),
                 None) if item.lq_path is not None and (job.work or job.detect) else None
    try:
        if need_gt:
            what, path = "ground truth", item.gt_path
            job.gt_at(min(runner.sizes))
        if given is not None:
            what, path = "input", item.lq_path
            job.lq_of(given)
        elif item.lq_path is not None and job.need_image:  # a real photo's pose reads it
            what, path = "input", item.lq_path
            with runner.timer("io"):
                job.ds.load_lq(item, None)
    except (ValueError, OSError) as err:  # ImageReadError (a ValueError), unreadable file
        runner.skip(what, path, err, image_key(item))
        return False
    return True


def process_chunk(runner, jobs: list[tuple]) -> int:
    """Compute and store everything the chunk's images miss; returns how many were computed."""
    todo = [job for job in plan_jobs(runner, jobs) if readable(runner, job)]
    if not todo:
        return 0
    for job in todo:
        if job.need_image:
            job.lines.append(runner.image_line(job.ds, job.item, job.gt_at))
    _reference_features(runner, todo)
    for task in runner.suite.tasks:
        for job in todo:
            if task in job.detect:
                job.lines.append(runner.detect_line(job.item, task, job.lq_of(task)))
        results = []  # (job, record, output) for this task, every method
        for m in runner.plan.methods[task.name]:
            group = [job for job in todo if any(t is task and mm is m for t, mm in job.work)]
            if group:
                results += _method_group(runner, task, m, group)
        if runner.need_feat and results:
            feats = features(runner, [out for _, _, out in results])
            for (_, rec, _), f in zip(results, feats, strict=True):
                rec["feat"] = encode_feat(f)
        runner.sheet.add(task, results)
        for job, rec, _ in results:
            job.lines.append(rec)
    # after the methods' metrics: the identity metric caches the ground-truth descriptors its
    # pair scoring makes, and the floor reuses them; embedding first would hand the scoring
    # descriptors from another batch, which differ in the last float bit
    _identity_embeddings(runner, todo)
    runner.store.append([line for job in todo for line in job.lines])
    return len(todo)


def _reference_features(runner, todo: list[ImageJob]) -> None:
    pairs = [(job, s) for job in todo for s in job.refs]
    if not pairs:
        return
    feats = features(runner, [lib.to_tensor(job.ref_image(s)) for job, s in pairs])
    for (job, s), f in zip(pairs, feats, strict=True):
        job.lines.append({"type": "ref", "key": ref_key(image_key(job.item), s), "dataset": job.item.dataset,
                          "id": job.item.id, "size": s, "feat": encode_feat(f),
                          "fsig": runner.fsig})


def _identity_embeddings(runner, todo: list[ImageJob]) -> None:
    pairs = [(job, spec, size) for job in todo for spec, size in job.embeds]
    if not pairs:
        return
    wanted = [(job.item, spec, size, job.gt_at(size)) for job, spec, size in pairs]
    with runner.timer("metric:identity-floor"):
        lines = embedding_lines(runner.metrics, runner.msig, wanted)
    for (job, _, _), line in zip(pairs, lines, strict=True):
        job.lines.append(line)


def features(runner, imgs: list) -> list[np.ndarray]:
    """Inception features of (1,3,H,W) float tensors, in batches of ``runner.batch_size``."""
    import torch

    out = []
    with runner.timer("metric:features"), torch.inference_mode():
        for i in range(0, len(imgs), runner.batch_size):
            part = imgs[i:i + runner.batch_size]
            by_size: dict = {}  # one batch per image size (a suite's reference may differ)
            for j, t in enumerate(part):
                by_size.setdefault(tuple(t.shape[-2:]), []).append(j)
            got: dict = {}
            for idx in by_size.values():
                batch = torch.cat([part[j].float().cpu() for j in idx])
                for j, f in zip(idx, runner.features(batch), strict=True):
                    got[j] = f
            out += [got[j] for j in range(len(part))]
    return out


def _method_group(runner, task: Task, m, group: list[ImageJob]) -> list[tuple]:
    """One method on every image of ``group`` (one batch), then its metrics (batched)."""
    import torch

    from fsr.bench.inputs.datasets.base import resize_image

    if isinstance(m, OutputsMethod):
        group, out, seconds = _read_outputs(runner, task, m, group)
        if not group:
            return []
    else:
        out, seconds = _run_network(runner, task, m, group)
    n = len(group)
    lqs = [job.lq_of(task) for job in group]
    took = seconds / n
    runner.timer.add(f"method:{m.label}", took * n, count=n)
    if tuple(out.shape) != (n, 3, task.size, task.size):
        raise BenchError(f"method {m.label} returned {tuple(out.shape)} for task "
                         f"{task.name}; expected ({n}, 3, {task.size}, {task.size})")
    recs = [{"type": "result", "key": result_key(image_key(job.item), task, m.label, m.signature), "dataset": job.item.dataset,
             "id": job.item.id, "task": task.name, "method": m.label, "metrics": {},
             "feat": None, "fsig": runner.fsig, "msig": {}, "time": {"method": round(took, 4)}}
            for job in group]
    # real photos have no ground-truth columns: group by the column set
    col_sets: dict = {}
    for i, job in enumerate(group):
        col_sets.setdefault(tuple(s.column for s in runner.columns(job.item)), []).append(i)
    for cols, idx in col_sets.items():
        specs = [s for s in runner.suite.metrics if s.column in cols]
        pred = out[idx]
        gt_t = lq_up = None
        for spec in specs:
            no_ref = runner.minfo[spec.name].reference == "none"  # NR: no ground truth read
            if spec.against == "gt" and gt_t is None and not no_ref:
                gt_t = torch.cat([lib.to_tensor(group[i].gt_at(task.size)) for i in idx])
            if spec.against == "input" and lq_up is None:
                lq_up = torch.cat([lib.to_tensor(resize_image(lqs[i], task.size)) for i in idx])
            ref = gt_t if spec.against == "gt" else lq_up
            t0 = time.perf_counter()
            vals = _metric_values(runner, spec, pred, ref, [group[i] for i in idx], task, m)
            each = (time.perf_counter() - t0) / len(idx)
            runner.timer.add(f"metric:{spec.column}", each * len(idx), count=len(idx))
            for i, v in zip(idx, vals, strict=True):
                recs[i]["metrics"][spec.column] = v
                recs[i]["time"][spec.column] = round(each, 4)
                recs[i]["msig"][spec.column] = runner.msig[spec.column]
    return [(job, rec, out[i:i + 1]) for i, (job, rec) in enumerate(zip(group, recs, strict=True))]


def _run_network(runner, task: Task, m, group: list[ImageJob]):
    """The method's network on the group's inputs (prior from each input), one batch;
    (outputs, seconds of the network call)."""
    lqs = [job.lq_of(task) for job in group]
    priors = [runner.prior_for(lq, job.gt_at, task) for lq, job in zip(lqs, group, strict=True)] \
        if m.needs_prior else None
    try:
        return lib.run_network(m, lqs, priors)
    except Exception as err:  # noqa: BLE001 - one line naming method and image
        msg = first_line(err)
        more = f" (or another of the {len(group)} images in its batch)" if len(group) > 1 else ""
        raise BenchError(f"method {m.label} failed on {group[0].item.key}{more} "
                         f"({task.name}): {msg}") from err


def _read_outputs(runner, task: Task, m: OutputsMethod, group: list[ImageJob]):
    """The group's saved outputs; an unreadable one is a skipped result (Runner.skip)."""
    import torch

    kept, outs = [], []
    t0 = time.perf_counter()
    for job in group:
        path = m.output_path(job.item, task)
        try:
            img = m.load(job.item, task)
        except OutputFileError as err:
            runner.skip("output", path, err, image_key(job.item),
                        result=(image_key(job.item), task.name, m.label))
            continue
        kept.append(job)
        outs.append(lib.to_tensor(img))
    return kept, (torch.cat(outs) if outs else None), time.perf_counter() - t0


def _metric_values(runner, spec, pred, ref, jobs: list[ImageJob], task: Task, m) -> list[float]:
    try:
        vals = runner.metrics.values(spec.name, pred, ref)
    except ValueError as err:  # fsr's MetricError: bad size, no face, ...
        if len(jobs) > 1:  # find the image it is about
            return [_metric_values(runner, spec, pred[i:i + 1],
                                   None if ref is None else ref[i:i + 1], [job], task, m)[0]
                    for i, job in enumerate(jobs)]
        msg = first_line(err)
        raise BenchError(f"metric {spec.name} failed on {jobs[0].item.key} ({task.name}, "
                         f"{m.label}): {msg}") from err
    if len(vals) != len(jobs):
        raise BenchError(f"metric {spec.name} gave {len(vals)} value(s) for {len(jobs)} images")
    return vals
