"""MMRBStyleGAN2: MMRB block, shapes at 128/256, ablation, SR input, prior loading, errors."""

import json
from pathlib import Path

import pytest
import torch
from basicsr.utils.registry import ARCH_REGISTRY

from fsr.archs.checkpoint import CheckpointError
from fsr.archs.mmrb_arch import MMRB, MMRB_CONFIGS, MMRBStyleGAN2, PlainResBlock
from fsr.archs.stylegan2_blocks import ArchConfigError

DATA = Path(__file__).parent / "data"
TINY = dict(num_style_feat=32, num_mlp=2, channel_multiplier=1, narrow=0.125,
            prior_narrow=1 / 16, enc_blocks=1, latent_channels=8)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_mmrb_is_plug_and_play_with_gradients():
    torch.manual_seed(0)
    block = MMRB(16, dilations=(1, 2, 3))
    x = torch.randn(2, 16, 13, 17, requires_grad=True)  # any size, same channels out
    y = block(x)
    assert y.shape == x.shape
    y.square().mean().backward()
    assert x.grad.abs().sum() > 0
    for name, p in block.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # starts near identity (residual scale 0.1) but is not the identity
    assert 0 < (y - x).abs().mean() < x.abs().mean()


def test_small_configs_fit_the_cpu_budget():
    for name, cfg in MMRB_CONFIGS.items():
        if "small" in name:
            net = MMRBStyleGAN2(**cfg)
            assert sum(p.numel() for p in net.parameters()) < 3_000_000, name


@pytest.mark.parametrize(("size", "kwargs"), [(128, MMRB_CONFIGS["mmrb-sg2-128-small"]),
                                              (256, dict(out_size=256, **TINY))])
def test_shapes_and_gradients(size, kwargs):
    torch.manual_seed(0)
    net = ARCH_REGISTRY.get("MMRBStyleGAN2")(**kwargs)
    x = torch.rand(1, 3, size, size) * 2 - 1
    image, rgbs = net(x)
    assert image.shape == (1, 3, size, size) and image.dtype == torch.float32
    assert [r.shape[-1] for r in rgbs] == [2**i for i in range(3, size.bit_length())]
    (image.mean() + sum(r.mean() for r in rgbs)).backward()
    for part in (net.conv_first, net.enc_blocks[0][0].paths[2], net.final_linear,
                 net.sft_heads[-1][2], net.prior.style_convs[-1].modulated_conv):
        assert part.weight.grad is not None and part.weight.grad.abs().sum() > 0


def test_plain_blocks_ablation_keeps_io():
    torch.manual_seed(0)
    mmrb = MMRBStyleGAN2(out_size=64, **TINY)
    plain = MMRBStyleGAN2(out_size=64, use_mmrb=False, **TINY)
    assert not any(isinstance(m, MMRB) for m in plain.modules())
    assert sum(isinstance(m, PlainResBlock) for m in plain.modules()) == \
        sum(isinstance(m, MMRB) for m in mmrb.modules()) > 0
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    a, ra = mmrb(x)
    b, rb = plain(x)
    assert a.shape == b.shape and [r.shape for r in ra] == [r.shape for r in rb]


def test_sr_input_is_upsampled_internally():
    assert MMRB_CONFIGS["mmrb-sg2-128-small-sr32"]["in_size"] == 32
    net = MMRBStyleGAN2(out_size=128, in_size=32, **TINY)
    image, _ = net(torch.rand(1, 3, 32, 32) * 2 - 1, return_rgb=False)
    assert image.shape == (1, 3, 128, 128)
    with pytest.raises(ValueError, match="must be 32x32, got 128x128"):
        net(torch.rand(1, 3, 128, 128))


def test_sft_starts_as_identity_so_an_initialised_prior_is_unchanged():
    torch.manual_seed(0)
    net = MMRBStyleGAN2(out_size=32, **TINY).eval()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        codes, conditions, _ = net.encode(x)
        restored, _ = net(x, randomize_noise=False)
        prior_only = net.prior.synthesize(codes, randomize_noise=False)
    assert torch.allclose(restored, prior_only, atol=1e-6)
    assert all(torch.all(c == 1) for c in conditions[::2])


def test_bad_input_and_config_raise_value_errors():
    net = MMRBStyleGAN2(out_size=32, **TINY)
    with pytest.raises(ValueError, match="must be 32x32, got 31x31"):
        net(torch.rand(1, 3, 31, 31))
    with pytest.raises(ValueError, match=r"float \(b, 3, 32, 32\)"):
        net(torch.rand(3, 32, 32))
    with pytest.raises(ArchConfigError, match="out_size"):
        MMRBStyleGAN2(out_size=96, **TINY)
    with pytest.raises(ArchConfigError, match="in_size"):
        MMRBStyleGAN2(out_size=32, in_size=64, **TINY)
    with pytest.raises(ArchConfigError, match="enc_blocks"):
        MMRBStyleGAN2(out_size=32, **{**TINY, "enc_blocks": (1, 1)})


