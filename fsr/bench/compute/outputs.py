"""A folder of a method's saved outputs, scored as a method: ``NAME=outputs:PATH``.

The field's methods (diffusion and flow restorers with their own code and GPUs) are not run by
fsr; they are run by their users over the inputs ``bench/run.py --export-inputs DIR`` writes,
and their outputs are read back here. The rules (bench/README.md, "Score your own method"):

- Layout: ``PATH/<dataset>/<task>/<image id>.<ext>``, the export's layout. A task whose folder
  is absent for every dataset is not this method's task; a present one must hold every image of
  the run (missing outputs stop the run with their count and first names, unless
  ``--allow-missing``), files no image expects are listed and ignored.
- Formats: PNG, JPEG, BMP, WebP, TIFF; 8-bit (v / 255) or 16-bit (v / 65535, precision kept).
  RGB, or RGBA whose alpha is fully opaque (dropped). Grey outputs and transparent ones are
  refused: silently turning them into RGB would score something the method did not produce.
- Size: an output must be the ground truth's size (the task's ``size``); anything else stops the
  run before any computing with one line naming the first offender (the same rule for every
  method: built-in methods are checked the same way).
- A corrupt, truncated or non-image output is a skipped result (one line naming it, counted in
  the run's printout and manifest; ``--strict`` stops at it instead): nothing else is lost.
- The row's label is ``NAME@outputs:<first 8 hex of the folder's content hash>``; the manifest
  records the path, the hash and the number of files.

    >>> parse_spec("mine=outputs:/tmp/x")
    ('mine', '/tmp/x')
    >>> parse_spec("sam3d-x4-samples") is None
    True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fsr.bench import BenchError

OUTPUT_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
MARK = "=outputs:"


class OutputFileError(BenchError):
    """One output file cannot be scored (corrupt, truncated, grey, transparent)."""


def parse_spec(spec: str) -> tuple[str, str] | None:
    """``'NAME=outputs:PATH'`` -> (NAME, PATH); any other method name -> None."""
    if MARK not in spec:
        return None
    name, _, path = spec.partition(MARK)
    if not name or not path:
        raise BenchError(f"method {spec!r}: write an outputs folder as NAME=outputs:PATH")
    return name, path


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in OUTPUT_EXTS)


def folder_hash(root: Path, files: list[Path]) -> str:
    """sha256 over each file's relative path and content sha256, in sorted order."""
    from fsr.assets.resolver import sha256_of

    h = hashlib.sha256()
    for p in files:
        h.update(f"{p.relative_to(root).as_posix()}\0{sha256_of(p)}\n".encode())
    return h.hexdigest()


def read_output(path: Path) -> np.ndarray:
    """One output file -> float32 HxWx3 in [0, 1], by the rules above (OutputFileError)."""
    from fsr.imageio import ImageReadError, read_samples

    try:
        arr = read_samples(path)
    except ImageReadError as err:
        raise OutputFileError(str(err)) from None
    channels = arr.shape[2]
    if channels in (1, 2):
        raise OutputFileError(f"{path}: greyscale ({arr.dtype}, {channels} channel(s)); outputs "
                              "must be RGB (save a grey result as RGB to score it)")
    if channels == 4:
        if (arr[..., 3] != np.iinfo(arr.dtype).max).any():
            raise OutputFileError(f"{path}: has transparent pixels; outputs must be opaque RGB")
        arr = arr[..., :3]
    return (arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)).astype(np.float32)


@dataclass
class OutputsMethod:
    """A method whose outputs are files: ``load(item, task)`` instead of a network call."""

    name: str
    path: Path
    digest: str  # the folder's content hash
    files: list[Path]
    tasks: set[str]  # task names with a folder under some dataset
    index: dict = field(default_factory=dict)  # (dataset, task, stem) -> [paths]
    needs_prior: bool = False
    task: str = "outputs"  # not a kind: tasks are matched by folder (``serves``)
    scale: int = 0
    weights_sha256: str | None = None
    weights_path: str | None = None
    licence: str = "the method's own (outputs scored by fsr)"

    @property
    def label(self) -> str:
        return f"{self.name}@outputs:{self.digest[:8]}"

    @property
    def signature(self) -> str:
        return self.digest[:12]

    def serves(self, task) -> bool:
        return task.name in self.tasks

    def describe(self) -> dict:
        return {"label": self.label, "name": self.name, "signature": self.signature,
                "task": "outputs", "outputs_path": str(self.path), "outputs_sha256": self.digest,
                "outputs_files": len(self.files), "tasks": sorted(self.tasks),
                "needs_prior": False, "weights_sha256": None, "licence": self.licence,
                "description": f"outputs read from {self.path}"}

    def output_path(self, item, task) -> Path | None:
        found = self.index.get((item.dataset, task.name, item.id), [])
        return found[0] if len(found) == 1 else None

    def load(self, item, task) -> np.ndarray:
        path = self.output_path(item, task)
        if path is None:
            raise OutputFileError(f"{self.label}: no output for {item.key} ({task.name})")
        return read_output(path)


