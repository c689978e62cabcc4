"""fsr.methods: one calling convention over the pretrained records."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import fsr.methods as methods
from fsr.archs.interp_arch import resize_bicubic
from fsr.methods import Method, MethodError, available_methods, load_method


def test_interpolation_methods_are_available_and_shaped():
    names = available_methods()
    assert {"bicubic-x4", "bicubic-x8", "lanczos-x4", "lanczos-x8", "input"} <= set(names)
    assert "bicubic-x4" in available_methods("sr") and "bicubic-x4" not in available_methods(
        "restore")
    m = load_method("bicubic-x8")
    assert (m.task, m.scale, m.needs_prior, m.weights_sha256) == ("sr", 8, False, None)
    lq = torch.rand(2, 3, 16, 16)
    out = m(lq)
    assert out.shape == (2, 3, 128, 128) and out.dtype == torch.float32
    assert 0 <= out.min() and out.max() <= 1
    torch.testing.assert_close(out, resize_bicubic(lq, scale=8).clamp(0, 1))


def test_input_method_is_identity_for_restore():
    m = load_method("input")
    x = torch.rand(1, 3, 32, 32)
    assert m.task == "restore" and torch.equal(m(x), x)


def test_signature_changes_with_weights_and_oracle():
    a = load_method("bicubic-x4")
    assert a.signature == load_method("bicubic-x4").signature
    assert a.signature != load_method("lanczos-x4").signature
    assert a.label == "bicubic-x4"


@pytest.mark.parametrize("bad", [torch.rand(3, 16, 16), torch.rand(1, 1, 16, 16),
                                 torch.zeros(1, 3, 16, 16, dtype=torch.uint8), "img"])
def test_bad_input_is_one_line_error(bad):
    with pytest.raises(MethodError, match="expected"):
        load_method("bicubic-x4")(bad)


def test_unknown_method():
    with pytest.raises(MethodError, match="unknown method 'nope'"):
        load_method("nope")


class _PriorNet(nn.Module):
    """Stand-in for a [-1, 1], fixed-size, prior-guided GFPGAN-style net returning a tuple."""

    def __init__(self):
        super().__init__()
        self.seen = {}

    def forward(self, x, render):
        self.seen = {"x": x.clone(), "render": render.clone()}
        up = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        return up * 0.5, [up]


def test_range_size_prior_and_tuple_conversion():
    net = _PriorNet()
    m = Method(name="standin", task="sr", scale=4, in_size=32, out_size=64, needs_prior=True,
               weights_sha256="0" * 64, input_range=(-1.0, 1.0), _net=net)
    lq = torch.rand(1, 3, 16, 16)  # not the network's 32: resized in, output resized to 64
    render = torch.rand(1, 3, 128, 128)
    out = m(lq, render)
    assert out.shape == (1, 3, 64, 64)
    x = net.seen["x"]
    assert x.shape == (1, 3, 32, 32) and x.min() < 0  # mapped to [-1, 1]
    assert net.seen["render"].shape == (1, 3, 32, 32)  # the render follows the net's input
    # out = ((x_up * 0.5) + 1) / 2 stays in [0, 1] after the range map back
    assert 0 <= out.min() and out.max() <= 1
    assert m.label == "standin"
    with pytest.raises(MethodError, match="prior-guided"):
        m(lq, None)
    oracle = Method(**{**m.__dict__, "oracle": True})
    assert oracle.label == "standin+oracle" and oracle.signature != m.signature


def test_missing_weights_are_not_available(monkeypatch):
    from fsr.archs.pretrained import PretrainedRecord

    rec = PretrainedRecord(name="needs-weights", arch="Bicubic", arch_kwargs={"scale": 4},
                           asset="gfpgan-v1.4", task="restore", scale=1)
    real = methods._records
    monkeypatch.setattr(methods, "_records", lambda: {**real(), "needs-weights": rec})
    monkeypatch.setenv("FSR_HOME", "/nonexistent-fsr-home")
    monkeypatch.setenv("FSR_OFFLINE", "1")
    assert "needs-weights" not in available_methods()
    with pytest.raises(MethodError, match="needs-weights"):
        load_method("needs-weights")


def test_fetchable_counts_registry_weights_but_not_user_only(monkeypatch, tmp_path):
    monkeypatch.setenv("FSR_HOME", str(tmp_path))  # an empty cache: nothing is on this machine
    monkeypatch.delenv("FSR_OFFLINE", raising=False)
    here = available_methods("sr")
    assert "realesrgan-x4plus" not in here and "bicubic-x4" in here
    fetchable = available_methods("sr", fetchable=True)
    assert "realesrgan-x4plus" in fetchable  # its weights come from a registry package
    assert "sam3d-x4-authors" not in fetchable  # user-only weights still need the file
    monkeypatch.setenv("FSR_OFFLINE", "1")
    assert "realesrgan-x4plus" not in available_methods("sr", fetchable=True)


class _NoisyNet(torch.nn.Module):
    """Adds fresh noise per call, as StyleGAN2's noise injection does."""

    def forward(self, x):
        return x + 0.1 * torch.randn_like(x)


