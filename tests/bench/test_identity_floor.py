"""identity_floor.csv: identity statistics over pairs of different people of a labelled set."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd

REPO = Path(__file__).resolve().parents[2]

IMAGES = {"Justin-Bieber2_crop-0": "justin-bieber", "bieber_small-0": "justin-bieber",
          "audrey-0": "audrey-hepburn", "audrey_crop-0": "audrey-hepburn",
          "obama-0": "barack-obama", "obama2-0": "barack-obama"}


def _cache(suite, tmp_path):
    """The run's cache for IMAGES: image lines and the compute floor's ground-truth embeddings."""
    from fsr.bench.compute import lib
    from fsr.bench.compute.identity_embed import embedding_lines, floor_specs, labelled
    from fsr.bench.compute.store import Store, image_key
    from fsr.bench.inputs.datasets import open_dataset

    ds = open_dataset({"name": "samples", "type": "samples", "split": "test"})
    items = [it for it in ds.items if it.id in IMAGES]
    assert len(items) == len(IMAGES) and labelled(items)
    specs = floor_specs(suite)
    wanted = [(it, spec, 128, ds.load_gt(it, 128)) for it in items for spec in specs]
    lines = embedding_lines(lib.Metrics(), {s.column: "sig" for s in specs}, wanted)
    store = Store(tmp_path / "cache")
    store.append([{"type": "image", "key": image_key(it), "dataset": "samples", "id": it.id}
                  for it in items] + lines)
    return SimpleNamespace(suite=suite, image_keys=sorted(image_key(it) for it in items)), store


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
    info, store = _cache(suite, tmp_path)
    assert {r["model"] for r in store.records.values() if r["type"] == "embed"} == {"dlib-resnet"}
    table = write_identity_floor(info, df, store, tmp_path)
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
    write_identity_floor(info, df.assign(identity=""), store, tmp_path)
    assert not (tmp_path / "identity_floor.csv").exists()


def test_a_missing_embedding_is_one_line(tmp_path):
    import pytest

    from fsr.bench import BenchError
    from fsr.bench.compute.store import Store
    from fsr.bench.inputs.suite import parse_suite
    from fsr.bench.report.identity_floor import identity_floor

    suite = parse_suite({
        "name": "floor", "datasets": [{"name": "samples", "type": "samples", "split": "test"}],
        "tasks": [{"name": "sr-x4", "kind": "sr", "scale": 4, "size": 128,
                   "degradation": {"type": "bicubic", "scale": 4}}],
        "methods": ["bicubic-x4"], "metrics": ["identity-dist"]}, tmp_path / "floor.yml")
    df = pd.DataFrame([{"dataset": "samples", "image_id": i, "identity": who, "task": "sr-x4",
                        "method": "bicubic-x4", "metric": "identity-dist", "value": 0.3,
                        "bucket": "0-15"} for i, who in IMAGES.items()])
    info, store = _cache(suite, tmp_path)
    lost = next(k for k, r in store.records.items() if r["type"] == "embed")
    kept = Store(tmp_path / "cache2")
    kept.append([r for k, r in store.records.items() if k != lost])
    with pytest.raises(BenchError, match="1 cached embedding"):
        identity_floor(info, df, kept)
