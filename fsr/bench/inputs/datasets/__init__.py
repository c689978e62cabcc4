"""Every dataset type a suite can name (``type:``), and :func:`open_dataset`.

One registry over the three kinds of dataset module: :mod:`.base` (the sample set, folders,
CelebA, CelebA-Test pairs, real low-quality photos), :mod:`.posed` (real pose-labelled sets) and
:mod:`.sweep` (the synthetic pose sweep). Each of those imports only the base module; this one
imports them all, so no dataset module imports another's user.
"""

from __future__ import annotations

from fsr.bench import BenchError
from fsr.bench.inputs.datasets.base import (
    CelebASplitDataset,
    Dataset,
    FolderDataset,
    PairedDataset,
    RealDataset,
    SamplesDataset,
)
from fsr.bench.inputs.datasets.posed import TYPES as POSE_LABELLED
from fsr.bench.inputs.datasets.sweep import SweepDataset

TYPES: dict[str, type[Dataset]] = {
    "samples": SamplesDataset, "folder": FolderDataset, "ffhq": FolderDataset,
    "celeba": CelebASplitDataset, "celeba-test": PairedDataset, "real": RealDataset,
    "sweep": SweepDataset, **POSE_LABELLED}


def open_dataset(cfg: dict) -> Dataset:
    """Build the dataset a suite entry describes (raises DatasetMissing / BenchError)."""
    cls = TYPES.get(cfg["type"])
    if cls is None:
        raise BenchError(f"dataset {cfg['name']}: unknown type {cfg['type']!r}; "
                         f"known: {', '.join(TYPES)}")
    return cls(cfg)
