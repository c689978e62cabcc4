"""Datasets a suite can name, each a list of :class:`Item` plus loaders at a requested size.

Types (``type:`` in the suite):

- ``samples``     the embedded sample set (``fsr.data.samples``), option ``split``.
- ``folder``      a folder of face crops used as ground truth (FFHQ-like); ``path`` or ``env``.
- ``celeba``      aligned CelebA (``img_align_celeba/`` + ``list_eval_partition.txt``): the
                  SAM3D authors' crop box (18, 38, 160, 180), then bicubic to the task size.
- ``celeba-test`` GFPGAN's CelebA-Test pairs: ``lq/`` and ``hq/`` with matching file names.
- ``real``        real low-quality faces, no ground truth (LFW-Test, WebPhoto-Test, WIDER-Test).

Every type takes ``limit`` (first N after sorting) and, for folders, ``env`` (the environment
variable that points at it). A missing folder is a :class:`DatasetMissing` whose message tells
which variable to set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fsr.bench import BenchError

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
README = "bench/README.md"


class DatasetMissing(BenchError):
    """A suite's dataset is not on this machine."""


@dataclass
class Item:
    """One image of a dataset. ``kind``: synthetic (GT only), paired (LQ + GT), real (LQ only)."""

    dataset: str
    id: str
    kind: str
    fingerprint: str  # the file(s)' content hash: part of every cache key
    gt_path: Path | None = None
    lq_path: Path | None = None
    identity: str = ""
    source: str = ""
    pose: tuple[float, float, float] | None = None  # known pose (sample-set metadata)
    meta: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.id}"


def _fingerprint(*paths: Path | None) -> str:
    """The files' content (sha256, first 16 hex digits each): a re-clone or a copied results
    folder keeps its cache, and an edited file is always recomputed, whatever its mtime."""
    from fsr.assets.resolver import sha256_of

    return "|".join(sha256_of(p)[:16] for p in paths if p is not None)


def resize_image(img: np.ndarray, size: int) -> np.ndarray:
    """float32 HxWx3 [0,1] -> size x size, torch bicubic (antialiased when shrinking), clamped."""
    from fsr.data.degradations import resize

    if img.shape[0] == size and img.shape[1] == size:
        return img.astype(np.float32, copy=False)
    return resize(np.ascontiguousarray(img, dtype=np.float32), (size, size))


def _read_float(path: Path) -> np.ndarray:
    from fsr.imageio import read_image

    return read_image(path).astype(np.float32) / 255.0


def _center_square(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return img[top:top + s, left:left + s]


def _where(cfg: dict, holding: str) -> str:
    """How to point the suite at the dataset: its env variable, else its ``path:``."""
    env = cfg.get("env")
    return f"set {env} to a folder holding {holding}" if env else \
        f"set path: in the suite to a folder holding {holding}"


def _folder(cfg: dict, holding: str) -> Path:
    env = cfg.get("env")
    raw = cfg.get("path") or (os.environ.get(env) if env else None)
    path = Path(os.path.expandvars(str(raw))).expanduser() if raw else None
    if path is None or not path.is_dir():
        where = _where(cfg, holding)
        got = f" ({path} is not a folder)" if path is not None else ""
        raise DatasetMissing(f"dataset {cfg['name']} not found{got}: {where} (see {README})")
    return path


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and p.is_file())


def _limit(items: list, cfg: dict) -> list:
    n = cfg.get("limit")
    return items[: int(n)] if n else items


class Dataset:
    """Base: ``items`` plus ``load_gt(item, size)`` / ``load_lq(item, size)`` (float32 HxWx3)."""

    kind = "synthetic"
    holding = "images"

    def __init__(self, cfg: dict) -> None:
        self.cfg = cfg
        self.name = cfg["name"]
        self.items: list[Item] = []
        # files left out when the dataset opened (a malformed pose label): what, file, reason,
        # key; the run prints and records them, --strict stops at the first (engine.make_plan)
        self.skipped: list[dict] = []

    def skip_file(self, what: str, path: Path, reason: str) -> None:
        """Leave ``path``'s image out of the set with a reason, instead of failing to open."""
        self.skipped.append({"what": what, "file": str(path), "reason": reason,
                             "key": f"{self.name}/{Path(path).stem}"})

    def keep(self, items: list[Item], nothing: str) -> None:
        """``items`` (cut to the suite's ``limit``) become the set; none: one line saying what
        the folder lacks (``nothing``) and how to point the suite at it."""
        if not items:
            raise DatasetMissing(f"dataset {self.name}: {nothing}: "
                                 f"{_where(self.cfg, self.holding)}")
        self.items = _limit(items, self.cfg)

    def describe(self) -> str:
        return f"{self.name} ({self.cfg['type']}, {len(self.items)} images)"

    def load_gt(self, item: Item, size: int) -> np.ndarray:
        if item.gt_path is None:
            raise BenchError(f"dataset {self.name} has no ground truth")
        return resize_image(_center_square(_read_float(item.gt_path)), size)

    def load_lq(self, item: Item, size: int | None) -> np.ndarray:
        if item.lq_path is None:
            raise BenchError(f"dataset {self.name} has no low-quality inputs")
        img = _center_square(_read_float(item.lq_path))
        return img if size is None else resize_image(img, size)


