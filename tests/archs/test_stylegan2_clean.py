"""StyleGAN2GeneratorClean: GFPGAN-compatible keys, checkpoint layouts, FIR exactness, I/O."""

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from fsr.archs.checkpoint import CheckpointError
from fsr.archs.stylegan2_blocks import ArchConfigError, fir_kernel, upfirdn2d
from fsr.archs.stylegan2_clean_arch import (
    StyleGAN2GeneratorClean,
    StyleGAN2GeneratorCSFT,
    load_stylegan2_clean,
)

DATA = Path(__file__).parent / "data"


pytestmark = pytest.mark.usefixtures("one_thread")


def _fixture(name: str) -> dict[str, list[int]]:
    return json.loads((DATA / name).read_text())["keys"]


def _standin(table: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    """A checkpoint with the fixture's layout; tensor i is filled with (i + 1) / 1000."""
    return {k: torch.full(shape, (i + 1) / 1000) for i, (k, shape) in enumerate(table.items())}


@pytest.fixture(scope="module")
def g512() -> StyleGAN2GeneratorClean:
    torch.manual_seed(0)
    return StyleGAN2GeneratorClean(out_size=512, num_style_feat=512, num_mlp=8,
                                   channel_multiplier=1, narrow=1)


def test_keys_match_gfpgan_clean_reference(g512):
    expected = _fixture("stylegan2_clean_512_c1_keys.json")
    got = {k: list(v.shape) for k, v in g512.state_dict().items()}
    assert sorted(got) == sorted(expected)
    assert {k: v for k, v in got.items() if expected[k] != v} == {}


def test_clean_standin_checkpoint_loads_strictly(g512, tmp_path):
    table = _fixture("stylegan2_clean_512_c1_keys.json")
    path = tmp_path / "clean.pth"
    torch.save({"params_ema": _standin(table), "params": {}}, path)
    report, layout = load_stylegan2_clean(g512, path)
    assert (layout, report.key, report.num_loaded) == ("clean", "params_ema", len(table))
    state = g512.state_dict()
    for i, key in enumerate(table):  # every tensor landed under its own name
        assert torch.all(state[key] == (i + 1) / 1000), key


def test_basicsr_layout_standin_converts_and_loads(g512, tmp_path):
    """The public FFHQ prior's layout (BasicSR StyleGAN2Generator) loads after conversion."""
    table = _fixture("stylegan2_basicsr_512_c1_keys.json")
    ckpt = _standin(table)
    path = tmp_path / "StyleGAN2_512_Cmul1_FFHQ_B12G4_scratch_800k.pth"
    torch.save({"params_ema": ckpt}, path)
    report, layout = load_stylegan2_clean(g512, path)
    assert (layout, report.num_loaded) == ("basicsr", len(table))
    s = g512.state_dict()
    v = ckpt["style_mlp.2.weight"][0, 0]
    assert torch.allclose(s["style_mlp.3.weight"], v * 0.01 / math.sqrt(512) * 2**0.5)
    v = ckpt["style_convs.13.activate.bias"][0]
    assert s["style_convs.13.bias"].shape == (1, 32, 1, 1)
    assert torch.allclose(s["style_convs.13.bias"], v * 2**0.5)
    v = ckpt["style_conv1.modulated_conv.weight"].flatten()[0]
    assert torch.allclose(s["style_conv1.modulated_conv.weight"], v / math.sqrt(512 * 9))
    assert torch.equal(s["noises.noise3"], ckpt["noises.noise3"])


def test_load_errors_name_the_problem(tmp_path):
    small = StyleGAN2GeneratorClean(64, num_style_feat=32, num_mlp=2, narrow=1 / 16)
    with pytest.raises(CheckpointError, match="not a StyleGAN2"):
        load_stylegan2_clean(small, {"params_ema": {"conv.weight": torch.zeros(1)}})
    path = tmp_path / "big.pth"
    torch.save({"params_ema": _standin(_fixture("stylegan2_basicsr_512_c1_keys.json"))}, path)
    with pytest.raises(CheckpointError, match=r"big\.pth \(basicsr layout\).*unexpected"):
        load_stylegan2_clean(small, path)


def _ref_fused_leaky_relu(x, bias, negative_slope=0.2, scale=2**0.5):
    """The defining formula of BasicSR's CUDA-only fused op."""
    return F.leaky_relu(x + bias.view(1, -1, *[1] * (x.ndim - 2)), negative_slope) * scale


def test_fir_mode_reproduces_basicsr_generator(monkeypatch):
    from basicsr.archs import stylegan2_arch
    from basicsr.ops.fused_act import fused_act

    monkeypatch.setattr(fused_act, "fused_leaky_relu", _ref_fused_leaky_relu)
    monkeypatch.setattr(stylegan2_arch, "fused_leaky_relu", _ref_fused_leaky_relu)
    torch.manual_seed(0)
    ref = stylegan2_arch.StyleGAN2Generator(64, num_style_feat=32, num_mlp=3,
                                            channel_multiplier=1, narrow=1 / 16)
    with torch.no_grad():  # non-trivial biases and noise strengths
        for name, p in ref.named_parameters():
            if name.endswith(("activate.bias", "rgb1.bias")) or ".bias" in name and "to_rgbs" in name \
                    or (name.endswith(".weight") and p.numel() == 1):
                p.normal_(0, 0.3)
    z = torch.randn(3, 32)
    with torch.no_grad():
        want, _ = ref([z], randomize_noise=False)
        results = {}
        for resample in ("fir", "bilinear"):
            g = StyleGAN2GeneratorClean(64, num_style_feat=32, num_mlp=3, channel_multiplier=1,
                                        narrow=1 / 16, resample=resample)
            load_stylegan2_clean(g, {"params_ema": ref.state_dict()})
            results[resample] = g([z], randomize_noise=False)[0]
    assert torch.allclose(results["fir"], want, atol=1e-4), (results["fir"] - want).abs().max()
    assert not torch.allclose(results["bilinear"], want, atol=1e-2)  # the test can tell them apart


def test_upfirdn2d_keeps_constant_images_constant():
    x = torch.full((1, 2, 6, 6), 3.0)
    up = upfirdn2d(x, fir_kernel() * 4, up=2, pad=(2, 1))
    assert up.shape == (1, 2, 12, 12)
    assert torch.allclose(up[..., 2:-2, 2:-2], torch.tensor(3.0))


def test_forward_modes_and_gradients():
    torch.manual_seed(0)
    g = StyleGAN2GeneratorClean(32, num_style_feat=16, num_mlp=2, narrow=1 / 16)
    z = torch.randn(2, 16, requires_grad=True)
    img, latent = g([z], return_latents=True, randomize_noise=False)
    assert img.shape == (2, 3, 32, 32) and img.dtype == torch.float32
    assert latent.shape == (2, g.num_latent, 16)
    img.square().mean().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    assert all(p.grad is not None for p in g.parameters())
    with torch.no_grad():  # w+ input, style mixing, truncation, fixed noise is deterministic
        wplus = torch.randn(2, g.num_latent, 16)
        a = g([wplus], input_is_latent=True, randomize_noise=False)[0]
        assert torch.equal(a, g(wplus, input_is_latent=True, randomize_noise=False)[0])
        assert g([z, z.flip(0)], inject_index=3)[0].shape == (2, 3, 32, 32)
        mean = g.mean_latent(64)
        same = g([z], truncation=0.0, truncation_latent=mean, randomize_noise=False)[0]
        assert torch.allclose(same[0], same[1], atol=1e-5)


def test_csft_identity_conditions_match_plain_generator():
    torch.manual_seed(0)
    g = StyleGAN2GeneratorCSFT(32, num_style_feat=16, num_mlp=2, narrow=1 / 8, sft_half=True)
    w = torch.randn(2, g.num_latent, 16)
    conds = []
    for res in (8, 16, 32):
        half = g.channels[res] // 2
        conds += [torch.ones(2, half, res, res), torch.zeros(2, half, res, res)]
    with torch.no_grad():
        plain = g.synthesize(w, randomize_noise=False)
        sft = g([w], conds, input_is_latent=True, randomize_noise=False)[0]
        conds[1] = conds[1] + 1  # a shift at 8x8 changes the image
        moved = g([w], conds, input_is_latent=True, randomize_noise=False)[0]
    assert torch.allclose(plain, sft, atol=1e-6)
    assert not torch.allclose(plain, moved, atol=1e-3)


def test_bad_config_and_input_raise_value_errors():
    with pytest.raises(ArchConfigError, match="out_size"):
        StyleGAN2GeneratorClean(100)
    with pytest.raises(ValueError, match="no channels"):
        StyleGAN2GeneratorClean(64, narrow=1e-4)
    with pytest.raises(ValueError, match="resample"):
        StyleGAN2GeneratorClean(32, num_style_feat=16, narrow=1 / 16, resample="nearest")
    g = StyleGAN2GeneratorClean(32, num_style_feat=16, num_mlp=2, narrow=1 / 16)
    with pytest.raises(ValueError, match=r"\(b, 16\)"):
        g([torch.randn(2, 8)])
    with pytest.raises(ValueError, match="w\\+ needs 8 codes"):
        g([torch.randn(2, 5, 16)], input_is_latent=True)
    with pytest.raises(ValueError, match="truncation_latent"):
        g([torch.randn(2, 16)], truncation=0.5)
