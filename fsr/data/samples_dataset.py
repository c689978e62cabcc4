"""``SampleSetDataset``: the embedded sample set (``samples/``), split by identity.

    >>> ds = SampleSetDataset({'split': 'test', 'task': 'sr', 'scale': 4, 'use_prior': True})
    >>> item = ds[0]; item['lq'].shape, item['render'].shape, item['gt'].shape
    (torch.Size([3, 32, 32]), torch.Size([3, 32, 32]), torch.Size([3, 128, 128]))

Options (besides :mod:`fsr.data.pair_base`'s): ``split`` ('train', 'val', 'test' or null = all),
``samples_dir`` (default ``$FSR_SAMPLES_DIR`` or ``samples/``), ``exclude_grayscale``.
Keys are the benchmark's image keys (``samples/<id>``), so validation inputs equal the
benchmark's for the same task.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from basicsr.utils.registry import DATASET_REGISTRY

from fsr.data.pair_base import DatasetError, FacePairDataset


@DATASET_REGISTRY.register()
class SampleSetDataset(FacePairDataset):
    """Real aligned 256-px face crops of ``samples/``; the ground truth is resized to gt_size."""

    def __init__(self, opt: dict) -> None:
        super().__init__(opt)
        from fsr.data.samples import load_samples

        folder = Path(opt["samples_dir"]).expanduser() if opt.get("samples_dir") else None
        try:
            rows = load_samples(opt.get("split", "train"), folder)
        except (FileNotFoundError, ValueError) as err:
            raise DatasetError(f"{opt.get('name', 'SampleSetDataset')}: {err}") from None
        if opt.get("exclude_grayscale"):
            rows = [r for r in rows if not r.grayscale]
        if not rows:
            raise DatasetError(f"{opt.get('name', 'SampleSetDataset')}: no images in split "
                               f"{opt.get('split', 'train')!r}")
        self.rows = rows
        # the benchmark's image keys (dataset name 'samples'): validation inputs equal its inputs
        self.keys = [f"samples/{r.id}" for r in rows]
        # Sample.path follows $FSR_SAMPLES_DIR; an explicit samples_dir wins here
        self.paths = [folder / r.file if folder else r.path for r in rows]

    def load_source(self, index: int) -> np.ndarray:
        from fsr.data.degradations import resize
        from fsr.imageio import read_image

        img = read_image(self.paths[index]).astype(np.float32) / 255.0
        size = (self.gt_size, self.gt_size)
        return img if img.shape[:2] == size else resize(img, size)
