"""``python bench/speed.py --dtype bfloat16``: float32 against a lower-precision dtype per
architecture (timed in a child process of bench/speed.py), and the accuracy that dtype costs each
method with its real weights. The method is in bench/speed.py's docstring.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from speed import REPO, Row, _resolve_kwargs

SPEED = Path(__file__).resolve().with_name("speed.py")


def run_dtype_child(row: Row, threads: int, dtype_name: str, batch: int, warmup: int,
                    repeats: int) -> dict:
    """float32 vs ``dtype`` (autocast), each contiguous and channels_last (the layout
    fsr.methods runs in), interleaved; min ms per face."""
    import copy
    import time

    import torch

    from fsr.device import autocast, parse_dtype, to_channels_last

    torch.set_num_threads(threads)
    from basicsr.utils.registry import ARCH_REGISTRY

    import fsr.archs  # noqa: F401  (registers fsr architectures)

    dtype = parse_dtype(dtype_name)
    torch.manual_seed(0)
    net = ARCH_REGISTRY.get(row.arch)(**_resolve_kwargs(row.kwargs)).eval().requires_grad_(False)
    lo, hi = row.value_range
    x = [torch.rand(batch, 3, row.in_size, row.in_size) * (hi - lo) + lo
         for _ in range(row.n_inputs)]
    x_cl = [t.contiguous(memory_format=torch.channels_last) for t in x]
    net_cl = to_channels_last(copy.deepcopy(net))

    def run(mode: str):
        number, _, layout = mode.partition("+")
        with autocast("cpu", torch.float32 if number == "float32" else dtype):
            return net_cl(*x_cl, **row.call_kwargs) if layout else net(*x, **row.call_kwargs)

    modes = ["float32", dtype_name, "float32+channels_last", f"{dtype_name}+channels_last"]
    times: dict = {m: [] for m in modes}
    with torch.inference_mode():
        for i in range(warmup + repeats):
            for mode in modes:
                t0 = time.perf_counter()
                run(mode)
                if i >= warmup:
                    times[mode].append(time.perf_counter() - t0)
    return {m: 1000 * min(v) / batch for m, v in times.items()}


def accuracy_rows(dtype_name: str, threads: int) -> list[str]:
    """PSNR (dB) of each available method's ``dtype`` output against its float32 output."""
    import numpy as np
    import torch

    from fsr.data.degradations import degrade, seed_for
    from fsr.methods import MethodError, available_methods, load_method

    torch.set_num_threads(threads)
    faces = sorted((REPO / "tests" / "pose" / "data").glob("*_128.jpg"))
    from PIL import Image

    gts = [np.asarray(Image.open(f).convert("RGB"), np.float32) / 255 for f in faces]
    lines = [f"| method | task | faces | PSNR({dtype_name} out, float32 out) dB, mean | min |",
             "|---|---|---|---|---|"]
    for name in available_methods():
        try:
            m32, mlo = load_method(name, dtype="float32"), load_method(name, dtype=dtype_name)
        except MethodError as err:
            lines.append(f"| {name} | - | - | skipped: {err} | |")
            continue
        spec = ({"type": "bicubic", "scale": m32.scale} if m32.task == "sr"
                else {"type": "blind", "preset": "gfpgan"})
        lqs = [degrade(g, spec, seed_for(f.stem, "speed")) for g, f in zip(gts, faces, strict=True)]
        lq = torch.from_numpy(np.stack(lqs).astype(np.float32)).permute(0, 3, 1, 2)
        prior = None
        if m32.needs_prior:
            from fsr.priors import compute_prior

            ps = [compute_prior((np.clip(q, 0, 1) * 255).round().astype(np.uint8),
                                size=q.shape[0], with_maps=False) for q in lqs]
            prior = {"render": torch.from_numpy(np.stack([p.render for p in ps]).astype(
                np.float32)).permute(0, 3, 1, 2),
                "coeffs": torch.from_numpy(np.stack([p.coeffs for p in ps]).astype(np.float32))}
        with torch.inference_mode():
            a, b = m32(lq, prior), mlo(lq, prior)
        mse = ((a - b) ** 2).flatten(1).mean(1).double()
        psnr = (10 * torch.log10(1 / mse.clamp_min(1e-20))).tolist()
        fmt = [("inf" if v > 190 else f"{v:.2f}") for v in (float(np.mean(psnr)), min(psnr))]
        lines.append(f"| {name} | {m32.task} x{m32.scale} | {len(faces)} | {fmt[0]} | {fmt[1]} |")
    return lines


def dtype_main(args, rows: dict, warmup: int, repeats: int) -> int:
    wanted = [n.strip() for n in args.rows.split(",") if n.strip()] or list(rows)
    d = args.dtype
    lines = [f"CPU, torch threads={args.threads}, batch {args.batch}, warm-up {warmup}, min of "
             f"{repeats} interleaved repeats; load average at start {os.getloadavg()[0]:.1f} "
             f"on {os.cpu_count()} CPUs", "",
             "channels_last: the layout fsr.methods runs in; the last column is what a method's "
             f"--dtype {d} buys there", "",
             f"| model | float32 ms/face | {d} ms/face | {d}/fp32 | float32+channels_last ms/face "
             f"| {d}+channels_last ms/face | {d}/fp32, both channels_last |",
             "|---|---|---|---|---|---|---|"]
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    for name in wanted:
        cmd = [sys.executable, str(SPEED), "--child", name, "--child-dtype",
               "--dtype", d, "--batch", str(args.batch), "--threads", str(args.threads)] + (
            ["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            lines.append(f"| {name} | failed: {last} | | | | | |")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        f32, lo = r["float32"], r[d]
        f32_cl, lo_cl = r["float32+channels_last"], r[f"{d}+channels_last"]
        lines.append(f"| {rows[name].name} | {f32:.1f} | {lo:.1f} | {lo / f32:.2f} | "
                     f"{f32_cl:.1f} | {lo_cl:.1f} | {lo_cl / f32_cl:.2f} |")
        print(f"done {name}", file=sys.stderr, flush=True)
    lines += ["", f"Accuracy of {d} inference (real weights; PSNR against the float32 output):",
              ""] + accuracy_rows(d, args.threads)
    lines += ["", f"load average at end {os.getloadavg()[0]:.1f}"]
    print("\n".join(lines))
    return 0
