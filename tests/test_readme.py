"""The committed leaderboard and the README's results block are what leaderboard/make.py
writes from the committed run (leaderboard/pose), so no number in them is typed by hand."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _make():
    spec = importlib.util.spec_from_file_location("leaderboard_make", REPO / "leaderboard" / "make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_leaderboard_is_generated_from_the_committed_run():
    make = _make()
    out = REPO / "leaderboard" / "LEADERBOARD.md"
    assert out.read_text() == make.make(REPO / "leaderboard" / "pose", out)


def test_readme_results_block_is_generated_from_the_committed_run():
    make = _make()
    text = (REPO / "README.md").read_text()
    block = text.split(make.README_BEGIN, 1)[1].split(make.README_END, 1)[0]
    assert block == "\n" + make.overview(REPO / "leaderboard" / "pose")
