"""`val.early_stop`: the run ends when the val metric stops improving, the best weights are
kept, and tools/release_weights.py releases them (not the latest)."""

import json
import subprocess
import sys

import pytest
import torch
from test_resume import CONFIG, REPO, _run, write_tiny_faces


@pytest.mark.slow
def test_run_stops_after_patience_and_release_takes_the_best(tmp_path):
    data = write_tiny_faces(tmp_path)
    # lr 0: the val PSNR never improves after the first validation (iteration 3), so with
    # patience 2 the 100000-iteration run must end at iteration 9
    base = CONFIG.format(data=data).replace("lr: !!float 1e-3", "lr: 0.0")
    (tmp_path / "base.yml").write_text(base)
    # the run's file names a base and adds only early stopping (fsr.options)
    (tmp_path / "opt.yml").write_text(
        "base: base.yml\nval: {early_stop: {metric: psnr, patience: 2}}\n")
    proc = _run(["-opt", "opt.yml"], tmp_path)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-2000:]
    exp = tmp_path / "experiments" / "resume_test"
    best = json.loads((exp / "models" / "best.json").read_text())
    assert best["metric"] == "psnr" and best["iter"] == 3
    assert "Early stop at iter 9" in out
    assert not (exp / "training_states" / "12.state").exists()

    # the experiment keeps the options as trained, base resolved: the release reads them alone
    copied = (exp / "opt.yml").read_text()
    assert "base:" not in copied and "early_stop" in copied and "val_freq: 3" in copied
    (exp / "resume_test.yml").write_text(copied)
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "resume_test.md").write_text("# old card\n\n## Notes\n\nkept by hand\n")
    rel = subprocess.run([sys.executable, str(REPO / "tools" / "release_weights.py"), str(exp),
                          "--out", str(tmp_path / "w"), "--logs", str(tmp_path / "logs")], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
                                            "FSR_HOME": str(tmp_path / "home")})
    assert rel.returncode == 0, rel.stderr[-2000:]
    released = next((tmp_path / "w").glob("resume_test-*.pth"))
    got = torch.load(released, map_location="cpu", weights_only=True)["params_ema"]
    want = torch.load(exp / "models" / "net_g_best.pth", map_location="cpu",
                      weights_only=True)["params_ema"]
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in got)
    card = (tmp_path / "w" / "resume_test.md").read_text()
    assert "early stopping on the val split (psnr, patience 2" in card
    assert "iteration 3 weights" in card and "the run ended early" in card
    assert card.endswith("## Notes\n\nkept by hand\n")   # hand-written sections survive

    # --as: the same run released under a record's name; the card still names the run behind it
    (tmp_path / "w" / "named.md").write_text("# old card\n\n## Caveat\n\nby hand\n")
    rel = subprocess.run([sys.executable, str(REPO / "tools" / "release_weights.py"), str(exp),
                          "--as", "named", "--out", str(tmp_path / "w"),
                          "--logs", str(tmp_path / "logs")], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
                                            "FSR_HOME": str(tmp_path / "home")})
    assert rel.returncode == 0, rel.stderr[-2000:]
    named = next((tmp_path / "w").glob("named-*.pth"))
    assert named.read_bytes() == released.read_bytes()
    card = (tmp_path / "w" / "named.md").read_text()
    assert card.startswith("# named\n") and f"`weights/{named.name}`" in card
    assert ("`python -m fsr.train -opt options/resume_test.yml` then `python "
            "tools/release_weights.py experiments/resume_test --as named`") in card
    assert card.endswith("## Caveat\n\nby hand\n")
    assert (tmp_path / "logs" / "named.csv").is_file()


@pytest.mark.parametrize("text, message", [
    ("base: nowhere.yml\nname: x\n", "base 'nowhere.yml' not found"),
    (None, "cannot read option file"),
    # an option file from before the task was called `restore` as in the suites
    (f"base: {REPO / 'options' / 'mmrb_sg2_128_samples.yml'}\nname: x\n"
     "datasets: {train: {task: blind}}\n", "datasets.train: task 'blind' is now called 'restore'"),
])
def test_a_bad_option_file_is_one_line_and_a_non_zero_exit(tmp_path, text, message):
    if text is not None:
        (tmp_path / "opt.yml").write_text(text)
    proc = _run(["-opt", "opt.yml"], tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[-1].startswith("fsr.train: ") and message in lines[-1], out[-2000:]
    assert "Traceback" not in out and not (tmp_path / "experiments").exists()
