#!/usr/bin/env python
"""Run a benchmark suite: every method x task x image, metrics per |yaw| bucket.

    python bench/run.py --suite pose                      # the default: embedded sample set
    python bench/run.py --suite celeba --limit 500        # first 500 CelebA test images
    python bench/run.py --suite pose --shard 1/2 --out results/pose-1
    python bench/run.py --merge results/pose-1 results/pose-2 --out results/pose
    python bench/run.py --suite pose --device cuda --batch-size 32 --dtype bfloat16
    torchrun --nproc_per_node=2 bench/run.py --suite pose   # a shard per process, merged
    python leaderboard/make.py results/pose -o results/pose/LEADERBOARD.md

Writes to --out (default results/<suite>): results.csv, summary.csv, set_metrics.csv,
pipeline.csv (faces whole-photo mode's detector misses), plots/*.png, manifest.json, and cache/ (resumable: rerun the same command after an
interruption and only missing images are computed). Suites live in bench/suites/*.yml.
Exit codes: 0 ok, 2 bad input (unknown suite/method, missing dataset).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# MediaPipe/TFLite log to stderr through glog: keep the progress bar readable.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# OpenMP threads that spin while waiting make torch 10-30x slower when the cores are shared
# (measured: Real-ESRGAN on 32x32, 33 s vs 1.4 s with passive waiting on a busy 2-core box).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")



def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--suite", default="pose", help="suite name in bench/suites/ or a .yml path "
                   "(default: pose)")
    p.add_argument("--out", type=Path, help="output folder (default: results/<suite>)")
    p.add_argument("--methods", help="comma-separated method names instead of the suite's")
    p.add_argument("--datasets", help="comma-separated dataset names of the suite to run")
    p.add_argument("--limit", type=int, help="only the first N images of each dataset")
    p.add_argument("--shard", help="run shard k of n (k/n, 1-based) of the images")
    p.add_argument("--merge", nargs="+", type=Path, metavar="DIR",
                   help="merge the caches of finished shard folders into --out and report")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps, for methods and metrics "
                   "(default: $FSR_DEVICE, else cpu)")
    p.add_argument("--batch-size", type=int, default=8, help="images per batch through the "
                   "methods, metrics and Inception features; the cache is written per batch "
                   "(default 8; results agree to float rounding whatever the size)")
    p.add_argument("--dtype", default=None, help="the methods' number type: float32 "
                   "(default, $FSR_DTYPE), bfloat16 or float16; metrics stay float32")
    p.add_argument("--export-inputs", type=Path, metavar="DIR",
                   help="write the exact inputs the run would give a method "
                   "(DIR/<dataset>/<task>/<image id>.png, inputs.csv, protocol.json) and stop; "
                   "no ground truth goes into DIR")
    p.add_argument("--allow-missing", action="store_true", help="score an outputs: folder "
                   "that lacks some outputs (the tables show the real n)")
    p.add_argument("--strict", action="store_true", help="stop at the first unreadable file "
                   "(default: skip it with one line, record it, go on)")
    p.add_argument("--by", metavar="NAME", help="who ran this (recorded in the manifest and "
                   "shown by a merged leaderboard)")
    p.add_argument("--list", action="store_true", help="list suites and available methods")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def _run_info(plan, runner):
    from fsr.bench.compute.store import image_key
    from fsr.bench.report.tables import RunInfo

    order = {ds.name: i for i, ds in enumerate(plan.datasets)}
    keys = sorted((image_key(it) for _, it in plan.items
                   if image_key(it) not in runner.skipped_images),
                  key=lambda k: (order[k.split("/", 1)[0]], k))
    ref_keys = sorted(image_key(it) for it in plan.ref_items)
    methods = {t: [m.describe() for m in ms] for t, ms in plan.methods.items()}
    finder = getattr(runner, "finder", None)
    return RunInfo(plan.suite, keys, methods, ref_keys,
                   face_pipeline=finder.describe() if finder is not None else None,
                   absent=set(runner.absent))


def finish(info, store, out: Path, timer, *, datasets: dict, extra: dict | None = None,
           built: dict | None = None, sheet_picks: dict | None = None,
           protocol: dict) -> int:
    from fsr.bench.compute.lib import metric_definitions
    from fsr.bench.report.manifest import cached_compute, write_manifest
    from fsr.bench.report.plots import plot_metrics, print_pipeline, print_summary
    from fsr.bench.report.tables import write_tables

    with timer("setup"):
        defs, lower = metric_definitions(info.suite, built)
    info.lower_better = lower
    with timer("report"):
        tables = write_tables(info, store, out)
        plots = plot_metrics(tables["results"], info.suite, out, lower)
        if sheet_picks:  # the methods' contact sheets, from the tiles the run (or shards) wrote
            from fsr.bench.compute.sheet import tile_sheets

            plots += tile_sheets(out, [d["name"] for d in info.suite.datasets],
                                 [t.name for t in info.suite.tasks],
                                 {t: [e["label"] for e in es] for t, es in info.methods.items()},
                                 sheet_picks)
    cached = cached_compute(store, info)
    timings = timer.as_dict()
    extra = dict(extra or {}, protocol=protocol)
    write_manifest(out, suite=info.suite, info=info, datasets=datasets, metric_defs=defs,
                   timings=timings, cached=cached, total_s=timer.total(), plots=plots,
                   extra=extra)
    print_summary(tables["summary"], tables["set"], timings, cached, timer.total())
    print_pipeline(tables["pipeline"])
    print_protocol(protocol)
    for column, line in (extra.get("dropped_metrics") or {}).items():
        print(f"dropped metric {column}: {line}")
    skipped = extra.get("skipped") or []
    if skipped:
        total = len(info.image_keys) + len({s["key"] for s in skipped if "task" not in s})
        print(f"\n{skipped_line(skipped, total)}")
    # NAME@PATH rows are labelled by their file's sha256: say which file each label is
    user = {m["label"]: m["weights_path"] for ms in info.methods.values() for m in ms
            if m.get("weights_path")}
    if user:
        print("\nyour checkpoints:\n" + "\n".join(f"  {k} = {v}" for k, v in user.items()))
    print(f"\nwrote {out}/results.csv, summary.csv"
          f"{', paired.csv' if len(tables['paired']) else ''}"
          f"{', set_metrics.csv' if tables['set'] is not None else ''}"
          f"{', pipeline.csv' if tables['pipeline'] is not None else ''}, {len(plots)} plot(s), "
          "manifest.json")
    return 0


def skipped_line(skipped: list[dict], total: int) -> str:
    """'skipped 2 of 3000: trunc.png (truncated), text.png (not an image)' (first five)."""
    names = ", ".join(f"{Path(s['file']).name} ({s['reason']})" for s in skipped[:5])
    more = f", and {len(skipped) - 5} more (manifest.json)" if len(skipped) > 5 else ""
    return f"skipped {len(skipped)} of {total}: {names}{more}"


def print_protocol(protocol: dict) -> None:
    print("\nprotocol (manifest.json 'protocol'; leaderboard/make.py merges runs that agree):")
    for key, entry in protocol.items():
        print(f"  {key:32s} {entry['fingerprint']}")


def export_inputs(args: argparse.Namespace) -> int:
    """--export-inputs DIR: every input the run would give a method, and nothing else."""
    from fsr.bench.compute.export import export_inputs as export
    from fsr.bench.inputs.suite import load_suite

    suite = load_suite(args.suite)
    summary = export(suite, args.export_inputs, limit=args.limit, shard=args.shard,
                     datasets=_split(args.datasets), strict=args.strict,
                     progress=not args.quiet)
    print(summary)
    return 0


def run(args: argparse.Namespace) -> int:
    from fsr.bench.compute.engine import Runner, check_outputs_folders, make_plan, parse_shard
    from fsr.bench.compute.store import Store
    from fsr.bench.compute.timing import Timer
    from fsr.bench.inputs.suite import load_suite

    timer = Timer()
    suite = load_suite(args.suite)
    shard = parse_shard(args.shard)
    out = args.out or Path("results") / suite.name
    device, dtype = _device_dtype(args)
    with timer("setup"):
        plan = make_plan(suite, only_methods=_split(args.methods), limit=args.limit,
                         shard=shard, datasets=_split(args.datasets), device=device,
                         dtype=dtype, strict=args.strict)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from fsr.bench.compute.lib import Metrics, metric_definitions, usable_metrics

    metrics = Metrics(device)
    with timer("setup"):
        plan.suite, dropped = usable_metrics(plan.suite, metrics)
    for column, line in dropped.items():
        print(f"bench: metric {column} dropped: {line}", file=sys.stderr)
    checks = check_outputs_folders(plan, args.allow_missing)
    for label, check in checks.items():
        if check.missing:
            print(f"bench: {label}: {len(check.missing)} of {check.expected} outputs missing "
                  f"(first: {', '.join(check.missing[:3])}); scoring the rest (--allow-missing)",
                  file=sys.stderr)
        if check.extra:
            print(f"bench: {label}: {len(check.extra)} file(s) no image of the run expects, not "
                  f"scored: {', '.join(check.extra[:5])}{' ...' if len(check.extra) > 5 else ''}",
                  file=sys.stderr)
    store = Store(out)
    try:
        if store.skipped_lines:
            print(f"bench: skipped {store.skipped_lines} torn cache line(s) from an interrupted "
                  "run; those images are recomputed", file=sys.stderr)
        n_methods = sum(len(v) for v in plan.methods.values())
        print(f"bench: suite {suite.name}: {', '.join(d.describe() for d in plan.datasets)}; "
              f"{len(plan.items)} image(s) in this run; {len(suite.tasks)} task(s), "
              f"{n_methods} method x task pair(s) -> {out}", file=sys.stderr)
        runner = Runner(plan, store, timer, device=device, batch_size=args.batch_size,
                        strict=args.strict, metrics=metrics)
        for check in checks.values():
            runner.absent |= check.absent
        runner.run(progress=not args.quiet)
        for s in runner.skipped:
            print(f"bench: skipped {s['what']} {s['file']} ({s['reason']})", file=sys.stderr)
        info = _run_info(plan, runner)
        datasets = {d.name: {"type": d.cfg["type"], "images": len(d.items),
                             "kind": d.kind} for d in plan.datasets}
        if plan.reference is not None:
            datasets[plan.reference.name] = {"type": plan.reference.cfg["type"], "role":
                                             "reference", "images": len(plan.ref_items)}
        extra = {"shard": args.shard, "limit": args.limit,
                 "computed_images": runner.computed_images,
                 "inference": _inference_info(device, dtype, args.batch_size),
                 "submitted_by": args.by, "skipped": runner.skipped,
                 "dropped_metrics": dropped,
                 "absent_results": sorted(list(k) for k in runner.absent),
                 "outputs_checks": {label: {"expected": c.expected, "missing": c.missing,
                                            "extra": c.extra}
                                    for label, c in checks.items()}}
        defs, _ = metric_definitions(plan.suite, runner.metrics.built)
        return finish(info, store, out, timer, datasets=datasets, extra=extra,
                      built=runner.metrics.built, sheet_picks=runner.sheet.picks,
                      protocol=plan.protocol(defs))
    finally:
        store.close()


def _device_dtype(args: argparse.Namespace) -> tuple[str, str]:
    """--device / --dtype checked now, before any weights load (one-line errors, exit 2)."""
    from fsr.bench import BenchError
    from fsr.device import DeviceError, parse_device, parse_dtype

    if args.batch_size < 1:
        raise BenchError(f"--batch-size must be at least 1, got {args.batch_size}")
    try:
        device = parse_device(args.device)
        dtype = parse_dtype(args.dtype, device)
    except DeviceError as err:
        raise BenchError(str(err)) from None
    return str(device), str(dtype).removeprefix("torch.")


def _inference_info(device: str, dtype: str, batch_size: int) -> dict:
    import torch

    info = {"device": device, "methods_dtype": dtype, "metrics_dtype": "float32",
            "batch_size": batch_size}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def merge(args: argparse.Namespace) -> int:
    from fsr.bench.compute.sheet import merge_tiles
    from fsr.bench.report.merge import merge_dirs

    if args.out is None:
        print("bench: error: --merge needs --out DIR", file=sys.stderr)
        return 2
    info, store, timer, datasets, extra = merge_dirs(args.merge, args.out)
    try:
        picks = merge_tiles(args.merge, args.out)
        return finish(info, store, args.out, timer, datasets=datasets, extra=extra,
                      sheet_picks=picks, protocol=extra.pop("protocol"))
    finally:
        store.close()


def list_things() -> int:
    from fsr.bench.inputs.suite import suite_names
    from fsr.methods import available_methods, load_method, method_names

    print("suites:", ", ".join(suite_names()))
    here = set(available_methods())
    print("methods (task, scale, prior-guided, weights):")
    for name in method_names():
        if name in here:
            m = load_method(name)
            sha = m.weights_sha256[:12] if m.weights_sha256 else "weight-free"
            print(f"  {name:26s} {m.task:8s} x{m.scale:<2d} prior={str(m.needs_prior):5s} {sha}")
        else:
            from fsr.archs.pretrained import list_records

            asset = getattr(list_records().get(name), "asset", None)
            print(f"  {name:26s} weights absent: `python -m fsr assets fetch {asset}` says "
                  "where to get them")
    return 0


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from fsr.bench import BenchError

    try:
        if args.list:
            return list_things()
        if args.merge:
            return merge(args)
        if args.export_inputs:
            return export_inputs(args)
        from fsr.bench.compute.distributed import launch_from_env, run_distributed

        launch = launch_from_env()
        if launch is None:
            return run(args)
        from fsr.bench.inputs.suite import load_suite

        args.out = args.out or Path("results") / load_suite(args.suite).name
        return run_distributed(args, launch, run, lambda dirs, out: merge(
            argparse.Namespace(merge=dirs, out=out)))
    except BenchError as err:
        print(f"bench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
