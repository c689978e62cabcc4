"""Before/after CPU timings of the metric speed-ups, and how far their outputs move.

    OMP_WAIT_POLICY=PASSIVE python bench/studies/metric_speed.py inception --batch 8 16
    OMP_WAIT_POLICY=PASSIVE python bench/studies/metric_speed.py ssim --batch 8 16

``inception``: the TorchScript TF-FID Inception as loaded (``FIDInception(fused=False)``)
against the folded, channels_last one (``FIDInception()``). ``ssim``: the previous batched
route (float64 ``F.conv2d``, rows then columns, on the whole batch; and the same one image at
a time, as before batching) against :func:`fsr.metrics.psnr_ssim.ssim`. Inputs: the committed 128 px real face crops of
``tests/pose/data`` (outputs = crop + a little noise). The variants run interleaved (a, b, a,
b, ...) so a change in machine load hits both alike; printed per variant: the minimum over
``--repeats`` of wall and of process CPU time per image (a shared machine inflates the mean,
not the least disturbed run), and the max |difference| of the outputs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

REPO = Path(__file__).resolve().parents[2]

def faces(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` (ground truth, noisy output) pairs of 128 px real faces, float32 in [0, 1]."""
    crops = [torch.from_numpy(np.asarray(Image.open(f).convert("RGB"), np.float32) / 255)
             .permute(2, 0, 1) for f in sorted((REPO / "tests/pose/data").glob("*_128.jpg"))]
    gt = torch.stack([crops[i % len(crops)] for i in range(n)])
    gen = torch.Generator().manual_seed(0)
    return gt, (gt + 0.03 * torch.randn(gt.shape, generator=gen)).clamp(0, 1)


def ssim_conv_batched(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """The previous ``ssim``: one float64 ``F.conv2d`` pass per axis over the whole batch."""
    from fsr.metrics.psnr_ssim import SSIM_WINDOW, _prepare, gaussian_kernel

    a, b = _prepare(pred, gt, 0, False, SSIM_WINDOW)
    stack = torch.cat([a, b, a * a, b * b, a * b], dim=1)
    n, m, h, w = stack.shape
    k = gaussian_kernel()
    flat = F.conv2d(stack.reshape(n * m, 1, h, w), k.view(1, 1, -1, 1))
    flat = F.conv2d(flat, k.view(1, 1, 1, -1))
    mu_a, mu_b, e_aa, e_bb, e_ab = flat.reshape(n, m, h - 10, w - 10).split(a.shape[1], dim=1)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    var_a, var_b, cov = e_aa - mu_a**2, e_bb - mu_b**2, e_ab - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return ssim_map.mean(dim=(1, 2, 3))


def variants(kind: str) -> dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
    if kind == "inception":
        from fsr.metrics.inception import FIDInception

        script, fused = FIDInception(fused=False), FIDInception()
        return {"script": lambda p, g: script(p), "fused": lambda p, g: fused(p)}
    from fsr.metrics.psnr_ssim import ssim

    return {"conv-batched": ssim_conv_batched, "ssim": ssim,
            "conv-per-image": lambda p, g: torch.cat([ssim_conv_batched(p[i:i + 1], g[i:i + 1])
                                                      for i in range(len(p))])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["inception", "ssim"])
    parser.add_argument("--batch", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    fns = variants(args.kind)
    print(f"{args.kind}: torch {torch.__version__}, {args.threads} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '-')}, min of {args.repeats}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with torch.inference_mode():
        for n in args.batch:
            gt, pred = faces(n)
            outs = {name: fn(pred, gt) for name, fn in fns.items()}  # also the warm-up
            ref = next(iter(outs.values()))
            best = {name: [float("inf"), float("inf")] for name in fns}
            for _ in range(args.repeats):
                for name, fn in fns.items():
                    t0, c0 = time.perf_counter(), time.process_time()
                    fn(pred, gt)
                    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                    best[name] = [min(best[name][0], wall / n), min(best[name][1], cpu / n)]
            for name, (wall, cpu) in best.items():
                diff = float((outs[name].double() - ref.double()).abs().max())
                print(f"batch {n:3d}  {name:13s} {1000 * wall:8.1f} ms/img wall "
                      f"{1000 * cpu:8.1f} ms/img CPU   max |diff| {diff:.2g}", flush=True)
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
