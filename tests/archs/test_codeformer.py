"""CodeFormer: the official key layout, strict loading, parity with the official code."""

import json
from pathlib import Path

import pytest
import torch
from basicsr.utils.registry import ARCH_REGISTRY

from fsr.archs.checkpoint import load_checkpoint
from fsr.archs.codeformer_arch import CodeFormer
from fsr.archs.stylegan2_blocks import ArchConfigError

DATA = Path(__file__).parent / "data"
# a small config of fsr's own (64 px, four levels), for the fast behaviour tests
SMALL = dict(dim_embd=32, n_head=2, n_layers=1, codebook_size=16, img_size=64, nf=4,
             ch_mult=(1, 2, 2, 4), emb_dim=8, attn_resolutions=(8,), connect_list=("16", "32"),
             norm_groups=4)

pytestmark = pytest.mark.usefixtures("one_thread")


def _tiny_from_golden(golden) -> CodeFormer:
    t = golden["tiny"]
    return CodeFormer(dim_embd=t["dim_embd"], n_head=t["n_head"], n_layers=t["n_layers"],
                      codebook_size=t["codebook_size"], connect_list=t["connect_list"],
                      nf=t["nf"], norm_groups=t["norm_groups"])


def test_full_config_matches_official_key_table_and_loads_strictly():
    fixture = json.loads((DATA / "codeformer_512_keys.json").read_text())
    table = fixture["keys"]
    with torch.device("meta"):  # the 94 M-parameter model, without allocating it
        net = CodeFormer()  # the official inference kwargs are the defaults
    got = {k: list(v.shape) for k, v in net.state_dict().items()}
    assert list(got) == list(table)  # same names, same order
    assert {k: v for k, v in got.items() if table[k] != v} == {}
    assert sum(p.numel() for p in net.parameters()) == fixture["num_params"] == 94_112_707


def test_standin_checkpoint_keys_land_in_place():
    # every tensor of a (small) official-layout checkpoint gets its own fill value, so a key
    # landing in the wrong place is caught; params_ema is the key the release uses
    net = CodeFormer(**SMALL)
    shapes = {k: v.shape for k, v in net.state_dict().items()}
    standin = {k: torch.full(s, (i + 1) / 1000) for i, (k, s) in enumerate(shapes.items())}
    report = load_checkpoint(net, {"params_ema": standin, "params": {}}, strict=True)
    assert (report.key, report.num_loaded) == ("params_ema", len(shapes))
    state = net.state_dict()
    assert all(torch.all(state[k] == (i + 1) / 1000) for i, k in enumerate(shapes))


@pytest.mark.parametrize("run", range(3), ids=["w0-noadain", "w0.5-adain", "w1-adain"])
def test_matches_official_implementation_numerically(run):
    """Golden outputs of CodeFormer's own codeformer_arch.py (data/make_codeformer_fixtures.py)."""
    golden = torch.load(DATA / "codeformer_tiny_golden.pt", map_location="cpu", weights_only=True)
    net = _tiny_from_golden(golden).eval()
    load_checkpoint(net, {k: v.float() for k, v in golden["params"].items()}, strict=True)
    x = golden["pixels"].repeat_interleave(4, 2).repeat_interleave(4, 3).float() / 127.5 - 1
    want = golden["runs"][run]
    with torch.no_grad():
        image, logits, lq_feat = net(x, w=want["w"], adain=want["adain"])
    assert torch.allclose(logits, golden["logits"], atol=1e-5)
    assert torch.equal(logits.argmax(2), want["top_idx"])
    assert torch.allclose(lq_feat.mean((2, 3)), golden["lq_feat_mean"], atol=1e-5)
    s = want["stride"]
    # float32 through ~50 layers at 512 px: equal to 1e-5 of the value (outputs reach ~11), and
    # within 5e-5 near zero, where CPUs' kernels differ (1.6e-5 seen on one AVX-512 machine)
    got = image[..., ::s, ::s]
    assert torch.allclose(got, want["image"], atol=5e-5, rtol=1e-5), (got - want["image"]).abs().max()
    assert torch.allclose(image.mean((2, 3)), want["image_mean"], atol=1e-5)


def test_fidelity_weight_is_an_attribute_and_a_call_argument():
    torch.manual_seed(0)
    net = CodeFormer(**SMALL, w=0.0).eval()
    with torch.no_grad():
        for p in net.fuse_convs_dict.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # zero-init-free fusion, so w matters
        x = torch.rand(2, 3, 64, 64) * 2 - 1
        at_0 = net(x)[0]
        net.w = 0.7
        at_07 = net(x)[0]
        assert torch.equal(net(x, w=0.0)[0], at_0)
        assert not torch.allclose(at_0, at_07)
        # fusion only changes the decoder: the predicted codes do not depend on w
        assert torch.equal(net(x, w=1.0)[1], net(x, w=0.0)[1])
    assert at_07.shape == (2, 3, 64, 64)