class FolderDataset(Dataset):
    holding = "face crops (PNG/JPEG, square, aligned)"

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        folder = _folder(cfg, cfg.get("holding", self.holding))
        files = _images(folder)
        if not files:
            raise DatasetMissing(f"dataset {self.name}: no images in {folder} (see {README})")
        self.items = [Item(self.name, p.stem, self.kind, _fingerprint(p), gt_path=p,
                           source=str(folder)) for p in _limit(files, cfg)]


class RealDataset(FolderDataset):
    kind = "real"
    holding = "real low-quality face crops (e.g. LFW-Test, WebPhoto-Test, WIDER-Test)"

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        for it in self.items:
            it.lq_path, it.gt_path = it.gt_path, None


class CelebASplitDataset(Dataset):
    """fsr.data's CelebA (its split listing and the authors' crop box), at the task's size."""

    holding = "img_align_celeba/ and list_eval_partition.txt"

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        from fsr.data.celeba_dataset import SPLITS, celeba_split
        from fsr.data.pair_base import DatasetError

        root = _folder(cfg, self.holding)
        split = str(cfg.get("split", "test"))
        if split not in SPLITS:
            raise BenchError(f"dataset {self.name}: split must be one of {list(SPLITS)}")
        try:
            paths = celeba_split(root, split, cfg.get("limit"), f"dataset {self.name}")
        except DatasetError as err:
            raise DatasetMissing(f"{err}: set {cfg.get('env')} (see {README})") from None
        self.items = [Item(self.name, p.stem, self.kind, _fingerprint(p), gt_path=p,
                           source="CelebA") for p in paths]

    def load_gt(self, item: Item, size: int) -> np.ndarray:
        from fsr.data.celeba_dataset import crop_face

        return resize_image(crop_face(_read_float(item.gt_path), item.gt_path), size)


class PairedDataset(Dataset):
    kind = "paired"
    holding = "lq/ and hq/ with matching file names (GFPGAN CelebA-Test)"
    NAMES = (("lq", "hq"), ("celeba_512_validation_lq", "celeba_512_validation"))

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        root = _folder(cfg, self.holding)
        for lq_name, hq_name in self.NAMES:
            if (root / lq_name).is_dir() and (root / hq_name).is_dir():
                break
        else:
            raise DatasetMissing(f"dataset {self.name}: {root} has no lq/ and hq/ folders: set "
                                 f"{cfg.get('env')} to a folder holding {self.holding} "
                                 f"(see {README})")
        hq = {p.stem: p for p in _images(root / hq_name)}
        pairs = _limit([p for p in _images(root / lq_name) if p.stem in hq], cfg)
        items = [Item(self.name, p.stem, self.kind, _fingerprint(p, hq[p.stem]), gt_path=hq[p.stem],
                      lq_path=p, source=str(root)) for p in pairs]
        if not items:
            raise DatasetMissing(f"dataset {self.name}: no matching lq/hq pairs in {root}")
        self.items = items


class SamplesDataset(Dataset):
    holding = "the embedded sample set"

    def __init__(self, cfg: dict) -> None:
        super().__init__(cfg)
        from fsr.data.samples import load_samples

        try:
            samples = load_samples(split=cfg.get("split", "test"))
        except FileNotFoundError as err:
            raise DatasetMissing(f"dataset {self.name} not found: {err}") from None
        if cfg.get("photos_only", True):
            samples = [s for s in samples if getattr(s, "is_photo", True)]
        self._samples = {}
        items = []
        for s in sorted(samples, key=lambda s: s.id):
            pose = (s.yaw, s.pitch, s.roll)  # estimated on the full-resolution crop
            known = bool(getattr(s, "pose_ok", True)) and all(
                v is not None and np.isfinite(v) for v in pose)
            path = Path(s.path)
            items.append(Item(self.name, str(s.id), self.kind, _fingerprint(path), gt_path=path,
                              identity=str(s.identity), source=str(s.source),
                              pose=tuple(float(v) for v in pose) if known else None,
                              meta={"native_size": s.native_size}))
            self._samples[str(s.id)] = s
        if not items:
            raise DatasetMissing(f"dataset {self.name}: the sample set has no "
                                 f"{cfg.get('split', 'test')} images")
        self.items = _limit(items, cfg)

    def load_gt(self, item: Item, size: int) -> np.ndarray:
        from fsr.data.samples import load_image

        return np.asarray(load_image(self._samples[item.id], size), dtype=np.float32)
