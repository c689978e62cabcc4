"""The methods' contact sheet: which faces it picks, and the tiled sheet from the run's tiles."""

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image

from fsr.bench.compute.sheet import SheetTiles, pick, tile_sheets  # noqa: E402
from fsr.bench.inputs.datasets.base import Item  # noqa: E402


@dataclass
class _Job:
    item: Item
    gt: np.ndarray
    lqs: dict = field(default_factory=dict)

    def gt_at(self, size):
        return self.gt

    def lq_of(self, task):
        return self.gt[::2, ::2]


def _plan():
    real = SimpleNamespace(name="real", items=[
        Item("real", f"r{i}", "synthetic", "f", pose=(yaw, 0.0, 0.0))
        for i, yaw in enumerate([2.0, 5.0, 20.0, 40.0, 41.0])])
    sweep = SimpleNamespace(name="sweep", items=[
        Item("sweep", f"{src}@yaw{y:+03d}", "synthetic", "f", source=src, pose=(y, 0.0, 0.0),
             meta={"image_fields": {"yaw_target": y}})
        for src in ("a", "b", "c") for y in (0, 30, 60)])
    task = SimpleNamespace(name="sr-x4", size=16)
    methods = {"sr-x4": [SimpleNamespace(label="bicubic-x4"), SimpleNamespace(label="net")]}
    suite = SimpleNamespace(edges=[0, 15, 30, 45, 60], tasks=[task])
    return SimpleNamespace(suite=suite, datasets=[real, sweep], methods=methods), task


def _results(plan, seed: int) -> list[tuple]:
    """(job, record, output) of both methods on every image, random pixels."""
    rng = np.random.default_rng(seed)
    results = []
    for ds in plan.datasets:
        for it in ds.items:
            gt = rng.random((16, 16, 3)).astype(np.float32)
            for label in ("bicubic-x4", "net"):
                results.append((_Job(it, gt), {"method": label}, torch.rand(1, 3, 16, 16)))
    return results


def write_sheets(out_dir, plan):
    """What bench/run.py's finish tiles for one plan: every dataset and task."""
    return tile_sheets(out_dir, [d.name for d in plan.datasets],
                       [t.name for t in plan.suite.tasks],
                       {t: [m.label for m in ms] for t, ms in plan.methods.items()}, pick(plan))


def test_pick_one_per_bucket_and_two_sweep_sources_at_every_yaw():
    plan, _ = _plan()
    picks = pick(plan)
    assert sorted(i for d, i in picks if d == "real") == ["r0", "r2", "r3"]  # 0-15, 15-30, 30-45
    assert sorted(i for d, i in picks if d == "sweep") == [
        "a@yaw+00", "a@yaw+30", "a@yaw+60", "b@yaw+00", "b@yaw+30", "b@yaw+60"]


def test_tiles_then_sheet_rows_by_yaw_columns_gt_input_methods(tmp_path):
    plan, task = _plan()
    tiles = SheetTiles(plan, tmp_path)
    results = _results(plan, seed=0)
    tiles.add(task, results)
    assert not (tmp_path / "sheet" / "sweep" / "sr-x4" / "net" / "c@yaw+00.png").exists()
    written = write_sheets(tmp_path, plan)
    assert written == ["plots/sheet_real_sr-x4.png", "plots/sheet_sweep_sr-x4.png"]
    sheet = Image.open(tmp_path / written[1])
    # 150 px label column + 4 tiles (gt, input, 2 methods); 28 px header + 6 rows
    assert sheet.size == (150 + 4 * 128, 28 + 6 * 128)
    tile = (tmp_path / "sheet" / "sweep" / "sr-x4" / "_gt" / "a@yaw+30.png")
    got = np.asarray(sheet)[28 + 2 * 128:28 + 3 * 128, 150:150 + 128]  # row 3 = a@yaw+30
    want = np.asarray(Image.open(tile).convert("RGB").resize((128, 128)))
    assert np.array_equal(got, want)


def test_merge_tiles_of_two_shards_gives_the_single_runs_sheet(tmp_path):
    """--merge: each shard wrote the tiles of its own images; tiled together they are the
    single run's sheet, without the datasets (the picks travel in sheet/picks.json)."""
    from fsr.bench.compute.sheet import merge_tiles

    plan, task = _plan()
    results = _results(plan, seed=1)
    SheetTiles(plan, tmp_path / "single").add(task, results)
    single = write_sheets(tmp_path / "single", plan)
    shards = [tmp_path / "shard1", tmp_path / "shard2"]
    for k, shard in enumerate(shards):  # alternate images, as --shard k/2 splits them
        items = [it for ds in plan.datasets for it in ds.items][k::2]
        SheetTiles(plan, shard).add(task, [r for r in results if r[0].item in items])
    picks = merge_tiles(shards, tmp_path / "merged")
    assert picks == pick(plan)
    merged = tile_sheets(tmp_path / "merged", ["real", "sweep"], ["sr-x4"],
                         {"sr-x4": ["bicubic-x4", "net"]}, picks)
    assert merged == single
    for rel in single:
        assert (tmp_path / "merged" / rel).read_bytes() == (tmp_path / "single" / rel).read_bytes()
    assert merge_tiles([tmp_path / "nowhere"], tmp_path / "empty") == {}


def test_a_folder_without_pose_shows_its_first_ids_by_name(tmp_path):
    """A folder dataset's pose is measured during the run, after the picks: the sheet still
    shows its first images by name, labelled as such (and the picks survive picks.json)."""
    import json
    import math

    plan, task = _plan()
    folder = SimpleNamespace(name="mine", items=[Item("mine", f"p{i}", "real", "f", pose=None)
                                                 for i in (5, 3, 1, 0, 4, 2)])
    plan.datasets = [folder]
    picks = pick(plan)
    assert sorted(picks) == [("mine", f"p{i}") for i in range(4)]
    assert all(math.isnan(y) for y in picks.values())
    tiles = SheetTiles(plan, tmp_path)
    tiles.add(task, _results(plan, seed=2))
    assert json.loads((tmp_path / "sheet" / "picks.json").read_text(),
                      parse_constant=lambda c: c) == {"mine": {f"p{i}": "NaN" for i in range(4)}}
    written = write_sheets(tmp_path, plan)
    assert written == ["plots/sheet_mine_sr-x4.png"]
    # real images have no ground-truth column: input, 2 methods; 4 rows
    assert Image.open(tmp_path / written[0]).size == (150 + 3 * 128, 28 + 4 * 128)
