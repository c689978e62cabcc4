"""identity_floor.csv: identity statistics over pairs of different people of a labelled set."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd

REPO = Path(__file__).resolve().parents[2]

IMAGES = {"Justin-Bieber2_crop-0": "justin-bieber", "bieber_small-0": "justin-bieber",
          "audrey-0": "audrey-hepburn", "audrey_crop-0": "audrey-hepburn",
          "obama-0": "barack-obama", "obama2-0": "barack-obama"}


def test_floor_over_different_people_of_the_sample_set(tmp_path):
    from fsr.bench.inputs.suite import parse_suite
    from fsr.bench.report.identity_floor import write_identity_floor

    suite = parse_suite({
        "name": "floor", "datasets": [{"name": "samples", "type": "samples", "split": "test"}],
        "tasks": [{"name": "sr-x4", "kind": "sr", "scale": 4, "size": 128,
                   "degradation": {"type": "bicubic", "scale": 4}}],
        "methods": ["bicubic-x4"], "metrics": ["psnr", "identity-dist", "identity-match"],
        "bootstrap": {"n": 200, "seed": 0}}, tmp_path / "floor.yml")
    # results.csv's per-image columns the floor reads (values are irrelevant to it)
    df = pd.DataFrame([{"dataset": "samples", "image_id": i, "identity": who, "task": "sr-x4",
                        "method": "bicubic-x4", "metric": "psnr", "value": 30.0,
                        "bucket": "0-15"} for i, who in IMAGES.items()])
    table = write_identity_floor(SimpleNamespace(suite=suite), df, tmp_path)
    assert (tmp_path / "identity_floor.csv").is_file()
    rows = table[(table["bucket"] == "all")].set_index(["metric", "pairs"])
    assert rows.loc[("identity-dist", "different"), "n_pairs"] == 12  # 15 pairs, 3 same
    assert rows.loc[("identity-dist", "same"), "n_pairs"] == 3
    assert rows.loc[("identity-dist", "different"), "mean"] > 0.6 > \
        rows.loc[("identity-dist", "same"), "mean"]
    assert rows.loc[("identity-match", "different"), "mean"] == 0.0
    assert rows.loc[("identity-match", "same"), "mean"] == 1.0
    assert set(table["model"]) == {"dlib-resnet"}
    # the leaderboard's row under the methods, aligned with the table's columns
    from fsr.bench.leaderboard.identity_floor import floor_rows, read_floor

    (row,) = floor_rows(read_floor(tmp_path), "samples", "sr-x4", "all",
                        ["psnr", "identity-dist", "identity-match"])
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "*different people (floor)*" and cells[1] == "-"
    assert cells[2].startswith(f"{rows.loc[('identity-dist', 'different'), 'mean']:.3f} [")
    assert cells[3].startswith("0.000 [") and cells[4] == "12 pairs"
    # no identity column or no labels: no file
    write_identity_floor(SimpleNamespace(suite=suite), df.assign(identity=""), tmp_path)
    assert not (tmp_path / "identity_floor.csv").exists()
