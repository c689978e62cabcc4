"""CPU size/speed of every architecture at its native size, printed as a Markdown table.

    python bench/speed.py            # all rows, 2 threads
    python bench/speed.py --quick    # fewer repeats
    python bench/speed.py --rows sam3d-x4,realesrgan-x4plus --threads 4
    python bench/speed.py --dtype bfloat16 --rows sam3d-x4   # fp32 vs bf16 rows + accuracy
    python bench/speed.py --metrics                          # metric feature extraction, b1 vs b16

Each row runs in a fresh subprocess with random weights (speed and memory do not depend on the
values), in eval mode under ``torch.inference_mode()``:

- params: every parameter of the module (SAM3D's 16,512 unused DANet params included).
- GFLOPs/face: ``torch.utils.flop_counter.FlopCounterMode`` on one batch-1 forward; it counts
  conv/matmul/attention only (2 FLOPs per multiply-add), not element-wise ops or resizes
  (so interpolation shows "-").
- latency: median wall time of the timed forwards after the warm-up ones, divided by the
  batch size, with ``torch.set_num_threads(--threads)``; "CPU ms" is the same for the process's
  CPU time (user + system, all threads), which a busy machine inflates less than wall time.
- peak memory: the process's peak resident set size while running the forwards of that batch
  size minus its RSS once the model is built (Linux ``VmHWM`` - ``VmRSS``, the peak reset via
  ``/proc/self/clear_refs`` before the forwards), i.e. activations and scratch, not weights.
  Batch 8 runs after batch 1, so its number is the peak of either.
CPU timings on a shared machine move with its load; the table header prints the load average.

``--dtype bfloat16`` (or float16) adds, per row, float32 and that dtype, each contiguous and
channels_last (the layout fsr.methods runs in), timed interleaved in one process (so a load
change hits all alike), at ``--batch`` images, and the minimum over the repeats (the least
disturbed run) per face. The dtype runs under ``torch.autocast`` as ``fsr.methods`` does
(oneDNN bf16/AMX kernels on a CPU that has them). Then the accuracy cost, per method with its
real weights (``fsr.methods.load_method(name, dtype=...)``): PSNR of the dtype output against
the float32 output on the committed real face crops of ``tests/pose/data``, degraded as the
benchmark does (bicubic for SR, the GFPGAN blind preset for restoration).

``--metrics``: what the benchmark harness spends on each metric per image, one image at a
time (the old loop) against batches of ``--batch`` (``--batch-size``), interleaved, min of the
repeats: the FID Inception features, LPIPS (AlexNet) and identity (the model the 'identity'
metric resolves to here; ground-truth embeddings cached, as in a run), on the committed real
128 px face crops of ``tests/pose/data`` with noise added, float32.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from fsr.bench.compute.timing import load_average, machine_load, timed

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    name: str
    arch: str
    kwargs: dict | str  # a dict, or "module:NAME[key]" read in the child (lazy imports)
    in_size: int
    out_size: int
    n_inputs: int = 1  # SAM3D also takes a render at LR size
    value_range: tuple[float, float] = (0.0, 1.0)
    call_kwargs: dict = field(default_factory=dict)


_GFPGAN_V14 = dict(out_size=512, num_style_feat=512, channel_multiplier=2, decoder_load_path=None,
                   fix_decoder=False, num_mlp=8, input_is_latent=True, different_w=True,
                   narrow=1, sft_half=True)
ROWS = [
    Row("bicubic-x4", "Bicubic", {"scale": 4}, 32, 128),
    Row("lanczos-x4", "Lanczos", {"scale": 4}, 32, 128),
    Row("sam3d-x4", "SAM3D", {"scale": 4}, 32, 128, n_inputs=2),
    Row("sam3d-x8", "SAM3D", {"scale": 8}, 16, 128, n_inputs=2),
    Row("mmrb-sg2-128-small", "MMRBStyleGAN2", "fsr.archs.mmrb_arch:MMRB_CONFIGS[mmrb-sg2-128-small]",
        128, 128, value_range=(-1.0, 1.0), call_kwargs={"return_rgb": False}),
    Row("mmrb-sg2-256-small", "MMRBStyleGAN2", "fsr.archs.mmrb_arch:MMRB_CONFIGS[mmrb-sg2-256-small]",
        256, 256, value_range=(-1.0, 1.0), call_kwargs={"return_rgb": False}),
    Row("gfpgan-v1.4 (GFPGANv1Clean)", "GFPGANv1Clean", _GFPGAN_V14, 512, 512,
        value_range=(-1.0, 1.0), call_kwargs={"return_rgb": False}),
    Row("realesrgan-x4plus (RRDBNet)", "RRDBNet",
        dict(num_in_ch=3, num_out_ch=3, num_feat=64, num_block=23, num_grow_ch=32, scale=4), 64, 256),
]


def _proc_kib(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} in /proc/self/status")


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # Linux: reset VmHWM to the current RSS


def _resolve_kwargs(spec: dict | str) -> dict:
    if isinstance(spec, dict):
        return dict(spec)
    import importlib

    module, rest = spec.split(":")
    attr, key = rest.rstrip("]").split("[")
    return dict(getattr(importlib.import_module(module), attr)[key])


def run_child(row: Row, threads: int, warmup: int, repeats: int) -> dict:
    """Measure one row in this process; returns a JSON-able dict (or {'skip': reason})."""
    import statistics
    import time

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.set_num_threads(threads)
    from basicsr.utils.registry import ARCH_REGISTRY

    import fsr.archs  # noqa: F401  (registers fsr architectures)

    cls = ARCH_REGISTRY.get(row.arch)
    kwargs = _resolve_kwargs(row.kwargs)

    torch.manual_seed(0)
    net = cls(**kwargs).eval().requires_grad_(False)
    params = sum(p.numel() for p in net.parameters())
    lo, hi = row.value_range

    def inputs(batch: int) -> list:
        return [torch.rand(batch, 3, row.in_size, row.in_size) * (hi - lo) + lo
                for _ in range(row.n_inputs)]

    result: dict = {"params": params}
    with torch.inference_mode():
        base_rss = _proc_kib("VmRSS")
        _reset_peak_rss()
        for batch in (1, 8):
            x = inputs(batch)
            wall, cpu = [], []
            for i in range(warmup + repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                net(*x, **row.call_kwargs)
                if i >= warmup:
                    wall.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
            result[f"ms_b{batch}"] = 1000 * statistics.median(wall) / batch
            result[f"cpu_ms_b{batch}"] = 1000 * statistics.median(cpu) / batch
            result[f"peak_mib_b{batch}"] = (_proc_kib("VmHWM") - base_rss) / 1024
    # outside inference_mode: torch's module tracker (used by FlopCounterMode) needs autograd
    # metadata; the weights do not require grad, so no graph is kept
    counter = FlopCounterMode(display=False)
    with counter:
        net(*inputs(1), **row.call_kwargs)
    result["gflops"] = counter.get_total_flops() / 1e9
    return result


def metrics_main(args) -> int:
    """Per-image time of each metric's extraction at batch 1 vs ``args.batch``."""

    import torch

    from fsr.metrics import create_metric

    torch.set_num_threads(args.threads)
    import numpy as np
    from PIL import Image

    n = args.batch
    gen = torch.Generator().manual_seed(0)
    # real faces (the identity model detects and aligns them): the committed 128 px crops as
    # ground truth, each "output" that crop plus a little noise (a different one per image)
    faces = [torch.from_numpy(np.asarray(Image.open(f).convert("RGB"), np.float32) / 255)
             .permute(2, 0, 1) for f in sorted((REPO / "tests/pose/data").glob("*_128.jpg"))]
    gt = torch.stack([faces[i % len(faces)] for i in range(n)])
    pred = (gt + 0.03 * torch.randn(gt.shape, generator=gen)).clamp(0, 1)
    fid, lpips, ident = create_metric("fid"), create_metric("lpips"), create_metric("identity")
    jobs = {"Inception features (fid/kid)": lambda a, b: fid.features([a]),
            "lpips": lambda a, b: lpips(a, b),
            f"identity ({ident.model_name})": lambda a, b: ident(a, b)}
    repeats = 2 if args.quick else 4
    lines = [f"CPU, torch threads={args.threads}, 128 px images, min of {repeats} interleaved "
             f"repeats; {machine_load('load average at start')}",
             "", f"| metric | ms/image, batch 1 | ms/image, batch {n} | speed-up |",
             "|---|---|---|---|"]
    with torch.inference_mode():
        for name, fn in jobs.items():
            best = {1: float("inf"), n: float("inf")}
            fn(pred[:1], gt[:1])  # warm-up (TorchScript profiling runs, weights paged in)
            fn(pred, gt)
            for _ in range(repeats):
                one_by_one = timed(lambda fn=fn: [fn(pred[i:i + 1], gt[i:i + 1])
                                                  for i in range(n)])
                best[1] = min(best[1], one_by_one / n)
                best[n] = min(best[n], timed(lambda fn=fn: fn(pred, gt)) / n)
            lines.append(f"| {name} | {1000 * best[1]:.1f} | {1000 * best[n]:.1f} "
                         f"| {best[1] / best[n]:.2f}x |")
            print(f"done {name}", file=sys.stderr, flush=True)
    lines += ["", f"load average at end {load_average():.1f}"]
    print("\n".join(lines))
    return 0


