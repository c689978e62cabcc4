"""A model's validation during training sees exactly the benchmark's inputs for the same
image and task (on the val split, which the benchmark reads with ``split: val``), so training
curves and the benchmark measure the same thing; the test split is left to the benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("task, scale, spec, bench_task", [
    ("sr", 4, {"type": "bicubic", "scale": 4}, "sr-x4"),
    ("sr", 8, {"type": "bicubic", "scale": 8}, "sr-x8"),
    ("restore", 1, {"type": "blind", "preset": "gfpgan"}, "restore"),
])
def test_validation_inputs_equal_the_benchmarks(task, scale, spec, bench_task):
    from fsr.bench.compute import lib
    from fsr.bench.inputs.datasets import open_dataset
    from fsr.data.samples_dataset import SampleSetDataset

    val = SampleSetDataset({"name": "samples-val", "phase": "val", "split": "val",
                            "task": task, "scale": scale, "gt_size": 128})
    bench = open_dataset({"name": "samples", "type": "samples", "split": "val"})
    items = {item.key: item for item in bench.items}
    for index in (0, 7, len(val) - 1):
        ours = val[index]
        item = items[ours["key"]]
        gt = bench.load_gt(item, 128)
        lq = lib.degrade(gt, spec, item.key, bench_task)
        np.testing.assert_allclose(ours["gt"].permute(1, 2, 0).numpy(), gt, atol=1e-6)
        np.testing.assert_allclose(ours["lq"].permute(1, 2, 0).numpy(), lq, atol=1e-6)
