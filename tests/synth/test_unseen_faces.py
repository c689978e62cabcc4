"""The unseen crops (face profiling's check on faces it was not tuned on) carry their provenance:
every crop is listed with its package, path inside, licence and sha256, and none is a person of
the sample set's val or test split by name."""

import csv
import hashlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UNSEEN = REPO / "bench" / "studies" / "unseen_faces"


def provenance_rows() -> list[dict]:
    lines = [line for line in (UNSEEN / "PROVENANCE.md").read_text().splitlines()  # no |---|
             if line.startswith("| ")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(head, (c.strip() for c in line.strip("|").split("|")), strict=True))
            for line in lines[1:]]


def test_every_crop_is_listed_with_its_sha256():
    rows = provenance_rows()
    listed = {r["file"]: r for r in rows}
    crops = sorted(p.name for p in UNSEEN.glob("*.png"))
    assert len(listed) == len(rows), "a crop is listed twice"
    assert sorted(listed) == crops
    for name in crops:
        r = listed[name]
        assert hashlib.sha256((UNSEEN / name).read_bytes()).hexdigest() == r["sha256"], name
        assert r["package"] and r["path inside"] and r["licence"] and r["identity"], name


def test_the_set_is_many_people_none_of_them_val_or_test():
    rows = provenance_rows()
    assert len(rows) >= 15 and len({r["identity"] for r in rows}) >= 6
    with open(REPO / "samples" / "manifest.csv") as f:
        held = {r["identity"] for r in csv.DictReader(f) if r["split"] in ("val", "test")}
    assert not held & {r["identity"] for r in rows}
    # each row names its nearest val/test face and dlib distance (the identity check)
    for r in rows:
        assert float(r["nearest val/test face"].rsplit(" ", 1)[1]) > 0, r["file"]