def test_registered_and_trains_a_step():
    net = ARCH_REGISTRY.get("CodeFormer")(**SMALL)
    assert isinstance(net, CodeFormer)
    logits, lq_feat = net(torch.rand(1, 3, 64, 64) * 2 - 1, code_only=True)
    assert logits.shape == (1, 64, 16) and lq_feat.shape == (1, 8, 8, 8)  # 8x8 latent
    image = net(torch.rand(1, 3, 64, 64) * 2 - 1, w=1.0)[0]
    image.mean().backward()
    assert net.fuse_convs_dict["32"].scale[0].weight.grad is not None
    assert net.generator.blocks[0].weight.grad is not None


def test_bad_config_and_input_raise_clear_errors():
    net = CodeFormer(**SMALL)
    with pytest.raises(ArchConfigError, match="must be 64x64, got 32x32"):
        net(torch.rand(1, 3, 32, 32))
    with pytest.raises(ArchConfigError, match="not VQGAN levels"):
        CodeFormer(**{**SMALL, "connect_list": ("48",)})
    with pytest.raises(ArchConfigError, match="norm groups"):
        CodeFormer(**{**SMALL, "norm_groups": 3})
    with pytest.raises(ArchConfigError, match="latent_size"):
        CodeFormer(**{**SMALL, "latent_size": 10})


def test_records_asset_and_licence():
    from fsr.archs.pretrained import get_record, list_records
    from fsr.assets import ASSETS

    restore = list_records("restore")
    assert {"codeformer-w0.5", "codeformer-w0.7"} <= set(restore)
    for name, w in (("codeformer-w0.5", 0.5), ("codeformer-w0.7", 0.7), ("codeformer-w0.63", 0.63)):
        rec = get_record(name)  # the last one is parametric (the demo's slider)
        assert rec.name == name and rec.arch_kwargs["w"] == w and rec.arch_kwargs["adain"]
        assert (rec.in_size, rec.input_range, rec.checkpoint_key) == (512, (-1.0, 1.0), "params_ema")
        assert "S-Lab" in rec.licence and "non-commercial" in rec.licence
    for bad in ("codeformer-w1.5", "codeformer-w0.50", "codeformer-wx"):
        with pytest.raises(ValueError, match="unknown pretrained model"):
            get_record(bad)
    asset = ASSETS[get_record("codeformer-w0.5").asset]
    assert asset.urls == ("https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/codeformer.pth",)
    assert asset.sha256 == "1009e537e0c2a07d4cabce6355f53cb66767cd4b4297ec7a4a64ca4b8a5684b7"
    assert asset.size == 376637898 and "non-commercial" in asset.licence


def test_method_with_a_small_standin_checkpoint(tmp_path, monkeypatch):
    """The record -> asset -> strict load -> Method path, with a narrow stand-in network."""
    import dataclasses

    from fsr import methods
    from fsr.archs import pretrained
    from fsr.assets import ASSETS

    path = tmp_path / "codeformer.pth"
    path.write_bytes(b"not the release file")
    monkeypatch.setenv("FSR_ASSET_CODEFORMER", str(path))
    with pytest.raises(methods.MethodError, match="wrong sha256"):  # the real file is checked
        methods.load_method("codeformer-w0.7")

    real = pretrained._codeformer

    def small(w):
        return dataclasses.replace(real(w), arch_kwargs={**SMALL, "w": w}, in_size=64, out_size=64)

    monkeypatch.setattr(pretrained, "_codeformer", small)
    for name in ("codeformer-w0.5", "codeformer-w0.7"):
        monkeypatch.setitem(pretrained._RECORDS_BY_NAME, name, small(float(name[-3:])))
    monkeypatch.setitem(ASSETS, "codeformer", dataclasses.replace(ASSETS["codeformer"], sha256=None))
    torch.manual_seed(0)
    src = CodeFormer(**SMALL).eval()
    with torch.no_grad():
        for p in src.fuse_convs_dict.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    torch.save({"params_ema": src.state_dict(), "params": {}}, path)

    lq = torch.rand(1, 3, 64, 64)
    outs = {}
    for name in ("codeformer-w0.0", "codeformer-w0.7"):
        m = methods.load_method(name)
        assert (m.task, m.in_size, m.licence) == ("restore", 64, pretrained.CODEFORMER_LICENCE)
        outs[name] = m(lq)
        assert outs[name].shape == (1, 3, 64, 64) and 0 <= outs[name].min() <= outs[name].max() <= 1
    with torch.no_grad():
        want = ((src(lq * 2 - 1, w=0.7)[0] + 1) / 2).clamp(0, 1)
    # 2e-5: the method runs channels_last (other conv kernels, float32 rounding: 6.6e-6 seen)
    assert torch.allclose(outs["codeformer-w0.7"], want, atol=2e-5)
    assert not torch.allclose(outs["codeformer-w0.0"], outs["codeformer-w0.7"])
