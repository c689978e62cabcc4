"""Every command in CONTRIBUTING.md is run: here, or by the named test or CI script.

A command added to CONTRIBUTING.md without an entry below fails the first test, so the guide
cannot name a command nobody runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

RUN_HERE = "run by this file"
# command (as written) -> who runs it: RUN_HERE, or "<path>::<text that file must contain>"
COMMANDS = {
    "uv run pytest": ".ci/run::uv run pytest",
    'uv run pytest -m "not slow"': RUN_HERE,  # the selection is collected below
    "uv run ruff check .": RUN_HERE,
    "uv run python -m fsr methods": RUN_HERE,
    "uv run python bench/run.py --list": RUN_HERE,
    # the harness end to end on a suite file written by the test
    "uv run python bench/run.py --suite bench/suites/<name>.yml --out results/<name>":
        'tests/bench/test_bench_run.py::"--suite", str(suite_file), "--out"',
    # a tiny options file, killed and resumed
    "uv run python -m fsr.train -opt options/<name>.yml": 'tests/train/test_resume.py::"-opt"',
    # the same entry point on a tiny suite (the full pose run takes minutes: the committed
    # leaderboard/pose is its output, and the two commands after it are run here on it)
    "uv run python bench/run.py --suite pose --out leaderboard/pose":
        'tests/bench/test_bench_run.py::"--suite", str(suite_file), "--out"',
    "uv run python leaderboard/make.py leaderboard/pose -o leaderboard/LEADERBOARD.md": RUN_HERE,
    # the export -> your method -> score -> merged page loop, on two sample faces
    "uv run python bench/run.py --suite pose --export-inputs inputs/":
        'tests/bench/test_outputs.py::"--export-inputs", "inputs/"',
    'uv run python bench/run.py --suite pose --methods mine=outputs:mine/ --out results/mine '
    '--by "Your Name"': 'tests/bench/test_outputs.py::"--by", "Your Name"',
    "uv run python leaderboard/make.py leaderboard/pose results/mine -o results/LEADERBOARD.md":
        'tests/bench/test_outputs.py::make.main(["results/pose", "results/mine"',
    "uv run python leaderboard/make.py leaderboard/pose --readme README.md --cards weights":
        RUN_HERE,
}


def _commands() -> list[str]:
    text = (REPO / "CONTRIBUTING.md").read_text()
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command:
                lines.append(command)
    return lines


def _uv_run(command: str) -> list[str]:
    """``uv run python X ...`` -> this interpreter on X (the test already runs inside uv)."""
    words = command.split()
    assert words[:2] == ["uv", "run"], command
    words = words[2:]
    return [sys.executable, *words[1:]] if words[0] == "python" else [sys.executable, "-m", *words]


def test_every_command_is_accounted_for():
    commands = _commands()
    assert len(commands) == len(set(commands)) and set(commands) == set(COMMANDS), (
        f"CONTRIBUTING.md and this file disagree: {sorted(set(commands) ^ set(COMMANDS))}")
    for command, runner in COMMANDS.items():
        if runner != RUN_HERE:
            path, needle = runner.split("::", 1)
            assert needle in (REPO / path).read_text(), f"{path} does not run {command!r}"


def test_ci_runs_exactly_the_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^uv run pytest$", ci, re.M)


@pytest.mark.slow
def test_fast_subset_selects_no_slow_test():
    args = [sys.executable, "-m", "pytest", "-m", "not slow"]  # uv run pytest -m "not slow"
    fast = subprocess.run([*args, "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert fast.returncode == 0, fast.stdout[-2000:] + fast.stderr[-2000:]
    match = re.search(r"(\d+)/(\d+) tests collected \((\d+) deselected\)", fast.stdout)
    assert match, fast.stdout[-500:]
    selected, total, deselected = map(int, match.groups())
    assert selected + deselected == total and 0 < deselected < total


def test_ruff_is_clean():
    proc = subprocess.run(_uv_run("uv run ruff check ."), cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["uv run python -m fsr methods",
                                     "uv run python bench/run.py --list"])
def test_listing_commands_show_the_bundled_methods(command):
    proc = subprocess.run(_uv_run(command), cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "sam3d-x4-samples" in proc.stdout and "bicubic-x4" in proc.stdout


@pytest.mark.slow
def test_leaderboard_commands_reproduce_the_committed_files(tmp_path):
    """Both make.py commands, run in a copy of the files they write: the output equals what is
    committed (a drift would also fail tests/test_readme.py)."""
    shutil.copytree(REPO / "leaderboard", tmp_path / "leaderboard")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    (tmp_path / "docs").mkdir()
    shutil.copy(REPO / "docs" / "results.md", tmp_path / "docs" / "results.md")
    (tmp_path / "weights").mkdir()
    for card in (REPO / "weights").glob("*.md"):
        shutil.copy(card, tmp_path / "weights" / card.name)
    for command in [c for c, who in COMMANDS.items() if who == RUN_HERE
                    and c.startswith("uv run python leaderboard/make.py")]:
        args = _uv_run(command)
        args[1] = str(REPO / args[1])  # the script from the checkout, its paths in the copy
        proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
    for rel in ["leaderboard/LEADERBOARD.md", "README.md", "docs/results.md",
                *(f"weights/{c.name}" for c in (REPO / "weights").glob("*.md"))]:
        assert (tmp_path / rel).read_text() == (REPO / rel).read_text(), rel
