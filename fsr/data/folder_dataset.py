"""``FaceFolderDataset``: any folder of aligned face images (FFHQ, CelebA-HQ, your own).

GFPGAN-style blind degradation by default (``task: restore``; ranges from
``degradation: {preset: gfpgan, sigma: [0.1, 10], downscale: [0.8, 8], noise: [0, 20],
jpeg: [60, 100]}``), a random one per training sample and a fixed one per image
(``seed_for(key, task_name)``) for validation; ``task: sr`` gives bicubic x``scale`` pairs.

Options: ``dataroot_gt`` (or ``$FSR_FFHQ_DIR``), ``meta_info_file`` (optional: one relative
path per line, e.g. BasicSR's FFHQ list), ``max_images``, ``gt_size`` (images are resized to
it), plus :mod:`fsr.data.pair_base`'s options. Keys are paths relative to the folder, without
the extension.
"""

from __future__ import annotations

import numpy as np
from basicsr.utils.registry import DATASET_REGISTRY

from fsr.data.pair_base import DatasetError, FacePairDataset, resolve_root

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


@DATASET_REGISTRY.register()
class FaceFolderDataset(FacePairDataset):
    def __init__(self, opt: dict) -> None:
        opt = {"task": "restore", **opt}
        super().__init__(opt)
        root = resolve_root(opt, "dataroot_gt", "FSR_FFHQ_DIR", "aligned face images")
        if opt.get("meta_info_file"):
            lines = open(opt["meta_info_file"]).read().split("\n")
            paths = [root / ln.split()[0] for ln in lines if ln.strip()]
        else:
            paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if opt.get("max_images"):
            paths = paths[: int(opt["max_images"])]
        if not paths:
            raise DatasetError(f"{opt.get('name', 'FaceFolderDataset')}: no images "
                               f"({', '.join(IMAGE_SUFFIXES)}) under {root}")
        self.root = root
        self.paths = paths
        self.keys = [str(p.relative_to(root).with_suffix("")) for p in paths]

    def load_source(self, index: int) -> np.ndarray:
        from fsr.imageio import read_image

        return read_image(self.paths[index]).astype(np.float32) / 255.0
