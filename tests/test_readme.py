"""The committed leaderboard, the README's results table, the results page (docs/results.md)
and the model cards' benchmark sections are what leaderboard/make.py writes from the committed
run (leaderboard/pose), so no number in them is typed by hand and none can drift from the run.
Every command in the README is run: here, or by the named test or CI script."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fsr.bench.leaderboard import LeaderboardError, cards, page, readme

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "leaderboard" / "pose"
RESULTS = REPO / readme.RESULTS_PAGE


def _block(text: str, begin: str, end: str) -> str:
    assert begin in text and end in text, f"markers {begin} ... {end} missing"
    return text.split(begin, 1)[1].split(end, 1)[0]


def test_committed_leaderboard_is_generated_from_the_committed_run():
    out = REPO / "leaderboard" / "LEADERBOARD.md"
    assert out.read_text() == page.make(RUN, out)


def test_readme_results_table_is_generated_from_the_committed_run():
    text = (REPO / "README.md").read_text()
    assert _block(text, readme.README_BEGIN, readme.README_END) == "\n" + readme.compact(RUN)


def test_results_page_is_generated_from_the_committed_run():
    text = RESULTS.read_text()
    assert _block(text, readme.RESULTS_BEGIN, readme.RESULTS_END) == "\n" + readme.overview(RUN)
    assert _block(text, readme.NOTES_BEGIN, readme.NOTES_END) == "\n" + readme.notes(RUN)


def test_readme_update_writes_both_files_and_needs_the_results_page(tmp_path):
    """--readme rewrites the README's table and the results page beside it; without that page
    it is a one-line error, and the README is left as it was."""
    (tmp_path / "docs").mkdir()
    drifted = (REPO / "README.md").read_text().replace(
        _block((REPO / "README.md").read_text(), readme.README_BEGIN, readme.README_END),
        "\n| sam3d | 99.99 |\n")
    (tmp_path / "README.md").write_text(drifted)
    with pytest.raises(LeaderboardError, match="results.md is missing"):
        readme.update_readme(tmp_path / "README.md", RUN)
    assert (tmp_path / "README.md").read_text() == drifted
    shutil.copy(RESULTS, tmp_path / "docs" / "results.md")
    written = readme.update_readme(tmp_path / "README.md", RUN)
    assert written == [tmp_path / "README.md", tmp_path / "docs" / "results.md"]
    assert (tmp_path / "README.md").read_text() == (REPO / "README.md").read_text()
    assert (tmp_path / "docs" / "results.md").read_text() == RESULTS.read_text()


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
    assert rows[1:] == ["all", "0", "15", "30", "45"]  # the sweep stops where renders are faces


def test_results_page_bucket_counts_are_the_sample_manifests():
    """The prose's test-split pose counts (not a rendered block) match samples/manifest.csv."""
    import csv

    from fsr.pose import pose_bucket

    rows = list(csv.DictReader((REPO / "samples" / "manifest.csv").open()))
    counts = {}
    for r in rows:
        if r["split"] == "test" and r["pose_ok"] == "1":
            b = pose_bucket(float(r["yaw"]))
            counts[b] = counts.get(b, 0) + 1
    text = " ".join(RESULTS.read_text().split())
    m = re.search(r"test \|yaw\| 0-15: (\d+), 15-30: (\d+), 30-45: (\d+), 45\+: (\d+)", text)
    assert m, "the results page's bucket-count sentence is missing"
    assert [int(v) for v in m.groups()] == [counts.get(b, 0) for b in ("0-15", "15-30", "30-45", "45+")]


RUN_HERE = "run by this file"
# command (as written) -> who runs it: RUN_HERE, or "<path>::<text that file must contain>"
COMMANDS = {
    "python3 -m pip install uv": ".ci/run::python3 -m pip install --quiet uv",
    # the same entry point on a tiny suite (the full pose run takes minutes; its committed
    # output, leaderboard/pose, is what the tables above are checked against)
    "uv run python bench/run.py --suite pose":
        'tests/bench/test_bench_run.py::"--suite", str(suite_file), "--out"',
    "uv run pytest": ".ci/run::uv run pytest",
    "uv run python -m fsr methods": 'tests/test_contributing.py::"uv run python -m fsr methods"',
    "uv run python -m fsr restore photo.jpg out.png --method sam3d-x4-samples":
        'tests/test_restore.py::_cli(PHOTO, tmp_path / "out.png", "--method", "sam3d-x4-samples"',
    "uv run python -m fsr restore crops/ out/ --method lanczos-x8 --aligned": RUN_HERE,
    "uv run python -m demo.app": 'demo/browser.py::"-m", "demo.app"',
    # "Benchmark your own method": run end to end, on two sample faces, by the harness's test
    "uv run python bench/run.py --suite pose --export-inputs inputs/":
        'tests/bench/test_outputs.py::"--suite", "pose", "--export-inputs", "inputs/"',
    "uv run python bench/run.py --suite pose --methods mine=outputs:mine/ --out results/mine":
        'tests/bench/test_outputs.py::"--methods", "mine=outputs:mine/", "--out"',
    "uv run python leaderboard/make.py results/pose results/mine -o results/LEADERBOARD.md":
        'tests/bench/test_outputs.py::["results/pose", "results/mine", "-o", "results/LEADERBOARD.md"]',
}


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def test_every_readme_command_is_accounted_for():
    commands = _commands()
    assert len(commands) == len(set(commands)) and set(commands) == set(COMMANDS), (
        f"README.md and this file disagree: {sorted(set(commands) ^ set(COMMANDS))}")
    for command, runner in COMMANDS.items():
        if runner != RUN_HERE:
            path, needle = runner.split("::", 1)
            assert needle in (REPO / path).read_text(), f"{path} does not run {command!r}"


def test_restore_a_folder_of_aligned_crops(tmp_path):
    """The README's folder command on two sample crops: one x8 PNG per crop."""
    from PIL import Image

    crops = tmp_path / "crops"
    crops.mkdir()
    for name in ("audrey-0", "obama-0"):
        Image.open(REPO / "samples" / "crops" / f"{name}.png").resize((16, 16)).save(
            crops / f"{name}.png")
    words = "uv run python -m fsr restore crops/ out/ --method lanczos-x8 --aligned".split()
    proc = subprocess.run([sys.executable, *words[3:]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    outs = sorted((tmp_path / "out").glob("*.png"))
    assert [p.stem for p in outs] == ["audrey-0", "obama-0"]
    assert all(Image.open(p).size == (128, 128) for p in outs)