def open_outputs(name: str, path: str, task_names: list[str]) -> OutputsMethod:
    """Index ``path`` (``<dataset>/<task>/<id>.<ext>``) and hash its content."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise BenchError(f"method {name}: outputs folder {root} does not exist")
    files = _files(root)
    if not files:
        raise BenchError(f"method {name}: outputs folder {root} holds no images "
                         f"({', '.join(OUTPUT_EXTS)}); expected <dataset>/<task>/<image id>.png")
    index: dict = {}
    tasks = set()
    for p in files:
        parts = p.relative_to(root).parts
        if len(parts) == 3 and parts[1] in task_names:
            index.setdefault((parts[0], parts[1], Path(parts[2]).stem), []).append(p)
            tasks.add(parts[1])
    if not tasks:
        example = "/".join(files[0].relative_to(root).parts)
        raise BenchError(f"method {name}: {root} has no <dataset>/<task>/ folder named after a "
                         f"task of this suite ({', '.join(task_names)}); found e.g. {example} "
                         "(write outputs in the layout --export-inputs wrote the inputs)")
    return OutputsMethod(name, root, folder_hash(root, files), files, tasks, index)


@dataclass
class OutputsCheck:
    """What a run's images expect of an outputs folder, checked before any computing."""

    missing: list[str]  # "<dataset>/<task>/<id>" with no output
    extra: list[str]  # files no image of the datasets expects
    expected: int
    absent: set[tuple]  # (image key, task name, label) left out of the scores (--allow-missing)


def check_outputs(m: OutputsMethod, plan_items, all_items, tasks_for, task_size: dict,
                  allow_missing: bool) -> OutputsCheck:
    """Missing, extra and duplicated outputs, and every expected output's size (read from its
    header only). Raises BenchError for a size that is not the task's or missing outputs
    without ``allow_missing``."""
    from PIL import Image

    from fsr.bench.compute.store import image_key

    wanted = {(it.dataset, t.name, it.id) for it in all_items for t in tasks_for(it.dataset)
              if m.serves(t)}
    indexed = {p: key for key, paths in m.index.items() for p in paths}
    extra = [str(p.relative_to(m.path)) for p in m.files if indexed.get(p) not in wanted]
    missing, dup, absent, expected = [], [], set(), 0
    for it in plan_items:
        for t in tasks_for(it.dataset):
            if not m.serves(t):
                continue
            expected += 1
            found = m.index.get((it.dataset, t.name, it.id), [])
            if len(found) > 1:
                dup.append(f"{it.dataset}/{t.name}/{it.id} ({', '.join(p.name for p in found)})")
                continue
            if not found:
                missing.append(f"{it.dataset}/{t.name}/{it.id}")
                absent.add((image_key(it), t.name, m.label))
                continue
            try:
                with Image.open(found[0]) as im:
                    w, h = im.size
            except Exception:  # noqa: BLE001 - a broken header is a skipped result later
                continue
            if (w, h) != (task_size[t.name], task_size[t.name]):
                s = task_size[t.name]
                raise BenchError(f"{m.label}: {found[0]} is {w}x{h}; task {t.name} scores "
                                 f"{s}x{s} outputs, the ground truth's size (every output of "
                                 "every method is scored at that size; resize yours if your "
                                 "method's output differs)")
    if dup:
        raise BenchError(f"{m.label}: {len(dup)} image(s) have several output files, e.g. "
                         f"{dup[0]}; keep one per image")
    if missing and not allow_missing:
        raise BenchError(f"{m.label}: {len(missing)} of {expected} outputs missing in {m.path} "
                         f"(first: {', '.join(missing[:3])}); --allow-missing scores the rest")
    return OutputsCheck(missing, extra, expected, absent)
