"""`python -m fsr.train`: a run killed mid-training continues with --auto_resume."""

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
name: resume_test
model_type: SAM3DModel
scale: 4
num_gpu: 0
num_threads: 1
manual_seed: 0
datasets:
  train:
    name: faces
    type: FaceFolderDataset
    dataroot_gt: {data}
    task: sr
    gt_size: 32
    use_hflip: true
    cache_images: true
    num_worker_per_gpu: 0
    batch_size_per_gpu: 2
  val:
    name: faces-val
    type: FaceFolderDataset
    dataroot_gt: {data}
    task: sr
    gt_size: 32
network_g: {{type: SAM3D, scale: 4, n_feats: 16, reduction: 4, n_resblocks: 1, n_sft_blocks: 1, hr_size: 32,
             use_prior: false}}
path: {{pretrain_network_g: ~, strict_load_g: true, resume_state: ~}}
train:
  ema_decay: 0.9
  optim_g: {{type: Adam, lr: !!float 1e-3}}
  scheduler: {{type: MultiStepLR, milestones: [100000], gamma: 0.5}}
  total_iter: 100000
  warmup_iter: -1
  pixel_opt: {{type: MSELoss, loss_weight: 1.0}}
val:
  val_freq: 3
  save_img: false
  metrics: {{psnr: {{type: psnr}}}}
logger: {{print_freq: 1, save_checkpoint_freq: 3, use_tb_logger: false}}
"""


def _run(args, cwd, **kw):
    env = {**os.environ, "PYTHONPATH": str(REPO), "FSR_HOME": str(cwd / "home")}
    return subprocess.Popen([sys.executable, "-m", "fsr.train", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def write_tiny_faces(tmp_path) -> Path:
    """Four 32 px smooth random images in tmp_path/faces (a FaceFolderDataset)."""
    data = tmp_path / "faces"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        img = (rng.random((4, 4, 3)) * 255).astype(np.uint8)
        Image.fromarray(img).resize((32, 32), Image.BICUBIC).save(data / f"{i}.png")
    return data


@pytest.mark.slow
def test_killed_run_resumes_from_last_checkpoint(tmp_path):
    data = write_tiny_faces(tmp_path)
    (tmp_path / "opt.yml").write_text(CONFIG.format(data=data))
    states = tmp_path / "experiments" / "resume_test" / "training_states"

    proc = _run(["-opt", "opt.yml"], tmp_path)
    deadline = time.time() + 900  # generous: on loaded CI cores 6 iterations can take minutes
    while time.time() < deadline and not list(states.glob("6.state")):
        assert proc.poll() is None, proc.stdout.read()[-2000:]
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no clean shutdown, as a preempted job
    proc.wait()
    first = proc.stdout.read()
    done = max(int(p.stem) for p in states.glob("*.state"))
    assert done >= 6 and "End of training" not in first

    proc = _run(["-opt", "opt.yml", "--auto_resume", "--force_yml",
                 f"train:total_iter={done + 4}", "logger:progress_bar=true"], tmp_path)
    second, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, second[-2000:]
    assert f"Resuming training from epoch: 0, iter: {done}." in second \
        or re.search(rf"Resuming training from epoch: \d+, iter: {done}\.", second)
    iters = [int(m) for m in re.findall(r"iter:\s+(\d+), lr", second)]
    assert iters == list(range(done + 1, done + 5))
    assert "End of training" in second
    # the progress bar starts at the resumed iteration and ends at the total
    assert f"{done}/{done + 4}" in second and f"{done + 4}/{done + 4}" in second
    models = tmp_path / "experiments" / "resume_test" / "models"
    assert (models / "net_g_latest.pth").is_file()
    rows = list(csv.DictReader(open(tmp_path / "experiments" / "resume_test" / "train_log.csv")))
    logged = [int(r["iter"]) for r in rows]
    assert logged == sorted(set(logged)) and logged[-1] == done + 4
