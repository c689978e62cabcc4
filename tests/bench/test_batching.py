"""Batching does not change results: a run with --batch-size 1 and one with --batch-size 16
give the same tables (to float32 rounding), and every method is batch-invariant on its own.

The suite: the three committed real face crops of tests/pose/data at 64 px, SR x4 with bicubic and fsr's
bundled SAM3D x4 (no prior), blind restoration with fsr's bundled MMRB+StyleGAN2 (it draws
noise maps, so it exercises the one-image-at-a-time path), PSNR, SSIM, LPIPS, identity, and
FID/KID on the Inception features, which are batched across images and methods.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bench_testing import REPO, run_bench, write_face_suite

FACES = ["takeo", "breakingbad", "pyfeat45"]  # tests/pose/data/<name>_128.jpg
SUITE = """
name: batching
datasets:
  - {{name: faces, type: folder, path: {path}}}
tasks:
  - {{name: sr-x4, kind: sr, scale: 4, size: 64, degradation: {{type: bicubic, scale: 4}}}}
  - {{name: restore, kind: restore, size: 64, degradation: {{type: blind, preset: gfpgan}}}}
methods: [bicubic-x4, sam3d-x4-noprior-samples, mmrb-sg2-128-samples]
metrics: [psnr, ssim, lpips, identity]
set_metrics: [fid, kid]
pose: {{edges: [0, 15, 30, 45]}}
bootstrap: {{n: 100, seed: 0, alpha: 0.05}}
face_pipeline: false
"""
# float32 convolutions may sum in another order at another batch size (oneDNN picks kernels by
# shape). Measured on the 2-core dev machine: PSNR within 1.1e-7 dB, LPIPS 6e-8, SSIM 3e-9,
# identity exact, FID/KID 8.4e-5; the test allows ~1000x that (other CPUs, other kernels).
ATOL = {"psnr": 1e-4, "ssim": 1e-6, "lpips": 1e-5, "identity": 1e-5}


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    faces = {n: REPO / "tests" / "pose" / "data" / f"{n}_128.jpg" for n in FACES}
    return write_face_suite(tmp_path_factory.mktemp("batching"), SUITE, faces, 64)


def test_batch_1_and_16_give_the_same_tables(suite_file, tmp_path):
    import pandas as pd

    outs = {}
    for b in (1, 16):
        outs[b] = tmp_path / f"b{b}"
        assert run_bench("--suite", str(suite_file), "--out", str(outs[b]), "--batch-size",
                      str(b)) == 0
    r1, r16 = (pd.read_csv(outs[b] / "results.csv") for b in (1, 16))
    assert len(r1) == 3 * 3 * 4  # images x method-task pairs x metrics
    keys = [c for c in r1.columns if c != "value"]
    pd.testing.assert_frame_equal(r1[keys], r16[keys])
    for metric, tol in ATOL.items():
        sel = r1["metric"] == metric
        diff = np.abs(r1.loc[sel, "value"].to_numpy() - r16.loc[sel, "value"].to_numpy())
        assert diff.max() <= tol, (metric, diff.max())
    # the noise-drawing MMRB runs one image at a time: its outputs, hence its PSNR, are exact
    sel = (r1["method"] == "mmrb-sg2-128-samples") & (r1["metric"] == "psnr")
    assert (r1.loc[sel, "value"].to_numpy() == r16.loc[sel, "value"].to_numpy()).all()
    s1, s16 = (pd.read_csv(outs[b] / "set_metrics.csv") for b in (1, 16))
    num = s1.select_dtypes("number").columns
    np.testing.assert_allclose(s1[num].to_numpy(float), s16[num].to_numpy(float), rtol=1e-5,
                               atol=1e-3)
    info = json.loads((outs[16] / "manifest.json").read_text())["inference"]
    assert info == {"device": "cpu", "methods_dtype": "float32", "metrics_dtype": "float32",
                    "batch_size": 16}


@pytest.mark.parametrize("name,noisy", [("sam3d-x4-noprior-samples", False),
                                        ("mmrb-sg2-128-samples", True)])
def test_method_batch_equals_one_at_a_time(name, noisy):
    import torch

    from fsr.methods import load_method

    m = load_method(name)
    size = 32 if m.task == "sr" else 128
    x = torch.rand(3, 3, size, size, generator=torch.Generator().manual_seed(0))
    batched = m(x)
    single = torch.cat([m(x[i:i + 1]) for i in range(3)])
    assert m._draws_noise is noisy
    if noisy:
        assert torch.equal(batched, single)
        # without the one-at-a-time path the batch would draw other noise: the test can fail
        with torch.no_grad():
            torch.manual_seed(0)
            direct = m.net(x * 2 - 1)
        direct = ((direct[0] if isinstance(direct, tuple) else direct).float() + 1) / 2
        assert (direct.clamp(0, 1)[1:] - single[1:]).abs().max() > 1e-3
    else:
        assert (batched - single).abs().max() < 1e-5
