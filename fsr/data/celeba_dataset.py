"""``CelebADataset``: aligned CelebA with the SAM3D authors' recipe.

The 178x218 aligned images are cropped to the box (18, 38, 160, 180) (PIL order x0, y0, x1,
y1: the face, 142x142); the ground truth is that crop bicubic-resized to 128 and the input the
same crop bicubic-resized to 128/scale (both antialiased); training adds a joint horizontal
flip. Splits come from ``list_eval_partition.txt`` (0 train, 1 val, 2 test).

Options: ``dataroot`` (or ``$FSR_CELEBA_DIR``): a folder holding ``img_align_celeba/`` (or the
images themselves) and ``list_eval_partition.txt``; ``split``: train / val / test;
``max_images``: keep the first N of the split (sorted by file name); plus
:mod:`fsr.data.pair_base`'s options (``task: restore`` degrades the 128 crop instead).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from basicsr.utils.registry import DATASET_REGISTRY

from fsr.data.pair_base import DatasetError, FacePairDataset, resolve_root

CELEBA_BOX = (18, 38, 160, 180)  # x0, y0, x1, y1 on the 178x218 aligned images
SPLITS = {"train": "0", "val": "1", "test": "2"}
HOLDING = "img_align_celeba/ and list_eval_partition.txt (aligned CelebA)"


def celeba_split(root: Path, split: str, max_images: int | None = None,
                 where: str = "CelebADataset") -> list[Path]:
    """The aligned images of ``split`` (train / val / test in ``list_eval_partition.txt``),
    sorted by file name, that exist under ``root`` (``img_align_celeba/`` or ``root`` itself);
    :class:`DatasetError` naming what is missing. Shared with the benchmark's CelebA dataset."""
    images = root / "img_align_celeba" if (root / "img_align_celeba").is_dir() else root
    partition = root / "list_eval_partition.txt"
    if not partition.is_file():
        raise DatasetError(f"{where}: {partition} not found (expected {HOLDING})")
    if split not in SPLITS:
        raise DatasetError(f"CelebA split must be one of {list(SPLITS)}, got {split!r}")
    names = sorted(parts[0] for parts in map(str.split, partition.read_text().splitlines())
                   if len(parts) == 2 and parts[1] == SPLITS[split])
    paths = [images / n for n in names if (images / n).is_file()]
    if max_images:
        paths = paths[: int(max_images)]
    if not paths:
        raise DatasetError(f"{where}: split {split!r} images not found under {images}; "
                           f"expected {HOLDING}")
    return paths


def crop_face(img: np.ndarray, where: object = "image") -> np.ndarray:
    """The authors' face box :data:`CELEBA_BOX` of an aligned 178x218 CelebA image (H, W, C)."""
    x0, y0, x1, y1 = CELEBA_BOX
    if img.shape[0] < y1 or img.shape[1] < x1:
        raise DatasetError(f"{where}: {img.shape[1]}x{img.shape[0]} is not an aligned 178x218 "
                           "CelebA image")
    return np.ascontiguousarray(img[y0:y1, x0:x1])


@DATASET_REGISTRY.register()
class CelebADataset(FacePairDataset):
    lr_from_source = True  # the authors bicubic the 142-px crop straight to 128/scale

    def __init__(self, opt: dict) -> None:
        super().__init__(opt)
        root = resolve_root(opt, "dataroot", "FSR_CELEBA_DIR", HOLDING)
        self.paths = celeba_split(root, str(opt.get("split", "train")), opt.get("max_images"),
                                  opt.get("name", "CelebADataset"))
        self.keys = [p.stem for p in self.paths]

    def load_source(self, index: int) -> np.ndarray:
        from fsr.imageio import read_image

        img = read_image(self.paths[index]).astype(np.float32) / 255.0
        return crop_face(img, self.paths[index])