def test_load_prior_from_larger_basicsr_layout_prior(tmp_path):
    """A 128 prior in the public checkpoint's (BasicSR) layout fills a 64 model's prior."""
    from basicsr.archs.stylegan2_arch import StyleGAN2Generator

    torch.manual_seed(0)
    ref = StyleGAN2Generator(128, num_style_feat=32, num_mlp=2, channel_multiplier=1, narrow=1 / 16)
    path = tmp_path / "prior128.pth"
    torch.save({"params_ema": ref.state_dict()}, path)
    net = MMRBStyleGAN2(out_size=64, **TINY)
    result = net.load_prior(path)
    assert result.layout == "basicsr"
    assert result.report.num_loaded == result.num_prior_tensors  # all of the 64 prior
    assert result.report.missing == [] and result.report.mismatched == []
    assert "to_rgbs.4.bias" in result.report.unexpected  # the 128 level, ignored
    assert "loaded" in str(result) and "ignored" in str(result)
    assert torch.equal(net.prior.constant_input.weight, ref.constant_input.weight)

    wider = MMRBStyleGAN2(out_size=64, **{**TINY, "prior_narrow": 0.5})
    partial = wider.load_prior(path)  # noise maps and the mapping MLP fit, the convs do not
    assert partial.report.mismatched and "shape mismatch" in str(partial)
    with pytest.raises(CheckpointError, match="no prior tensor fits"):
        wider.load_prior({"params_ema": {"constant_input.weight": torch.zeros(1, 7, 4, 4)}})


def test_prior_config_matches_public_prior_layout():
    """mmrb-sg2-512-prior's prior has the key/shape table of the clean FFHQ 512 generator."""
    expected = json.loads((DATA / "stylegan2_clean_512_c1_keys.json").read_text())["keys"]
    net = MMRBStyleGAN2(**MMRB_CONFIGS["mmrb-sg2-512-prior"])
    got = {k: list(v.shape) for k, v in net.prior.state_dict().items()}
    assert got == expected


@pytest.mark.parametrize("in_size", [32, 32 * 2])
def test_input_skip_starts_as_the_input_and_learns_the_prior_gain(in_size):
    torch.manual_seed(0)
    net = MMRBStyleGAN2(out_size=64, in_size=in_size, input_skip=True, **TINY)
    x = torch.rand(2, 3, in_size, in_size) * 2 - 1
    out, _ = net(x, randomize_noise=False)
    up = x if in_size == 64 else torch.nn.functional.interpolate(
        x, size=(64, 64), mode="bicubic", align_corners=False)
    assert torch.equal(out, up)  # a fresh network returns its (upsampled) input
    (out - 0.5).square().mean().backward()
    assert net.prior_gain.grad.abs() > 0  # and the gain, hence the prior, can be learned
    with torch.no_grad():
        net.prior_gain.fill_(0.5)
    moved, _ = net(x, randomize_noise=False)
    assert (moved - up).abs().mean() > 1e-4
    # the default keeps the paper's layout: no gain parameter, the prior renders the image
    assert not hasattr(MMRBStyleGAN2(out_size=64, **TINY), "prior_gain")


@pytest.mark.parametrize("input_skip", [True, False])
def test_prior_weight_scales_the_change_to_the_input(input_skip):
    """One checkpoint at every weight: 0 returns the input, 1 the trained output, and the output
    moves linearly in between (the GFPGAN/CodeFormer fidelity knob, here on the prior)."""
    torch.manual_seed(0)
    net = MMRBStyleGAN2(out_size=64, input_skip=input_skip, **TINY).eval()
    if input_skip:
        with torch.no_grad():
            net.prior_gain.fill_(0.7)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    outs = {}
    for w in (0.0, 0.25, 1.0):
        other = MMRBStyleGAN2(out_size=64, input_skip=input_skip, prior_weight=w, **TINY).eval()
        other.load_state_dict(net.state_dict())  # strict: the weight is no parameter
        with torch.no_grad():
            outs[w] = other(x, randomize_noise=False)[0]
    with torch.no_grad():
        assert torch.equal(outs[1.0], net(x, randomize_noise=False)[0])
    torch.testing.assert_close(outs[0.0], x, rtol=0, atol=1e-6)
    torch.testing.assert_close(outs[0.25], x + 0.25 * (outs[1.0] - x), rtol=0, atol=1e-5)
    assert (outs[1.0] - x).abs().mean() > 1e-3  # the test is not vacuous
    for bad in (-0.1, 1.5, "half", float("nan")):
        with pytest.raises(ArchConfigError, match="prior_weight"):
            MMRBStyleGAN2(out_size=64, prior_weight=bad, **TINY)


def test_path_attention_off_weights_every_path_equally():
    torch.manual_seed(0)
    on, off = MMRB(8), MMRB(8, path_attention=False)
    assert off.attn_squeeze is None and off.attn_expand is None
    state = {k: v for k, v in on.state_dict().items() if not k.startswith("attn_")}
    off.load_state_dict(state)  # strict: the ablation has every other weight of the block
    x = torch.randn(2, 8, 6, 6)
    # with the attention's last layer zeroed its softmax is uniform: the two must agree
    with torch.no_grad():
        on.attn_expand.weight.zero_()
        on.attn_expand.bias.zero_()
        torch.testing.assert_close(on(x), off(x))
        on.attn_expand.bias.normal_()
        assert not torch.allclose(on(x), off(x))
    net = MMRBStyleGAN2(out_size=64, path_attention=False, **TINY)
    assert not any("attn_" in k for k in net.state_dict())
    assert net(torch.rand(1, 3, 64, 64) * 2 - 1)[0].shape == (1, 3, 64, 64)
