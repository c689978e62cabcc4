"""The committed leaderboard, the README's results block and notes, and the model cards'
benchmark sections are what leaderboard/make.py writes from the committed run
(leaderboard/pose), so no number in them is typed by hand and none can drift from the run."""

import shutil
from pathlib import Path

import pytest

from fsr.bench.leaderboard import LeaderboardError, cards, page, readme

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "leaderboard" / "pose"


def _block(text: str, begin: str, end: str) -> str:
    assert begin in text and end in text, f"markers {begin} ... {end} missing"
    return text.split(begin, 1)[1].split(end, 1)[0]


def test_committed_leaderboard_is_generated_from_the_committed_run():
    out = REPO / "leaderboard" / "LEADERBOARD.md"
    assert out.read_text() == page.make(RUN, out)


def test_readme_results_block_is_generated_from_the_committed_run():
    text = (REPO / "README.md").read_text()
    assert _block(text, readme.README_BEGIN, readme.README_END) == "\n" + readme.overview(RUN)


def test_readme_notes_are_generated_from_the_committed_run():
    text = (REPO / "README.md").read_text()
    assert _block(text, readme.NOTES_BEGIN, readme.NOTES_END) == "\n" + readme.notes(RUN)


CARDS = sorted((REPO / "weights").glob("*.md"))


@pytest.mark.parametrize("card", CARDS, ids=[c.stem for c in CARDS])
def test_model_card_numbers_are_generated_from_the_committed_run(card):
    text = card.read_text()
    assert _block(text, cards.CARD_BEGIN, cards.CARD_END) == "\n" + cards.card_block(RUN, card)


def test_cards_render_the_runs_numbers_and_refuse_unknown_weights(tmp_path):
    """A drifted card is rewritten by --cards; a card for weights the run lacks is an error."""
    folder = tmp_path / "weights"
    folder.mkdir()
    card = folder / "sam3d_x4_samples.md"
    text = (REPO / "weights" / card.name).read_text()
    card.write_text(text.replace(_block(text, cards.CARD_BEGIN, cards.CARD_END),
                                 "\n| sam3d | 99.99 |\n"))
    assert cards.update_cards(RUN, folder) == [card]
    rendered = card.read_text()
    assert "99.99" not in rendered and "sam3d-x4-samples" in rendered
    assert "prior vs no prior" in rendered and "sam3d-x4-noprior-samples" in rendered
    stranger = folder / "other.md"
    stranger.write_text(f"| sha256 | `{'0' * 64}` |\n{cards.CARD_BEGIN}\n{cards.CARD_END}\n")
    with pytest.raises(LeaderboardError, match="no method of the run"):
        cards.update_cards(RUN, folder)
    shutil.rmtree(folder)


def test_a_cards_paired_rows_are_its_own_task():
    """MMRB runs in `restore` and `restore-severe`; its card (task restore) must show the
    restore pairs from paired.csv, not the severe task's (they once overwrote them)."""
    import csv

    card = REPO / "weights" / "mmrb_sg2_128_samples.md"
    block = cards.card_block(RUN, card)
    with open(RUN / "paired.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["method"] == "mmrb-sg2-128-samples"
                and r["versus"] == "input" and r["metric"] == "psnr" and r["bucket"] == "all"
                and r["dataset"] == "samples"]
    by_task = {r["task"]: float(r["delta"]) for r in rows}
    assert {"restore", "restore-severe"} <= set(by_task)
    line = next(x for x in block.splitlines() if x.startswith("| input | vs baseline |"))
    psnr = float(line.split("|")[3].split()[0])
    assert psnr == pytest.approx(by_task["restore"], abs=1e-4)
    assert psnr != pytest.approx(by_task["restore-severe"], abs=1e-3)


def test_sweep_ablation_rows_are_labelled_by_target_yaw():
    """A sweep's bucket holds one target yaw, its lower edge: the ablation table says 45, not
    '45-60' (which read as a range of measured poses)."""
    text = (REPO / "leaderboard" / "LEADERBOARD.md").read_text()
    section = text.split("### sweep-synthetic / restore: MMRB vs plain blocks", 1)[1].split("###", 1)[0]
    assert "| target abs(yaw), ° |" in section
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    assert rows[1:] == ["all", "0", "15", "30", "45", "60"]


def test_readme_bucket_counts_are_the_sample_manifests():
    """The prose's test-split pose counts (not a rendered block) match samples/manifest.csv."""
    import csv
    import re

    from fsr.pose import pose_bucket

    rows = list(csv.DictReader((REPO / "samples" / "manifest.csv").open()))
    counts = {}
    for r in rows:
        if r["split"] == "test" and r["pose_ok"] == "1":
            b = pose_bucket(float(r["yaw"]))
            counts[b] = counts.get(b, 0) + 1
    text = " ".join((REPO / "README.md").read_text().split())
    m = re.search(r"test \|yaw\| 0-15: (\d+), 15-30: (\d+), 30-45: (\d+), 45\+: (\d+)", text)
    assert m, "the README's bucket-count sentence is missing"
    assert [int(v) for v in m.groups()] == [counts.get(b, 0) for b in ("0-15", "15-30", "30-45", "45+")]
