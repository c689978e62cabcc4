"""Helpers the bench tests share: load a repo script by path, run bench/run.py in-process,
and write a tiny suite over a folder of small real face crops."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_script(name: str, path: Path):
    """Import the file ``path`` (a script, not a package module) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_bench(*args: str) -> int:
    """``bench/run.py`` ``args`` ``--quiet`` in this process; its exit code."""
    return load_script("bench_run", REPO / "bench" / "run.py").main([*args, "--quiet"])


def write_face_suite(root: Path, template: str, faces: dict[str, Path], size: int) -> Path:
    """``root/faces/<stem>.png`` for each ``{stem: source}`` (centre square, bicubic to
    ``size``) and ``root/<root name>.yml`` = ``template.format(path=that folder)``."""
    from PIL import Image

    folder = root / "faces"
    folder.mkdir()
    for stem, src in faces.items():
        im = Image.open(src).convert("RGB")
        s = min(im.size)
        left, top = (im.size[0] - s) // 2, (im.size[1] - s) // 2
        im.crop((left, top, left + s, top + s)).resize((size, size), Image.BICUBIC).save(
            folder / f"{stem}.png")
    path = root / f"{root.name}.yml"
    path.write_text(template.format(path=folder))
    return path
