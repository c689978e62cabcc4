"""tests/photos holds exactly the files its PROVENANCE.md lists, with the bytes it records."""

import hashlib
import re
from pathlib import Path

PHOTOS = Path(__file__).parent / "photos"


def test_photos_match_their_provenance():
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$",
                      (PHOTOS / "PROVENANCE.md").read_text(), re.M)
    listed = dict(rows)
    present = {p.relative_to(PHOTOS).as_posix() for p in PHOTOS.rglob("*")
               if p.is_file() and p.name != "PROVENANCE.md"}
    assert len(listed) == len(rows) >= 9 and set(listed) == present
    for rel, sha in listed.items():
        assert hashlib.sha256((PHOTOS / rel).read_bytes()).hexdigest() == sha, rel
