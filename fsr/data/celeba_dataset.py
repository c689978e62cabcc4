"""``CelebADataset``: aligned CelebA with the SAM3D authors' recipe.

The 178x218 aligned images are cropped to the box (18, 38, 160, 180) (PIL order x0, y0, x1,
y1: the face, 142x142); the ground truth is that crop bicubic-resized to 128 and the input the
same crop bicubic-resized to 128/scale (both antialiased); training adds a joint horizontal
flip. Splits come from ``list_eval_partition.txt`` (0 train, 1 val, 2 test).

Options: ``dataroot`` (or ``$FSR_CELEBA_DIR``): a folder holding ``img_align_celeba/`` (or the
images themselves) and ``list_eval_partition.txt``; ``split``: train / val / test;
``max_images``: keep the first N of the split (sorted by file name); plus
:mod:`fsr.data.pair_base`'s options (``task: blind`` degrades the 128 crop instead).
"""

from __future__ import annotations

import numpy as np
from basicsr.utils.registry import DATASET_REGISTRY

from fsr.data.pair_base import DatasetError, FacePairDataset, resolve_root

CELEBA_BOX = (18, 38, 160, 180)  # x0, y0, x1, y1 on the 178x218 aligned images
SPLITS = {"train": "0", "val": "1", "test": "2"}
HOLDING = "img_align_celeba/ and list_eval_partition.txt (aligned CelebA)"


@DATASET_REGISTRY.register()
class CelebADataset(FacePairDataset):
    lr_from_source = True  # the authors bicubic the 142-px crop straight to 128/scale

    def __init__(self, opt: dict) -> None:
        super().__init__(opt)
        root = resolve_root(opt, "dataroot", "FSR_CELEBA_DIR", HOLDING)
        images = root / "img_align_celeba" if (root / "img_align_celeba").is_dir() else root
        partition = root / "list_eval_partition.txt"
        if not partition.is_file():
            raise DatasetError(f"{opt.get('name', 'CelebADataset')}: {partition} not found "
                               f"(expected {HOLDING})")
        split = str(opt.get("split", "train"))
        if split not in SPLITS:
            raise DatasetError(f"CelebA split must be one of {list(SPLITS)}, got {split!r}")
        names = sorted(parts[0] for parts in map(str.split, partition.read_text().splitlines())
                       if len(parts) == 2 and parts[1] == SPLITS[split])
        if opt.get("max_images"):
            names = names[: int(opt["max_images"])]
        paths = [images / n for n in names]
        missing = [p for p in paths[:50] if not p.is_file()]
        if not paths or missing:
            first = missing[0] if missing else images
            raise DatasetError(f"{opt.get('name', 'CelebADataset')}: split {split!r} images not "
                               f"found (e.g. {first}); expected {HOLDING}")
        self.paths = paths
        self.keys = [p.stem for p in paths]

    def load_source(self, index: int) -> np.ndarray:
        from fsr.imageio import read_image

        img = read_image(self.paths[index]).astype(np.float32) / 255.0
        x0, y0, x1, y1 = CELEBA_BOX
        if img.shape[0] < y1 or img.shape[1] < x1:
            raise DatasetError(f"{self.paths[index]}: {img.shape[1]}x{img.shape[0]} is not an "
                               "aligned 178x218 CelebA image")
        return np.ascontiguousarray(img[y0:y1, x0:x1])
