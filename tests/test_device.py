"""--device / --dtype: parsing, the one-line errors when a device is not there, and what a
dtype changes (the methods' number type and cache signature; outputs stay float32).

A GPU is not needed: on a machine without CUDA the 'not available' paths are what is tested;
with one, the same calls must succeed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fsr.device import DeviceError, parse_device, parse_dtype

REPO = Path(__file__).resolve().parents[1]
HAS_CUDA = torch.cuda.is_available()


@pytest.mark.parametrize("text", ["tpu", "cuda:x", "gpu", "cuda:-1", ""])
def test_unknown_device_names(text):
    with pytest.raises(DeviceError, match="device must be cpu, cuda, cuda:N or mps"):
        parse_device(text)


def test_device_from_env_and_case(monkeypatch):
    monkeypatch.setenv("FSR_DEVICE", "CPU")
    assert parse_device(None) == torch.device("cpu")
    monkeypatch.delenv("FSR_DEVICE")
    assert parse_device(None) == torch.device("cpu")


@pytest.mark.parametrize("text", ["cuda", "cuda:0", "cuda:7"])
def test_cuda_absent_or_out_of_range(text):
    if HAS_CUDA and int(text.partition(":")[2] or 0) < torch.cuda.device_count():
        assert parse_device(text).type == "cuda"
        return
    with pytest.raises(DeviceError, match="CUDA is not available|CUDA device"):
        parse_device(text)


def test_mps_absent_is_one_line():
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        assert parse_device("mps").type == "mps"
        return
    with pytest.raises(DeviceError, match="MPS is not available"):
        parse_device("mps")


def test_dtypes():
    assert parse_dtype("bf16") is torch.bfloat16 and parse_dtype("float16") is torch.float16
    assert parse_dtype(None) is torch.float32
    with pytest.raises(DeviceError, match="dtype must be"):
        parse_dtype("int8")


def test_method_dtype_signature_and_output():
    from fsr.methods import MethodError, load_method

    m32 = load_method("sam3d-x4-noprior-samples", device="cpu", dtype="float32")
    m16 = load_method("sam3d-x4-noprior-samples", dtype="bfloat16")
    assert m16.dtype is torch.bfloat16 and m16.signature != m32.signature
    assert load_method("sam3d-x4-noprior-samples").signature == m32.signature
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    a, b = m32(x), m16(x)
    assert b.dtype is torch.float32 and b.shape == a.shape == (2, 3, 128, 128)
    psnr = 10 * torch.log10(1 / ((a - b) ** 2).mean())
    assert 25 < psnr < 80  # bf16 really ran (not bit-equal) and is close
    with pytest.raises(MethodError, match="dtype must be"):
        load_method("bicubic-x4", dtype="int8")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300,
                          cwd=REPO)


@pytest.mark.skipif(HAS_CUDA, reason="checks the no-CUDA error; with a GPU cuda is valid")
def test_bench_and_restore_cli_without_cuda_exit_2_one_line(tmp_path):
    proc = _cli("bench/run.py", "--suite", "pose", "--device", "cuda", "--out",
                str(tmp_path / "x"), "--quiet")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("bench: error: device cuda: CUDA "
                                                           "is not available")
    assert "Traceback" not in proc.stderr
    proc = _cli("-m", "fsr", "restore", str(REPO / "tests/pose/data/takeo_128.jpg"),
                str(tmp_path / "o.png"), "--aligned", "--device", "cuda:1")
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.strip().startswith("fsr: error: device cuda:1:")


@pytest.mark.parametrize("args,needle", [(["--batch-size", "0"], "--batch-size must be"),
                                         (["--dtype", "int8"], "dtype must be"),
                                         (["--device", "tpu"], "device must be")])
def test_bench_bad_flags_exit_2(args, needle, tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run_dev", REPO / "bench" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    assert run.main(["--suite", "pose", "--out", str(tmp_path / "x"), "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert needle in err[-1] and len(err) == 1
