"""GFPGANv1Clean: official v1.3/v1.4 key layout, loading, forward at a small config."""

import json
from pathlib import Path

import pytest
import torch
from basicsr.utils.registry import ARCH_REGISTRY

from fsr.archs.checkpoint import load_checkpoint
from fsr.archs.gfpgan_clean_arch import GFPGANv1Clean
from fsr.archs.stylegan2_blocks import ArchConfigError

DATA = Path(__file__).parent / "data"
SMALL = dict(out_size=128, num_style_feat=64, num_mlp=2, narrow=0.25)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_v14_standin_checkpoint_loads_strictly():
    table = json.loads((DATA / "gfpganv1_clean_512_c2_keys.json").read_text())["keys"]
    net = GFPGANv1Clean()  # the official inference kwargs are the defaults
    got = {k: list(v.shape) for k, v in net.state_dict().items()}
    assert sorted(got) == sorted(table)
    assert {k: v for k, v in got.items() if table[k] != v} == {}
    # every tensor gets its own fill value, so a key landing in the wrong place is caught
    standin = {k: torch.full(s, (i + 1) / 1000) for i, (k, s) in enumerate(table.items())}
    report = load_checkpoint(net, {"params_ema": standin, "params": {}}, strict=True)
    assert (report.key, report.num_loaded) == ("params_ema", len(table))
    state = net.state_dict()
    assert all(torch.all(state[k] == (i + 1) / 1000) for i, k in enumerate(table))


def test_registered_and_built_from_yaml_kwargs():
    net = ARCH_REGISTRY.get("GFPGANv1Clean")(**SMALL)
    assert isinstance(net, GFPGANv1Clean)


def test_forward_small_config_on_cpu(tmp_path):
    torch.manual_seed(0)
    net = GFPGANv1Clean(**SMALL)
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    image, rgbs = net(x)
    assert image.shape == (1, 3, 128, 128) and image.dtype == torch.float32
    assert [r.shape[-1] for r in rgbs] == [8, 16, 32, 64, 128]
    (image.mean() + sum(r.mean() for r in rgbs)).backward()
    assert net.conv_body_first.weight.grad.abs().sum() > 0
    assert net.stylegan_decoder.style_conv1.modulated_conv.weight.grad is not None
    # file round trip of the small config, strict: same weights, same image
    path = tmp_path / "small.pth"
    torch.save({"params_ema": net.state_dict()}, path)
    other = GFPGANv1Clean(**SMALL)
    load_checkpoint(other, path, strict=True)
    with torch.no_grad():
        image2, rgbs2 = other(x, return_rgb=False, randomize_noise=False)
        assert rgbs2 == []
        assert torch.equal(image2, net(x, return_rgb=False, randomize_noise=False)[0])


def test_decoder_load_path_and_fix_decoder(tmp_path):
    from fsr.archs.stylegan2_clean_arch import StyleGAN2GeneratorClean

    torch.manual_seed(1)
    prior = StyleGAN2GeneratorClean(128, num_style_feat=64, num_mlp=2, narrow=0.25)
    path = tmp_path / "prior.pth"
    torch.save({"params_ema": prior.state_dict()}, path)
    net = GFPGANv1Clean(**SMALL, decoder_load_path=str(path), fix_decoder=True)
    assert torch.equal(net.stylegan_decoder.constant_input.weight, prior.constant_input.weight)
    assert not any(p.requires_grad for p in net.stylegan_decoder.parameters())
    assert all(p.requires_grad for p in net.final_linear.parameters())


def test_bad_input_raises_clear_error():
    net = GFPGANv1Clean(out_size=64, num_style_feat=32, num_mlp=1, narrow=0.125)
    with pytest.raises(ArchConfigError, match="must be 64x64, got 32x32"):
        net(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"float \(b, 3, 64, 64\)"):
        net(torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match="out_size"):
        GFPGANv1Clean(out_size=500)


def test_matches_reference_implementation_numerically():
    """Golden output of GFPGAN's own gfpganv1_clean_arch.py (tests/archs/data/make_key_fixtures.py)."""
    golden = torch.load(DATA / "gfpganv1_clean_tiny_golden.pt", map_location="cpu", weights_only=True)
    net = GFPGANv1Clean(**golden["kwargs"])
    load_checkpoint(net, golden["params"], strict=True)
    with torch.no_grad():
        image, rgbs = net(golden["input"], randomize_noise=False)
    assert torch.allclose(image, golden["image"], atol=1e-5), (image - golden["image"]).abs().max()
    for got, want in zip(rgbs, golden["out_rgbs"], strict=True):
        assert torch.allclose(got, want, atol=1e-5)
