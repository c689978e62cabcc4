"""bench/speed.py's default mode end to end on two cheap rows: the printed table's columns
hold what the docstring says (parameters counted independently here), and bad rows are one
argparse line; bench/scoring_speed.py's bad arguments too, and the timing helpers both scripts
share (fsr.bench.compute.timing). Timings are printed numbers, never asserted beyond being
positive."""

from __future__ import annotations

import subprocess
import sys

from bench_testing import REPO

SPEED = REPO / "bench" / "speed.py"


def _table(stdout: str) -> dict[str, dict[str, str]]:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("| ")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    return {cells[0]: dict(zip(head, cells, strict=True))
            for cells in ([c.strip() for c in ln.strip("|").split("|")] for ln in lines[1:])}


def test_speed_table_rows_and_parameter_counts():
    from basicsr.utils.registry import ARCH_REGISTRY

    import fsr.archs  # noqa: F401 - registers the architectures

    done = subprocess.run([sys.executable, str(SPEED), "--quick", "--threads", "1",
                           "--rows", "bicubic-x4,sam3d-x4"], capture_output=True, text=True,
                          timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _table(done.stdout)
    assert set(rows) == {"bicubic-x4", "sam3d-x4"}
    sam3d = ARCH_REGISTRY.get("SAM3D")(scale=4)
    assert rows["sam3d-x4"]["params"] == f"{sum(p.numel() for p in sam3d.parameters()) / 1e6:.2f} M"
    assert rows["sam3d-x4"]["in -> out"] == "32 -> 128"
    assert float(rows["sam3d-x4"]["GFLOPs/face"]) > 0
    assert rows["bicubic-x4"]["params"] == "0" and rows["bicubic-x4"]["GFLOPs/face"] == "-"
    for row in rows.values():
        assert float(row["ms/face b1"]) > 0 and float(row["ms/face b8"]) > 0


def test_speed_unknown_row_is_one_line():
    done = subprocess.run([sys.executable, str(SPEED), "--rows", "nope"], capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2
    assert "unknown rows ['nope']; known: bicubic-x4" in done.stderr
    assert "Traceback" not in done.stderr


def test_scoring_speed_bad_arguments_are_one_line():
    done = subprocess.run([sys.executable, str(REPO / "bench" / "scoring_speed.py"), "--pairs",
                           "0"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2
    assert "--pairs and --batch must be at least 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_shared_timing_helpers():
    import time

    from fsr.bench.compute.timing import load_average, machine_load, timed

    assert timed(lambda: time.sleep(0.05)) >= 0.05
    assert load_average() >= 0 and machine_load("at start").startswith("at start ")
    assert machine_load().endswith(" CPUs")
