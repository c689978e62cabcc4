"""Face profiling's validity per target yaw on faces it was NOT tuned on, and a contact sheet.

The renderer's calibration used train identities and its checks the test identities. This
measures, per target yaw (both signs), on near-frontal crops from elsewhere:

* the unseen crops of ``bench/studies/unseen_faces/`` (sources not in ``samples/``;
  ``profile_unseen_crops.py`` builds them);
* with ``--val``, also the sample set's val split (near-frontal, at most 2 crops per identity).

Per yaw: renders, the share where dlib (HOG, else MMOD) finds a face, where MediaPipe finds
one, the median dlib distance to the source (render's own box), the share that keeps the person
(< 0.6), the filled (not real-texture) share, and the share valid (a face that keeps the
person): :mod:`fsr.synth.validity`, the same numbers the sweep carries.

    uv run python bench/studies/profile_validity.py --val --md /tmp/validity.md \\
        --sheet docs/img/profile_sheet_unseen.jpg
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from profile_accuracy import contact_sheet

UNSEEN = Path(__file__).resolve().parent / "unseen_faces"


def sources(use_val: bool, max_yaw: float) -> list[tuple[str, str, Path]]:
    """(group, id, path) of the crops to profile."""
    out = [("unseen", p.stem, p) for p in sorted(UNSEEN.glob("*.png"))]
    if use_val:
        from fsr.data.samples import load_samples

        count: dict[str, int] = {}
        for s in sorted(load_samples("val"), key=lambda s: (abs(s.yaw), s.id)):
            if s.is_photo and s.pose_ok and abs(s.yaw) < max_yaw and count.get(s.identity, 0) < 2:
                count[s.identity] = count.get(s.identity, 0) + 1
                out.append(("val", s.id, Path(s.path)))
    return out


def table(rows: list[dict], yaws: list[float], title: str) -> list[str]:
    lines = [f"{title}", "",
             "| target yaw | renders | dlib finds a face | MediaPipe finds a face | median dlib "
             "distance to source | same person (< 0.6) | filled share | valid (a face, same "
             "person) |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for y in sorted({abs(v) for v in yaws}):
        g = [r for r in rows if abs(r["yaw"]) == y]
        if not g:
            continue
        dist = [r["v"].identity_distance for r in g if np.isfinite(r["v"].identity_distance)]
        n = len(g)
        lines.append(f"| {y:g} | {n} | {sum(r['v'].detector_found for r in g) / n:.0%} | "
                     f"{sum(r['v'].mediapipe_found for r in g) / n:.0%} | "
                     f"{np.median(dist) if dist else float('nan'):.3f} | "
                     f"{sum(r['v'].same_person for r in g) / n:.0%} | "
                     f"{np.mean([r['v'].filled_fraction for r in g]):.3f} | "
                     f"{sum(r['v'].valid for r in g) / n:.0%} |")
    return lines + [""]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--yaws", default="0,15,30,45,60")
    ap.add_argument("--val", action="store_true", help="also the sample set's val split")
    ap.add_argument("--max-abs-yaw", type=float, default=12.0)
    ap.add_argument("--md", type=Path)
    ap.add_argument("--sheet", type=Path)
    ap.add_argument("--sheet-rows", type=int, default=4)
    args = ap.parse_args()
    from fsr.imageio import read_image
    from fsr.synth.profile_io import parse_yaws, profile_image

    yaws = parse_yaws(args.yaws, both_signs=True)
    rows, sheet, seen = [], [], set()
    for group, sid, path in sources(args.val, args.max_abs_yaw):
        img = read_image(path)
        try:
            renders = profile_image(img, yaws, validity=True)
        except ValueError as err:
            print(f"{sid}: {err}", file=sys.stderr)
            continue
        for r in renders:
            rows.append({"group": group, "id": sid, "yaw": r.yaw_target, "v": r.validity})
        print(f"{group}/{sid}: " + " ".join(
            f"{r.yaw_target:+.0f}:{'F' if r.validity.is_face else '-'}"
            f"{r.validity.identity_distance:.2f}" for r in renders), file=sys.stderr)
        ident = sid.rsplit("-f", 1)[0]
        if len(sheet) < args.sheet_rows and (ident, group) not in seen:
            seen.add((ident, group))
            order = sorted(range(len(yaws)), key=lambda i: yaws[i])
            sheet.append([(renders[i].image, renders[i].mask) for i in order])
    lines = []
    for group, title in (("unseen", "Unseen crops (`bench/studies/unseen_faces/`)"),
                         ("val", "Val split (near-frontal, at most 2 per identity)")):
        g = [r for r in rows if r["group"] == group]
        if g:
            lines += table(g, yaws, f"{title}: {len({r['id'] for r in g})} crops, both signs "
                                    "pooled. Synthetic pose.")
    if args.val:
        lines += table(rows, yaws, "Both groups pooled.")
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")
    if args.sheet and sheet:
        contact_sheet(sheet, sorted(yaws), args.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
