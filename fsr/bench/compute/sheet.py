"""The methods' contact sheet, made by the benchmark run itself: ground truth | input | every
method, for a few test faces across the pose buckets (on a synthetic-pose sweep: a few sources
at every target yaw), per dataset and task.

While the run computes a method's outputs, the picked images' tiles are written to
``<out>/sheet/<dataset>/<task>/<method>/<image>.png`` (with ``_gt`` and ``_input``); a resumed
run finds them there. At the end :func:`tile_sheets` tiles them into
``plots/sheet_<dataset>_<task>.png``. The picks are fixed by the dataset (sorted ids), so two
runs of one suite show the same faces; they are written beside the tiles (``sheet/picks.json``),
so ``--merge`` tiles the shards' tiles without the datasets (:func:`merge_tiles`).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np

SWEEP_SOURCES = 2  # sources shown at every target yaw of a sweep
PER_BUCKET = 1  # images shown per |yaw| bucket of a real-pose dataset
UNPOSED = 4  # images shown of a dataset whose pose is measured only during the run (folders)
TILE = 128
PICKS = "picks.json"  # {dataset: {image id: |yaw|}} of the tiles in the folder


def _write_picks(root: Path, picks: dict[tuple[str, str], float]) -> None:
    """``root/picks.json``: ``{dataset: {image id: |yaw|}}``."""
    nested: dict[str, dict[str, float]] = {}
    for (ds, image_id), yaw in picks.items():
        nested.setdefault(ds, {})[image_id] = yaw
    root.mkdir(parents=True, exist_ok=True)
    (root / PICKS).write_text(json.dumps(nested, indent=1, sort_keys=True))


def merge_tiles(dirs: list[Path], out_dir: Path) -> dict[tuple[str, str], float]:
    """Copy the shard runs' tiles into ``out_dir/sheet``; the union of their picks."""
    picks: dict[tuple[str, str], float] = {}
    for d in dirs:
        src = Path(d) / "sheet"
        if not (src / PICKS).is_file():
            continue
        if src.resolve() != (Path(out_dir) / "sheet").resolve():
            shutil.copytree(src, Path(out_dir) / "sheet", dirs_exist_ok=True)
        for ds, ids in json.loads((src / PICKS).read_text()).items():
            picks.update({(ds, i): float(y) for i, y in ids.items()})
    if picks:
        _write_picks(Path(out_dir) / "sheet", picks)
    return picks


def _bucket(yaw: float, edges: list[float]) -> int:
    return int(np.searchsorted(np.asarray(edges, float), abs(yaw), side="right"))


def pick(plan) -> dict[tuple[str, str], float]:
    """(dataset, image id) -> |yaw| of the images the sheet shows (NaN: not known yet, a
    dataset without pose labels, whose first :data:`UNPOSED` ids by name are shown)."""
    edges = list(plan.suite.edges)
    chosen: dict[tuple[str, str], float] = {}
    for ds in plan.datasets:
        items = sorted((it for it in ds.items if it.pose is not None), key=lambda it: it.id)
        if not items:  # a folder: its pose is measured during the run, after the picks
            chosen.update({(ds.name, it.id): math.nan
                           for it in sorted(ds.items, key=lambda it: it.id)[:UNPOSED]})
            continue
        if any("yaw_target" in (it.meta.get("image_fields") or {}) for it in items):  # sweep
            sources = list(dict.fromkeys(it.source for it in items))[:SWEEP_SOURCES]
            chosen.update({(ds.name, it.id): abs(it.pose[0]) for it in items
                           if it.source in sources})
            continue
        seen: dict[int, int] = {}
        for it in items:
            b = _bucket(it.pose[0], edges)
            if seen.get(b, 0) < PER_BUCKET:
                seen[b] = seen.get(b, 0) + 1
                chosen[(ds.name, it.id)] = abs(it.pose[0])
    return chosen


class SheetTiles:
    """Writes the picked images' tiles as the run computes them."""

    def __init__(self, plan, out_dir: Path) -> None:
        self.root = Path(out_dir) / "sheet"
        self.picks = pick(plan)
        if self.picks:
            _write_picks(self.root, self.picks)

    def _write(self, path: Path, img: np.ndarray) -> None:
        from fsr.imageio import to_uint8, write_image

        if not path.is_file():
            write_image(path, to_uint8(img))

    def add(self, task, results: list[tuple]) -> None:
        """``results``: (ImageJob, record, output (1, 3, H, W) tensor) of one task."""
        from fsr.bench.inputs.datasets.base import resize_image

        for job, rec, out in results:
            item = job.item
            if (item.dataset, item.id) not in self.picks:
                continue
            folder = self.root / item.dataset / task.name
            name = f"{item.id}.png"
            pred = out[0].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
            self._write(folder / rec["method"] / name, pred)
            self._write(folder / "_input" / name, resize_image(job.lq_of(task), task.size))
            if item.kind != "real":
                self._write(folder / "_gt" / name, job.gt_at(task.size))


def tile_sheets(out_dir: Path, datasets: list[str], tasks: list[str],
                methods: dict[str, list[str]], picks: dict[tuple[str, str], float]) -> list[str]:
    """Tile ``out_dir/sheet``'s tiles: a sheet per dataset and task, rows = ``picks`` by |yaw|,
    columns = ground truth, input, ``methods[task]`` (those with tiles)."""
    from PIL import Image, ImageDraw

    root = Path(out_dir) / "sheet"
    written = []
    for ds_name in datasets:
        rows = sorted((i for d, i in picks if d == ds_name),
                      key=lambda i: (math.isnan(picks[ds_name, i]), picks[ds_name, i], i))
        for task_name in tasks:
            folder = root / ds_name / task_name
            cols = ["_gt", "_input"] + list(methods.get(task_name, []))
            cols = [c for c in cols if (folder / c).is_dir()]
            if "input" in cols:  # restoration's 'input' method is the input column already
                cols.remove("_input")
            shown = [i for i in rows if (folder / "_input" / f"{i}.png").is_file()]
            if not shown or len(cols) < 2:
                continue
            head, side = 28, 150
            sheet = Image.new("RGB", (side + TILE * len(cols), head + TILE * len(shown)), "white")
            draw = ImageDraw.Draw(sheet)
            for c, col in enumerate(cols):
                label = {"_gt": "ground truth", "_input": "input"}.get(col, col)
                draw.text((side + c * TILE + 2, 2), label[:21], fill="black")
                draw.text((side + c * TILE + 2, 14), label[21:42], fill="black")
            for r, image_id in enumerate(shown):
                y = head + r * TILE
                draw.text((2, y + 4), image_id[:24], fill="black")
                yaw = picks[ds_name, image_id]
                draw.text((2, y + 18), "|yaw| in results" if math.isnan(yaw) else f"|yaw| {yaw:.0f}",
                          fill="black")
                for c, col in enumerate(cols):
                    p = folder / col / f"{image_id}.png"
                    if p.is_file():
                        tile = Image.open(p).convert("RGB").resize((TILE, TILE))
                        sheet.paste(tile, (side + c * TILE, y))
            rel = f"plots/sheet_{ds_name}_{task_name}.png"
            (Path(out_dir) / "plots").mkdir(parents=True, exist_ok=True)
            sheet.save(Path(out_dir) / rel, optimize=True)
            written.append(rel)
    return written
