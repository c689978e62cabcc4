"""Face profiling's checks on HELD-OUT (test-split) near-frontal faces, and the contact sheet.

For one near-frontal crop per test identity (|yaw| < 12; the calibration used train
identities only), render each yaw of ``--yaws`` (both signs) and measure:

* fsr.pose's yaw (MediaPipe's landmarks, weak perspective) on the render against the target:
  |measured - target| (the strict reading) and |measured - source - target| (the change the
  render was asked for);
* yaw 0: PSNR of the render against the source in the central face (the middle half of the
  landmarks' box);
* identity: dlib ResNet distance render vs source (same person below 0.6), at |yaw| <= 45,
  with the render's face box from dlib's HOG detector (else the source's box, the bench's
  rule for pixel-aligned pairs) and, the check's number, from HOG else dlib's CNN (MMOD)
  detector: a render is not pixel-aligned with its source, and HOG, trained on frontal
  faces, misses most faces turned 45 degrees.

    uv run python bench/studies/profile_accuracy.py --md /tmp/profiling_table.md \\
        --sheet docs/img/profile_sheet.jpg
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def central_psnr(a: np.ndarray, b: np.ndarray, landmarks: np.ndarray) -> float:
    x0, y0 = landmarks[:, :2].min(0)
    x1, y1 = landmarks[:, :2].max(0)
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 4, (y1 - y0) / 4
    sl = np.s_[int(cy - hh):int(cy + hh), int(cx - hw):int(cx + hw)]
    mse = np.mean((a[sl].astype(np.float64) - b[sl].astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def contact_sheet(rows: list[list[tuple[np.ndarray, np.ndarray]]], yaws, path: Path,
                  tile: int = 112) -> None:
    """Rows of (render, mask) per identity; each render above its mask, a yaw per column."""
    import cv2

    from fsr.imageio import write_image

    lines = []
    for row in rows:
        top = [cv2.resize(im, (tile, tile), interpolation=cv2.INTER_AREA) for im, _ in row]
        bot = [cv2.resize(np.repeat(m[..., None], 3, 2), (tile, tile // 2 * 2),
                          interpolation=cv2.INTER_NEAREST)[::2] for _, m in row]
        lines += [np.concatenate(top, 1), np.concatenate(bot, 1)]
    sheet = np.concatenate(lines, 0)
    head = np.full((22, sheet.shape[1], 3), 255, np.uint8)
    for i, y in enumerate(yaws):
        cv2.putText(head, f"{y:+.0f}", (i * tile + tile // 2 - 14, 16), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, (0, 0, 0), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, np.concatenate([head, sheet], 0), quality=82)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--yaws", default="0,15,30,45,60")
    ap.add_argument("--max-abs-yaw", type=float, default=12.0)
    ap.add_argument("--md", type=Path, help="write the Markdown table here")
    ap.add_argument("--sheet", type=Path, help="write the contact sheet (JPEG) here")
    ap.add_argument("--sheet-ids", type=int, default=4)
    args = ap.parse_args()
    import torch

    from fsr.data.samples import load_samples
    from fsr.imageio import read_image
    from fsr.metrics.identity import IdentitySimilarity
    from fsr.priors.mesh import fit_mesh
    from fsr.synth.profile_io import parse_yaws, profile_image

    yaws = parse_yaws(args.yaws, both_signs=True)
    seen, sources = set(), []
    for s in load_samples("test"):
        if s.is_photo and s.pose_ok and abs(s.yaw) < args.max_abs_yaw and s.identity not in seen:
            seen.add(s.identity)
            sources.append(s)
    ident = IdentitySimilarity(backend="dlib", statistic="distance")
    ident_cnn = IdentitySimilarity(backend="dlib", statistic="distance", cnn_fallback=True)

    def t(x):
        return torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255

    per = {y: {"abs": [], "change": [], "dist": [], "dist_hog": [], "found": 0, "n": 0, "real": []}
           for y in yaws}
    psnr0, sheet_rows, src_yaws = [], [], []
    for s in sources:
        img = read_image(s.path)
        fit = fit_mesh(img)
        try:
            renders = profile_image(img, yaws)
        except ValueError as err:
            print(f"{s.id}: {err}", file=sys.stderr)
            continue
        src_yaws.append(renders[0].yaw_source)
        for r in renders:
            d = per[r.yaw_target]
            d["n"] += 1
            d["real"].append(r.real_fraction)
            if np.isfinite(r.yaw_measured):
                d["found"] += 1
                d["abs"].append(abs(r.yaw_measured - r.yaw_target))
                d["change"].append(abs(r.yaw_measured - r.yaw_source - r.yaw_target))
            if abs(r.yaw_target) <= 45:
                d["dist_hog"].append(float(ident(t(r.image), t(img))[0]))
                d["dist"].append(float(ident_cnn(t(r.image), t(img))[0]))
            if r.yaw_target == 0:
                psnr0.append(central_psnr(r.image, img, fit.landmarks[:468]))
        if len(sheet_rows) < args.sheet_ids:
            order = sorted(range(len(yaws)), key=lambda i: yaws[i])
            sheet_rows.append([(renders[i].image, renders[i].mask) for i in order])
        print(f"{s.id}: source yaw {renders[0].yaw_source:+.1f}", file=sys.stderr)
    lines = [f"Held-out test identities: {len(src_yaws)} near-frontal crops (one per identity, "
             f"|source yaw| < {args.max_abs_yaw:g}; median |source yaw| "
             f"{np.median(np.abs(src_yaws)):.1f} deg). Synthetic pose (face profiling).", "",
             "| target yaw | n | MediaPipe found | median abs(measured - target) | "
             "median abs(measured - source - target) | real-texture fraction | "
             "dlib distance < 0.6 (HOG, else MMOD box) | same, HOG else source's box |",
             "|---|---|---|---|---|---|---|---|"]
    for y in sorted(yaws, key=lambda v: (abs(v), v)):
        d = per[y]
        med = f"{np.median(d['abs']):.1f}" if d["abs"] else "-"
        chg = f"{np.median(d['change']):.1f}" if d["change"] else "-"
        same, hog = (f"{np.mean(np.array(d[k]) < 0.6):.0%} (n={len(d[k])})" if d[k] else "-"
                     for k in ("dist", "dist_hog"))
        lines.append(f"| {y:+.0f} | {d['n']} | {d['found']} | {med} | {chg} | "
                     f"{np.mean(d['real']):.3f} | {same} | {hog} |")
    for group in ((30, -30), (45, -45), (60, -60)):
        a = sum((per[y]["abs"] for y in group if y in per), [])
        c = sum((per[y]["change"] for y in group if y in per), [])
        if a:
            lines.append(f"\n|yaw| {group[0]} pooled: median abs(measured - target) "
                         f"{np.median(a):.1f} deg, of the change {np.median(c):.1f} deg (n={len(a)})")
    for key, boxes in (("dist", "HOG, else MMOD box"), ("dist_hog", "HOG, else source's box")):
        dists = [v for y in yaws if abs(y) <= 45 for v in per[y][key]]
        lines.append(f"\nSame person (dlib distance < 0.6) at |yaw| <= 45, {boxes}: "
                     f"{np.mean(np.array(dists) < 0.6):.1%} of {len(dists)} renders "
                     f"(median distance {np.median(dists):.3f})")
    finite = [p for p in psnr0 if np.isfinite(p)]
    lines.append(f"Yaw 0 vs source, central face: min PSNR "
                 f"{min(psnr0) if psnr0 else float('nan'):.1f} dB over {len(psnr0)} crops "
                 f"({len(psnr0) - len(finite)} bit-identical)")
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")
    if args.sheet and sheet_rows:
        contact_sheet(sheet_rows, sorted(yaws), args.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
