"""``torchrun --nproc_per_node=2 bench/run.py``: two CPU processes (gloo), one shard each, merged
by rank 0 into tables byte-identical to a single run's; a rerun resumes from the shard caches.

The suite: the three committed real face crops of tests/pose/data at 64 px, SR x4 and x8 with
bicubic and Lanczos, PSNR and SSIM (small on purpose: this tests the plumbing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_testing import REPO, write_face_suite

FACES = ["takeo", "breakingbad", "pyfeat45"]
SUITE = """
name: dist
datasets:
  - {{name: faces, type: folder, path: {path}}}
tasks:
  - {{name: sr-x4, kind: sr, scale: 4, size: 64, degradation: {{type: bicubic, scale: 4}}}}
  - {{name: sr-x8, kind: sr, scale: 8, size: 64, degradation: {{type: bicubic, scale: 8}}}}
methods: [bicubic-x4, lanczos-x4, bicubic-x8, lanczos-x8]
metrics: [psnr, ssim]
pose: {{edges: [0, 15, 30, 45]}}
bootstrap: {{n: 100, seed: 0, alpha: 0.05}}
"""


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    faces = {n: REPO / "tests" / "pose" / "data" / f"{n}_128.jpg" for n in FACES}
    return write_face_suite(tmp_path_factory.mktemp("dist"), SUITE, faces, 64)


def _run(args: list[str], torchrun: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node=2"] if torchrun else [sys.executable]
    return subprocess.run([*launcher, str(REPO / "bench" / "run.py"), *args, "--quiet"],
                          env=env, capture_output=True, text=True, timeout=600, cwd=REPO)


def test_torchrun_two_processes_merge_to_the_single_run(suite_file, tmp_path):
    single, dist = tmp_path / "single", tmp_path / "dist"
    proc = _run(["--suite", str(suite_file), "--out", str(single)], torchrun=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = _run(["--suite", str(suite_file), "--out", str(dist), "--batch-size", "2"],
                torchrun=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 shards done; merging" in proc.stderr
    shards = [dist / "shards" / f"{k}-of-2" for k in (1, 2)]
    counts = [json.loads((s / "manifest.json").read_text())["computed_images"] for s in shards]
    assert counts == [2, 1]  # images 1 and 3, image 2
    for name in ("results.csv", "summary.csv", "pipeline.csv"):
        assert (dist / name).read_bytes() == (single / name).read_bytes(), name
    merged = json.loads((dist / "manifest.json").read_text())
    assert len(merged["merged_from"]) == 2
    # the same command again: both shards resume from their caches, nothing is computed
    proc = _run(["--suite", str(suite_file), "--out", str(dist)], torchrun=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = [json.loads((s / "manifest.json").read_text())["computed_images"] for s in shards]
    assert counts == [0, 0]
    assert (dist / "results.csv").read_bytes() == (single / "results.csv").read_bytes()


def test_torchrun_refuses_an_explicit_shard(suite_file, tmp_path):
    proc = _run(["--suite", str(suite_file), "--out", str(tmp_path / "x"), "--shard", "1/2"],
                torchrun=True)
    assert proc.returncode != 0
    assert "drop --shard" in proc.stderr
