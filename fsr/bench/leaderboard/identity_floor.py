"""Leaderboard rows for ``identity_floor.csv``: an identity column's value over pairs of
*different* people of the same set, printed under the methods so a reader sees the scale
(dlib: a swapped face scores distance ~0.83 and same-person rate ~0.002 on the sample set).

    floors = read_floor(run_dir)
    lines += table(rows, sets, cols, lower)
    lines += floor_rows(floors, ds, task, bucket, cols_of_that_table)
"""

from __future__ import annotations

import csv
from pathlib import Path

LABEL = "*different people (floor)*"


def read_floor(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / "identity_floor.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["pairs"] == "different"]


def floor_rows(floors: list[dict], dataset: str, task: str, bucket: str,
               cols: list[str]) -> list[str]:
    """One Markdown row aligned with a leaderboard table's columns (``cols`` + n), or none.

    >>> fl = [{'dataset': 's', 'task': 't', 'bucket': 'all', 'metric': 'identity-dist',
    ...        'mean': '0.834', 'ci_lo': '0.830', 'ci_hi': '0.837', 'n_pairs': '2570'}]
    >>> floor_rows(fl, 's', 't', 'all', ['psnr', 'identity-dist'])
    ['| *different people (floor)* | - | 0.834 [0.830, 0.837] | 2570 pairs |']
    """
    mine = {r["metric"]: r for r in floors
            if (r["dataset"], r["task"], r["bucket"]) == (dataset, task, bucket)}
    if not any(c in mine for c in cols):
        return []
    cells = [f"{float(mine[c]['mean']):.3f} [{float(mine[c]['ci_lo']):.3f}, "
             f"{float(mine[c]['ci_hi']):.3f}]" if c in mine else "-" for c in cols]
    pairs = max(int(mine[c]["n_pairs"]) for c in cols if c in mine)
    return [f"| {LABEL} | " + " | ".join(cells) + f" | {pairs} pairs |"]
