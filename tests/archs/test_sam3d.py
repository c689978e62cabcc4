"""Tests for fsr.archs.sam3d_arch (SAM3D, Hu et al. ECCV 2020).

The fixtures ``data/sam3d_ref_x{4,8}.npz`` hold an input and the output of the authors'
``SFT_Net_torch`` (their ``SFT_rcan.py`` imported unchanged by ``data/make_sam3d_fixtures.py``,
which regenerates or checks them) with weights made by ``recipe_state_dict`` below; the test
rebuilds those weights and compares our output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from basicsr.utils.registry import ARCH_REGISTRY
from torch import Tensor

from fsr.archs.sam3d_arch import (
    SAM3D,
    VARIANTS,
    authors_state_dict_to_sam3d,
    load_sam3d_authors,
)

DATA = Path(__file__).parent / "data"
N_PARAMS = 5_644_693  # SFT_Net_torch(n_feats=64, reduction=16, n_resblocks=20), x4 and x8
N_UNUSED = 16_512  # DANet head conv6 + conv7: 2 * (128 * 64 + 64)
ATOL = 1e-4  # outputs are O(1); the same code gives 0.0 on the machine that made the fixture


def recipe_state_dict(template: dict[str, Tensor], seed: int = 0) -> dict[str, Tensor]:
    """Deterministic, torch-RNG-free weights for ``template``'s keys and shapes.

    One standard-normal draw per float tensor from ``np.random.RandomState(seed)``, in sorted
    key order, then scaled: conv weights / sqrt(fan_in); BN weight 1 + 0.1z, running_mean 0.1z,
    running_var 1 + 0.25|z|; attention gammas 0.5 + 0.1z (so both DANet attentions are live);
    other biases 0.05z. Integer buffers (num_batches_tracked) are zero and draw nothing.
    """
    rng = np.random.RandomState(seed)
    out = {}
    for key in sorted(template):
        t = template[key]
        if not t.is_floating_point():
            out[key] = torch.zeros_like(t)
            continue
        z = rng.standard_normal(tuple(t.shape))
        module = key.rsplit(".", 1)[0]
        if key.endswith("running_var"):
            v = 1.0 + 0.25 * np.abs(z)
        elif key.endswith("running_mean"):
            v = 0.1 * z
        elif key.endswith("gamma"):
            v = 0.5 + 0.1 * z
        elif t.ndim == 4:
            v = z / np.sqrt(np.prod(t.shape[1:]))
        elif module + ".running_mean" in template:  # BatchNorm weight
            v = 1.0 + 0.1 * z
        else:
            v = 0.05 * z
        out[key] = torch.from_numpy(v.astype(np.float32))
    return out


def recipe_net(scale: int, **kwargs) -> SAM3D:
    net = SAM3D(scale=scale, **kwargs)
    net.load_state_dict(recipe_state_dict(net.state_dict()), strict=True)
    return net.eval()


def images(n: int, side: int, seed: int = 1) -> tuple[Tensor, Tensor]:
    rng = np.random.RandomState(seed)
    lr = torch.from_numpy(rng.rand(n, 3, side, side).astype(np.float32))
    render = torch.from_numpy(rng.rand(n, 3, side, side).astype(np.float32))
    return lr, render


@pytest.fixture(scope="module")
def net8() -> SAM3D:
    return recipe_net(8)


@pytest.fixture(scope="module")
def out8(net8: SAM3D) -> Tensor:
    """net8's output for images(1, 16), computed once (forwards dominate this file's time)."""
    with torch.no_grad():
        return net8(*images(1, 16))


def test_registered() -> None:
    assert ARCH_REGISTRY.get("SAM3D") is SAM3D


@pytest.mark.parametrize("scale", [4, 8])
def test_param_count_and_keys_match_the_authors(scale: int) -> None:
    net = SAM3D(scale=scale)
    assert sum(p.numel() for p in net.parameters()) == N_PARAMS
    head = net.sft_branch[16]
    assert sum(p.numel() for m in (head.conv6, head.conv7) for p in m.parameters()) == N_UNUSED
    sd = net.state_dict()
    assert len(sd) == 656 and len(net.sft_branch) == 17
    assert sd["CondNet.0.weight"].shape == (128, 3, 1, 1)
    assert sd["sft_branch.13.body.3.body.3.conv_du.0.weight"].shape == (4, 64, 1, 1)
    assert sd["sft_branch.16.sa.query_conv.weight"].shape == (16, 128, 1, 1)
    assert [k for k in sd if k.startswith("HR_branch")] == [
        f"HR_branch.{i}.{p}" for i in (1, 4, 6, 8) for p in ("weight", "bias")]
    other = SAM3D(scale=12 - scale).state_dict()  # x4 <-> x8: same keys and shapes
    assert {k: v.shape for k, v in sd.items()} == {k: v.shape for k, v in other.items()}


@pytest.mark.parametrize("scale", [4, 8])
def test_matches_authors_code(scale: int) -> None:
    ref = np.load(DATA / f"sam3d_ref_x{scale}.npz")
    assert int(ref["weight_seed"]) == 0 and int(ref["scale"]) == scale
    net = recipe_net(scale)
    with torch.no_grad():
        out = net(torch.from_numpy(ref["lr"]), torch.from_numpy(ref["render"]))
    expected = torch.from_numpy(ref["output"])
    assert out.shape == expected.shape == (1, 3, 128, 128)
    assert expected.std() > 0.1  # a live output, not a constant
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)


def test_shapes_dtype_batch_and_list_form(net8: SAM3D) -> None:
    lr, render = images(2, 16)
    with torch.no_grad():
        out = net8(lr, render)
        out_list = net8([lr[1:], render[1:]])  # the authors' call, on the second image alone
    assert out.shape == (2, 3, 128, 128) and out.dtype == torch.float32
    # list form == positional form, and batch items are independent (attention is per image);
    # a batch of 1 and of 2 take different CPU kernels: 1.1e-5 apart seen on one machine
    torch.testing.assert_close(out_list, out[1:], atol=5e-5, rtol=0)


def test_gradients_reach_lr_render_and_condnet() -> None:
    # hr_size=None + 8x8 inputs: the same graph as 16x16, a quarter of the compute
    net = recipe_net(8, hr_size=None).train()  # train mode: BN batch statistics, dropout on
    lr, render = images(2, 8)
    lr.requires_grad_(True)
    render.requires_grad_(True)
    out = net(lr, render)
    assert out.shape == (2, 3, 64, 64)
    out.square().mean().backward()
    for g in (lr.grad, render.grad, net.CondNet[0].weight.grad, net.sft_branch[16].sa.gamma.grad):
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0
    assert net.sft_branch[16].conv6[1].weight.grad is None  # unused, as in the authors' code


def test_coeff_variant() -> None:
    net = recipe_net(8, **VARIANTS["sam3d-coeff"])
    assert net.CondNet[0].in_channels == 3 + 3
    lr, render = images(1, 16)
    coeff = torch.randn(1, 239, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = net(lr, render, coeff)
        assert out.shape == (1, 3, 128, 128)
        assert torch.equal(out, net([lr, render, coeff]))
        assert (net(lr, render, coeff * 2) - out).abs().max() > 1e-4  # coefficients matter
    with pytest.raises(ValueError, match="coefficients"):
        net(lr, render)
    with pytest.raises(ValueError, match="239"):
        net(lr, render, coeff[:, :80])
    assert SAM3D(scale=4, use_coeff=True, coeff_dim=257).coeff_transform.mlp[0].in_features == 257
    with pytest.raises(ValueError, match="hr_size"):
        SAM3D(scale=4, use_coeff=True, hr_size=None)


def test_coeff_variant_starts_from_authors_weights_unchanged(net8: SAM3D, out8: Tensor) -> None:
    coeff_net = SAM3D(scale=8, use_coeff=True).eval()
    coeff_net.load_state_dict(authors_state_dict_to_sam3d(net8.state_dict(), coeff_net), strict=True)
    with torch.no_grad():
        out = coeff_net(*images(1, 16), torch.randn(1, 239))
    torch.testing.assert_close(out, out8, atol=1e-5, rtol=0)


def test_noprior_variant_same_params_and_ignores_render(net8: SAM3D, out8: Tensor) -> None:
    net = SAM3D(scale=8, **VARIANTS["sam3d-noprior"]).eval()
    assert sum(p.numel() for p in net.parameters()) == N_PARAMS
    net.load_state_dict(net8.state_dict(), strict=True)
    lr, render = images(1, 16)
    with torch.no_grad():
        out = net(lr, render)
        assert torch.equal(out, net(lr))  # the render is not needed, and ignored when given
        assert torch.equal(out, net8(lr, torch.zeros_like(render)))  # i.e. a zero render
    assert (out - out8).abs().max() > 1e-3  # the prior did matter to the prior model


def test_residual_starts_as_bicubic_and_keeps_the_authors_keys(net8: SAM3D, out8: Tensor) -> None:
    net = SAM3D(scale=8, residual=True).eval()
    assert sum(p.numel() for p in net.parameters()) == N_PARAMS
    lr, render = images(2, 16)
    bicubic = torch.nn.functional.interpolate(lr, scale_factor=8, mode="bicubic", align_corners=False)
    with torch.no_grad():
        assert torch.equal(net(lr, render), bicubic)  # fresh: exactly bicubic
        net.load_state_dict(net8.state_dict(), strict=True)  # the authors' layout still loads
        out = net(*images(1, 16))
    assert torch.allclose(out, out8 + torch.nn.functional.interpolate(
        images(1, 16)[0], scale_factor=8, mode="bicubic", align_corners=False), atol=1e-5)
    # and it learns: the zero-initialised last conv gets a gradient on the first step
    net.train()
    loss = (net(lr, render) - bicubic.flip(-1)).square().mean()
    loss.backward()
    assert net.HR_branch[-1].weight.grad.abs().sum() > 0


def test_variants() -> None:
    assert set(VARIANTS) == {"sam3d", "sam3d-coeff", "sam3d-noprior"}
    nets = {name: SAM3D(scale=4, **kw) for name, kw in VARIANTS.items()}
    counts = {name: sum(p.numel() for p in n.parameters()) for name, n in nets.items()}
    assert counts["sam3d"] == counts["sam3d-noprior"] == N_PARAMS
    assert counts["sam3d-coeff"] > N_PARAMS


def test_bad_input_raises_value_error(net8: SAM3D) -> None:
    lr, render = images(1, 16)
    with pytest.raises(ValueError, match="scale 4 or 8"):
        SAM3D(scale=3)
    with pytest.raises(ValueError, match="16x16"):
        net8(*images(1, 32))  # an x4-sized input to the x8 model
    with pytest.raises(ValueError, match="render"):
        net8(lr, render[..., :8, :8])
    with pytest.raises(ValueError, match="render"):
        net8(lr)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        net8(lr[:, :1], render[:, :1])
    with pytest.raises(ValueError, match="float"):
        net8((lr * 255).to(torch.uint8), render)
    with pytest.raises(ValueError, match="use_coeff=False"):
        net8(lr, render, torch.zeros(1, 239))
    with pytest.raises(ValueError, match="forward"):
        net8([lr])


def _drop_num_batches_tracked(sd: dict[str, Tensor]) -> dict[str, Tensor]:
    # keeps the OrderedDict's version metadata (2), the case torch itself does not patch
    for k in [k for k in sd if k.endswith("num_batches_tracked")]:
        del sd[k]
    return sd


def test_state_dict_without_num_batches_tracked_loads_strictly(net8: SAM3D, out8: Tensor) -> None:
    sd = _drop_num_batches_tracked(net8.state_dict())
    assert not any(k.endswith("num_batches_tracked") for k in sd)
    plain_bn = torch.nn.BatchNorm2d(4)
    with pytest.raises(RuntimeError, match="num_batches_tracked"):  # what plain torch does
        plain_bn.load_state_dict(_drop_num_batches_tracked(plain_bn.state_dict()))
    fresh = SAM3D(scale=8).eval()
    fresh.load_state_dict(sd, strict=True)
    with torch.no_grad():
        assert torch.equal(fresh(*images(1, 16)), out8)

    del sd["sft_branch.16.conv5a.1.running_var"]
    with pytest.raises(RuntimeError, match=r"Missing key.*conv5a\.1\.running_var"):
        SAM3D(scale=8).load_state_dict(sd, strict=True)


def test_load_sam3d_authors(tmp_path: Path, net8: SAM3D, out8: Tensor) -> None:
    # an authors'-style file: raw state dict, no num_batches_tracked, DataParallel prefixes
    raw = {f"module.{k}": v for k, v in _drop_num_batches_tracked(net8.state_dict()).items()}
    path = tmp_path / "sam3d_x8.pth"
    torch.save(raw, path)
    loaded = load_sam3d_authors(path, scale=8)
    assert not loaded.training
    with torch.no_grad():
        assert torch.equal(loaded(*images(1, 16)), out8)
    coeff_net = load_sam3d_authors(path, scale=8, use_coeff=True)  # the paper's path, zero-started
    assert torch.equal(coeff_net.CondNet[0].weight[:, :3], net8.CondNet[0].weight)

    wrong = SAM3D(scale=8, n_sft_blocks=8).state_dict()  # the paper figure's depth
    torch.save(wrong, path)
    with pytest.raises(ValueError, match="unexpected key"):
        load_sam3d_authors(path, scale=8)
    del raw["module.HR_branch.8.bias"]
    torch.save(raw, path)
    with pytest.raises(ValueError, match=r"1 missing key\(s\): HR_branch\.8\.bias"):
        load_sam3d_authors(path, scale=8)
    with pytest.raises(ValueError, match="not found"):
        load_sam3d_authors(tmp_path / "nope.pth", scale=8)
