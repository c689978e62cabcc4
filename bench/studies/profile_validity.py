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

    uv run python bench/studies/profile_validity.py --md /tmp/validity.md \\
        --sheet docs/img/profile_sheet_unseen.png

``--renderer-tree DIR`` renders with the fsr of another checkout (an older commit, e.g.
``git worktree add /tmp/old COMMIT``) in a child process and measures its renders with this
checkout's validity, for a before/after on the same crops.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

UNSEEN = Path(__file__).resolve().parent / "unseen_faces"
# run in the other checkout's root, so that its fsr is the one imported
_RENDER_CHILD = """
import sys
import numpy as np
from fsr.imageio import read_image
from fsr.synth.profile_io import profile_image
yaws = [float(v) for v in sys.argv[2].split(",")]
for i, path in enumerate(sys.argv[3:]):
    try:
        rs = profile_image(read_image(path), yaws)
    except ValueError as err:
        print(f"{path}: {err}", file=sys.stderr)
        continue
    np.savez_compressed(f"{sys.argv[1]}/{i}.npz", image=np.stack([r.image for r in rs]),
                        mask=np.stack([r.mask for r in rs]),
                        measured=np.array([r.yaw_measured for r in rs], float))
"""


def renders_of(paths: list[Path], yaws: list[float], tree: Path | None) -> list:
    """Per source: [(render, mask, validity)] per yaw, or None where it could not be profiled.
    With ``tree``, the renders come from that checkout's fsr."""
    from fsr.imageio import read_image
    from fsr.synth.profile_io import profile_image
    from fsr.synth.validity import render_validity

    if tree is None:
        out = []
        for path in paths:
            try:
                rs = profile_image(read_image(path), yaws, validity=True)
            except ValueError as err:
                print(f"{path.name}: {err}", file=sys.stderr)
                out.append(None)
                continue
            out.append([(r.image, r.mask, r.validity) for r in rs])
        return out
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-c", _RENDER_CHILD, tmp, ",".join(map(str, yaws)),
                        *map(str, (p.resolve() for p in paths))], cwd=tree, check=True)
        out = []
        for i, path in enumerate(paths):
            f = Path(tmp) / f"{i}.npz"
            if not f.is_file():
                out.append(None)
                continue
            z, src = np.load(f), read_image(path)
            out.append([(z["image"][k], z["mask"][k],
                         render_validity(z["image"][k], src, z["mask"][k], z["measured"][k]))
                        for k in range(len(yaws))])
        return out


def validity_sheet(rows: list[tuple[np.ndarray, list]], yaws: list[float], path: Path,
                   tile: int = 80) -> None:
    """One row per source: the source, then its render at each yaw with its validity below it
    (D: dlib finds a face, M: MediaPipe does, the dlib distance to the source; green = valid)."""
    import cv2
    from PIL import Image

    order = sorted(range(len(yaws)), key=lambda i: yaws[i])
    band = 16
    lines = []
    for src, renders in rows:
        tiles = [cv2.resize(src, (tile, tile), interpolation=cv2.INTER_AREA)]
        marks = [np.full((band, tile, 3), 255, np.uint8)]
        cv2.putText(marks[0], "source", (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)
        for i in order:
            img, _, v = renders[i]
            tiles.append(cv2.resize(img, (tile, tile), interpolation=cv2.INTER_AREA))
            m = np.full((band, tile, 3), 255, np.uint8)
            text = (f"{'D' if v.detector_found else '-'}{'M' if v.mediapipe_found else '-'} "
                    + ("--" if not np.isfinite(v.identity_distance)
                       else f"{v.identity_distance:.2f}"))
            cv2.putText(m, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                        (0, 140, 0) if v.valid else (200, 0, 0), 1, cv2.LINE_AA)
            marks.append(m)
        lines += [np.concatenate(tiles, 1), np.concatenate(marks, 1)]
    sheet = np.concatenate(lines, 0)
    head = np.full((20, sheet.shape[1], 3), 255, np.uint8)
    for c, i in enumerate(order, start=1):
        cv2.putText(head, f"{yaws[i]:+.0f}", (c * tile + tile // 2 - 12, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a palette PNG keeps the sheet small enough for the repository
    Image.fromarray(np.concatenate([head, sheet], 0)).quantize(256).save(path, optimize=True)


def unseen_identities() -> dict[str, str]:
    """File name -> identity, from the unseen crops' PROVENANCE.md table."""
    rows = [line.split("|") for line in (UNSEEN / "PROVENANCE.md").read_text().splitlines()
            if line.startswith("| ") and line.split("|")[1].strip().endswith(".png")]
    return {r[1].strip(): r[2].strip() for r in rows}


def sources(use_val: bool, max_yaw: float) -> list[tuple[str, str, Path, str]]:
    """(group, id, path, identity) of the crops to profile."""
    ident = unseen_identities()
    out = [("unseen", p.stem, p, ident[p.name]) for p in sorted(UNSEEN.glob("*.png"))]
    if use_val:
        from fsr.data.samples import load_samples

        count: dict[str, int] = {}
        for s in sorted(load_samples("val"), key=lambda s: (abs(s.yaw), s.id)):
            if s.is_photo and s.pose_ok and abs(s.yaw) < max_yaw and count.get(s.identity, 0) < 2:
                count[s.identity] = count.get(s.identity, 0) + 1
                out.append(("val", s.id, Path(s.path), s.identity))
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
    ap.add_argument("--sheet-rows", type=int, default=16, help="at most this many people")
    ap.add_argument("--renderer-tree", type=Path,
                    help="render with the fsr of this checkout (an older commit)")
    args = ap.parse_args()
    from fsr.imageio import read_image
    from fsr.synth.profile_io import parse_yaws

    yaws = parse_yaws(args.yaws, both_signs=True)
    if args.renderer_tree is not None and not (args.renderer_tree / "fsr").is_dir():
        print(f"error: {args.renderer_tree} is not an fsr checkout", file=sys.stderr)
        return 2
    srcs = sources(args.val, args.max_abs_yaw)
    rows, sheet, seen = [], [], set()
    for (group, sid, path, ident), renders in zip(
            srcs, renders_of([p for _, _, p, _ in srcs], yaws, args.renderer_tree), strict=True):
        if renders is None:
            continue
        for y, (_, _, v) in zip(yaws, renders, strict=True):
            rows.append({"group": group, "id": sid, "identity": ident, "yaw": y, "v": v})
        print(f"{group}/{sid}: " + " ".join(
            f"{y:+.0f}:{'F' if v.is_face else '-'}{v.identity_distance:.2f}"
            for y, (_, _, v) in zip(yaws, renders, strict=True)), file=sys.stderr)
        if len(sheet) < args.sheet_rows and (ident, group) not in seen:
            seen.add((ident, group))
            sheet.append((read_image(path), renders))
    lines = []
    for group, title in (("unseen", "Unseen crops (`bench/studies/unseen_faces/`)"),
                         ("val", "Val split (near-frontal, at most 2 per identity)")):
        g = [r for r in rows if r["group"] == group]
        if g:
            lines += table(g, yaws, f"{title}: {len({r['id'] for r in g})} crops of "
                                    f"{len({r['identity'] for r in g})} people, both signs "
                                    "pooled. Synthetic pose.")
    if args.val:
        lines += table(rows, yaws, "Both groups pooled.")
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")
    if args.sheet and sheet:
        validity_sheet(sheet, yaws, args.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
