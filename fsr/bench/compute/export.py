"""``bench/run.py --suite S --export-inputs DIR``: the exact inputs a run gives every method.

A method fsr does not run (a diffusion restorer with its own code and GPUs) is scored from its
saved outputs (:mod:`fsr.bench.compute.outputs`); to be comparable, it must see the same inputs the
built-in methods see. This writes them, and nothing else: ground truth never goes into DIR.

    DIR/<dataset>/<task>/<image id>.png   lossless 8-bit RGB, the task's input size
    DIR/inputs.csv                        file, dataset, task, image_id, identity, yaw,
                                          bucket, input_size, output_size, sha256 (of the PNG)
    DIR/protocol.json                     the run's protocol fingerprint per dataset x task

The inputs are the engine's own (:func:`fsr.bench.compute.engine.task_input`: degraded from the ground
truth with the per-(image, task) seed, or the dataset's given input), rounded to 8 bits: the
built-in methods get the same image before rounding (at most 0.5/255 per pixel apart; the
round-trip test in tests/bench/test_outputs.py measures what that changes in the scores).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path

from fsr.bench import BenchError
from fsr.bench.compute import lib
from fsr.bench.compute.batching import file_problem
from fsr.bench.compute.engine import image_line, make_plan, parse_shard, task_input
from fsr.bench.compute.timing import Timer
from fsr.bench.inputs.suite import bucket_of

CSV_COLUMNS = ["file", "dataset", "task", "image_id", "identity", "yaw", "bucket", "input_size",
               "output_size", "sha256"]


def export_inputs(suite, out: Path, limit: int | None = None, shard: str | None = None,
                  datasets: list[str] | None = None, strict: bool = False,
                  progress: bool = True) -> str:
    """Write every input of the suite's run into ``out``; returns a one-paragraph summary."""
    from tqdm import tqdm

    from fsr.imageio import to_uint8, write_image

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BenchError(f"--export-inputs: {out} exists and is not a folder")
    plan = make_plan(suite, limit=limit, shard=parse_shard(shard), datasets=datasets,
                     with_methods=False, strict=strict)
    timer, rows = Timer(), []
    skipped = [f"{Path(s['file']).name} ({s['reason']})" for s in plan.skipped]
    for ds, item in tqdm(plan.items, desc=f"export {suite.name}", unit="img",
                         disable=not progress, file=sys.stderr, dynamic_ncols=True):
        gts: dict = {}

        def gt_at(size: int, ds=ds, item=item, gts=gts):
            if size not in gts:
                gts[size] = ds.load_gt(item, size)
            return gts[size]

        try:
            line = image_line(ds, item, gt_at, timer)
            lqs = {t.name: task_input(ds, item, t, gt_at, timer)
                   for t in suite.tasks_for(ds.name)}
        except (ValueError, OSError) as err:  # an unreadable file: one line, go on
            path = item.gt_path or item.lq_path
            if strict:
                raise BenchError(f"{path}: {file_problem(err, path)} (--strict)") from None
            skipped.append(f"{Path(str(path)).name} ({file_problem(err, path)})")
            continue
        yaw, ok = (line.get("pose") or [None])[0], bool(line.get("pose_ok"))
        for task in suite.tasks_for(ds.name):
            rel = Path(ds.name) / task.name / f"{item.id}.png"
            path = write_image(out / rel, to_uint8(lqs[task.name]))
            rows.append({"file": rel.as_posix(), "dataset": ds.name, "task": task.name,
                         "image_id": item.id, "identity": item.identity,
                         "yaw": "" if yaw is None else round(float(yaw), 3),
                         "bucket": bucket_of(yaw, ok, suite.edges), "input_size": task.in_size,
                         "output_size": task.size,
                         "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    with open(out / "inputs.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    protocol = plan.protocol(lib.metric_definitions(suite)[0])
    (out / "protocol.json").write_text(json.dumps(
        {"suite": suite.name, "layout": "<dataset>/<task>/<image id>.png",
         "outputs": "write <dataset>/<task>/<image id>.png at output_size x output_size "
                    "(inputs.csv) and score the folder with --methods NAME=outputs:FOLDER",
         "tasks": [t.__dict__ | {"in_size": t.in_size} for t in suite.tasks],
         "protocol": protocol}, indent=2) + "\n")
    pairs = sorted({(r["dataset"], r["task"]) for r in rows})
    text = (f"exported {len(rows)} input(s) of suite {suite.name} to {out}: "
            + ", ".join(f"{d}/{t} ({sum(r['dataset'] == d and r['task'] == t for r in rows)})"
                        for d, t in pairs)
            + "; inputs.csv, protocol.json. No ground truth was written.")
    if skipped:
        text += f"\nskipped {len(skipped)} of {len(plan.items)}: {', '.join(skipped[:5])}"
    return text