class _LazyNoisyMethod(Method):
    """Builds its network on first use, drawing the init from the global RNG."""

    @property
    def net(self):
        if self._net is None:
            torch.nn.Linear(64, 64)  # an initialisation that consumes random numbers
            self._net = _NoisyNet()
        return self._net


def test_stochastic_nets_give_the_same_output_every_call_and_leave_the_rng_alone():
    m = Method(name="noisy", task="restore", scale=1, in_size=None, out_size=None,
               needs_prior=False, weights_sha256="0" * 64, _net=_NoisyNet())
    lq = torch.rand(1, 3, 16, 16).clamp(0.2, 0.8)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first, second = m(lq), m(lq)
    assert torch.equal(first, second) and not torch.equal(first, lq)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's RNG stream is untouched
    # the first call, which builds the network, gives what later calls give
    lazy = _LazyNoisyMethod(name="lazy", task="restore", scale=1, in_size=None, out_size=None,
                            needs_prior=False, weights_sha256="0" * 64)
    assert torch.equal(lazy(lq), first) and torch.equal(lazy(lq), first)


@pytest.mark.parametrize("name", ["mmrb-sg2-128-samples", "sam3d-x4-samples"])
def test_output_does_not_depend_on_the_input_memory_layout(name):
    """A permuted HWC batch arrives channels_last; oneDNN picks other kernels for it, which
    once changed the last bit of an output (and 1/255 of a written pixel) with the batch."""
    from fsr.restore.common import method_prior

    m = load_method(name)
    side = m.in_size or 32
    hwc = torch.rand(1, side, side, 3, generator=torch.Generator().manual_seed(0))
    plain = hwc.permute(0, 3, 1, 2).contiguous()
    strided = hwc.permute(0, 3, 1, 2)  # channels_last strides
    assert not strided.is_contiguous()
    prior = method_prior(m, [(hwc[0].numpy() * 255).astype("uint8")])
    assert torch.equal(m(plain, prior), m(strided, prior))


def test_name_at_path_runs_the_records_network_with_your_checkpoint(tmp_path):
    """``NAME@PATH``: record NAME's architecture and convention with a checkpoint of your own,
    labelled by its sha256 so it never mixes with the record's weights."""
    from fsr.assets import resolve
    from fsr.assets.resolver import file_sha256

    bundled = load_method("sam3d-x8-noprior-samples")
    state = torch.load(resolve("sam3d-x8-noprior-samples"), weights_only=True)
    same, changed = tmp_path / "same.pth", tmp_path / "changed.pth"
    torch.save(state, same)
    torch.save({"params_ema": {k: v * 1.01 if v.is_floating_point() else v
                               for k, v in state["params_ema"].items()}}, changed)
    mine = load_method(f"sam3d-x8-noprior-samples@{same}")
    assert mine.label == f"sam3d-x8-noprior-samples@{file_sha256(same)[:8]}"
    assert mine.signature != bundled.signature and mine.describe()["weights_path"] == str(same)
    lq = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    render = torch.rand(1, 3, 16, 16)
    assert torch.equal(mine(lq, render), bundled(lq, render))
    other = load_method(f"sam3d-x8-noprior-samples@{changed}")
    assert not torch.allclose(other(lq, render), bundled(lq, render), atol=1e-4)


def test_name_at_path_errors_are_one_line(tmp_path):
    with pytest.raises(MethodError, match="is not a file"):
        load_method(f"sam3d-x8-samples@{tmp_path / 'nope.pth'}")
    with pytest.raises(MethodError, match="bicubic-x4 has no weights to replace"):
        load_method(f"bicubic-x4@{tmp_path}")
    wrong = tmp_path / "wrong.pth"
    torch.save({"params_ema": {"conv.weight": torch.zeros(1)}}, wrong)
    m = load_method(f"sam3d-x8-samples@{wrong}")
    with pytest.raises(MethodError) as err:
        m(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))
    assert str(err.value).startswith(f"method {m.label}: ") and "\n" not in str(err.value)
