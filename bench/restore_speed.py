#!/usr/bin/env python
"""Per-face wall time of `python -m fsr restore` on a folder, batch 1 against batch 8.

    python bench/restore_speed.py                       # 30 sample crops, --aligned, b1 vs b8
    python bench/restore_speed.py --before /tmp/base    # also an older tree (e.g. git worktree)
    python bench/restore_speed.py --methods sam3d-x4-samples --faces 40 --repeats 5
    python bench/restore_speed.py --input demo/examples --whole-photo --batch-sizes 1 8

What is timed is the command's own function (``fsr.__main__.main``) in a process that has
already imported everything and run it once on two crops (imports, weights in the page cache,
MediaPipe started), so Python's start-up is not counted but everything a folder run does is:
loading the method, reading, the 3D prior, the network, the pose, writing the PNGs. Each
timed run writes into a fresh folder (nothing skipped). Seconds per run / faces = per face.

Every repeat is one fresh process per tree (``--before`` first, then this one), and inside it
the methods and batch sizes alternate, so a change in machine load hits all alike; the table
shows the minimum over the repeats (the least disturbed run) and the median. A tree whose
command has no ``--batch-size`` (before it existed) is run as it is, labelled ``-``.
Set ``OMP_WAIT_POLICY=PASSIVE`` on a shared machine (it is set here if unset).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CROPS = REPO / "samples" / "crops"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _inputs(src: Path, n: int, into: Path) -> int:
    """The first ``n`` images of ``src`` (sorted) copied into ``into``; how many there are."""
    paths = sorted(p for p in src.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:n]
    into.mkdir(parents=True, exist_ok=True)
    for p in paths:
        shutil.copy(p, into / p.name)
    return len(paths)


def _cli(main, folder: Path, method: str, batch: int | None, aligned: bool) -> float:
    """Seconds of one `fsr restore FOLDER OUT` into a fresh OUT (its printing swallowed)."""
    with tempfile.TemporaryDirectory() as out:
        argv = ["restore", str(folder), out, "--method", method]
        argv += ["--aligned"] if aligned else []
        argv += ["--batch-size", str(batch)] if batch is not None else []
        sink = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            rc = main(argv)
        took = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"restore_speed: `fsr {' '.join(argv)}` failed (rc {rc}):\n"
                         + sink.getvalue()[-2000:])
    return took


def child(args: argparse.Namespace) -> None:
    """One repeat in this process: warm-up, then each method x batch size once (JSON lines)."""
    import fsr.restore
    from fsr.__main__ import main

    has_batch = hasattr(fsr.restore, "check_batch_size")
    batches = args.batch_sizes if has_batch else [None]
    with tempfile.TemporaryDirectory() as tmp:
        folder, warm = Path(tmp) / "in", Path(tmp) / "warm"
        faces = _inputs(Path(args.input), args.faces, folder)
        _inputs(Path(args.input), 2, warm)
        for m in args.methods:
            _cli(main, warm, m, batches[0], args.aligned)
        for m in args.methods:
            for b in batches:
                took = _cli(main, folder, m, b, args.aligned)
                print(json.dumps({"fsr": fsr.__file__, "method": m, "batch": b, "faces": faces,
                                  "seconds": took}), flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=["sam3d-x4-samples", "mmrb-sg2-128-samples"])
    p.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8])
    p.add_argument("--faces", type=int, default=30, help="images of --input used")
    p.add_argument("--input", default=str(CROPS), help="folder of images (default sample crops)")
    p.add_argument("--whole-photo", dest="aligned", action="store_false",
                   help="detect faces (default: --aligned crops)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--before", help="another fsr tree to time first in each repeat")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if args.child:
        child(args)
        return

    import torch

    trees = ([("before", Path(args.before).resolve())] if args.before else []) + [("this", REPO)]
    print(f"torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.1f}; {args.faces} images of {args.input}, "
          f"{'aligned' if args.aligned else 'whole photo'}; {args.repeats} repeats")
    runs: dict[tuple, list[float]] = {}
    faces, imported = {}, {}
    for _ in range(args.repeats):
        for label, tree in trees:
            cmd = [sys.executable, __file__, "--child", str(tree), "--input", args.input,
                   "--faces", str(args.faces), "--methods", *args.methods,
                   "--batch-sizes", *map(str, args.batch_sizes)]
            cmd += [] if args.aligned else ["--whole-photo"]
            # each tree imports its own fsr (PYTHONPATH comes before the installed editable
            # finder) and its own bundled weights (the installed fsr.weights is one checkout's)
            env = {**os.environ, "PYTHONPATH": str(tree), "FSR_BUNDLED_DIR": str(tree / "weights")}
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tree, env=env)
            if proc.returncode != 0:
                raise SystemExit(f"restore_speed: the {label} run failed:\n{proc.stdout[-2000:]}"
                                 f"{proc.stderr[-2000:]}")
            for line in proc.stdout.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
                    key = (label, r["method"], r["batch"])
                    runs.setdefault(key, []).append(r["seconds"])
                    faces[key] = r["faces"]
                    imported[label] = r["fsr"]
    for label, path in imported.items():
        print(f"{label}: fsr imported from {Path(path).parent}")
    print("\n| tree | method | --batch-size | ms/face min | ms/face median | faces |")
    print("|---|---|---|---|---|---|")
    for (label, m, b), secs in runs.items():
        n = faces[(label, m, b)]
        print(f"| {label} | {m} | {'-' if b is None else b} | {1000 * min(secs) / n:.0f} | "
              f"{1000 * statistics.median(secs) / n:.0f} | {n} |")


if __name__ == "__main__":
    main()