# --- --dtype: float32 against a lower-precision dtype, and its accuracy cost per method ----


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
             f"{repeats} interleaved repeats; {machine_load('load average at start')}", "",
             "channels_last: the layout fsr.methods runs in; the last column is what a method's "
             f"--dtype {d} buys there", "",
             f"| model | float32 ms/face | {d} ms/face | {d}/fp32 | float32+channels_last ms/face "
             f"| {d}+channels_last ms/face | {d}/fp32, both channels_last |",
             "|---|---|---|---|---|---|---|"]
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    for name in wanted:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--child-dtype",
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
    lines += ["", f"load average at end {load_average():.1f}"]
    print("\n".join(lines))
    return 0


def _fmt_params(n: int) -> str:
    return "0" if n == 0 else f"{n / 1e6:.2f} M"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Method: see the module docstring (bench/speed.py).")
    parser.add_argument("--quick", action="store_true", help="1 warm-up + 3 timed runs per batch size")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--rows", default="", help="comma-separated row names (default: all)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per row (default 1800)")
    parser.add_argument("--dtype", default="float32",
                        help="also time this dtype against float32 (bfloat16 or float16) and "
                             "measure its accuracy per method")
    parser.add_argument("--batch", type=int, default=8, help="batch of the --dtype rows and "
                        "--metrics (default 8)")
    parser.add_argument("--metrics", action="store_true",
                        help="time metric feature extraction at batch 1 vs --batch instead")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-dtype", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warmup, repeats = (1, 3) if args.quick else (2, 7)
    if args.dtype not in ("float32", "bfloat16", "float16"):
        parser.error(f"--dtype must be float32, bfloat16 or float16, got {args.dtype!r}")

    rows = {r.name.split(" ")[0]: r for r in ROWS}
    if args.child and args.child_dtype:
        print(json.dumps(run_dtype_child(rows[args.child], args.threads, args.dtype, args.batch,
                                         warmup, repeats)))
        return 0
    if args.child:
        print(json.dumps(run_child(rows[args.child], args.threads, warmup, repeats)))
        return 0
    if args.metrics:
        return metrics_main(args)
    if args.dtype != "float32":
        return dtype_main(args, rows, warmup, repeats)

    wanted = [n.strip() for n in args.rows.split(",") if n.strip()] or list(rows)
    unknown = [n for n in wanted if n not in rows]
    if unknown:
        parser.error(f"unknown rows {unknown}; known: {', '.join(rows)}")

    lines = [
        f"CPU, torch threads={args.threads}, warm-up {warmup}, median of {repeats}; "
        f"{machine_load('load average at start')}",
        "",
        "| model | in -> out | params | GFLOPs/face | ms/face b1 | ms/face b8 "
        "| CPU ms/face b1 | CPU ms/face b8 | peak MiB b1 | peak MiB b8 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    for name in wanted:
        row = rows[name]
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name,
               "--threads", str(args.threads)] + (["--quick"] if args.quick else [])
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
        except subprocess.TimeoutExpired:
            notes.append(f"- {row.name}: skipped, over {args.timeout:.0f} s")
            continue
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            notes.append(f"- {row.name}: failed ({last})")
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        if "skip" in res:
            notes.append(f"- {row.name}: skipped, {res['skip']}")
            continue
        gflops = f"{res['gflops']:.3g}" if res["gflops"] > 0 else "-"
        lines.append(
            f"| {row.name} | {row.in_size} -> {row.out_size} | {_fmt_params(res['params'])} "
            f"| {gflops} | {res['ms_b1']:.1f} | {res['ms_b8']:.1f} "
            f"| {res['cpu_ms_b1']:.1f} | {res['cpu_ms_b8']:.1f} "
            f"| {res['peak_mib_b1']:.0f} | {res['peak_mib_b8']:.0f} |"
        )
        print(f"done {name}", file=sys.stderr, flush=True)
    lines.append("")
    lines.append(f"load average at end {load_average():.1f}")
    print("\n".join(lines + notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
