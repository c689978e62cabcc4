"""Pretrained records and create_model, with stand-in checkpoints the tests make themselves."""

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from basicsr.utils.registry import ARCH_REGISTRY

import fsr.archs  # noqa: F401  (registers the archs)
from fsr.archs import pretrained
from fsr.archs.checkpoint import CheckpointError
from fsr.archs.pretrained import PRETRAINED, create_model, get_record, list_records
from fsr.assets import AssetError, resolve

DATA = Path(__file__).parent / "data"
REQUIRED = {
    "bicubic-x4", "bicubic-x8", "lanczos-x4", "lanczos-x8", "realesrgan-x4plus",
    "gfpgan-v1.3", "gfpgan-v1.4", "sam3d-x4-authors", "sam3d-x8-authors",
}


@pytest.fixture
def offline_home(tmp_path, monkeypatch):
    """An empty asset cache with downloads forbidden: user-only assets cannot resolve."""
    monkeypatch.setenv("FSR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FSR_OFFLINE", "1")
    for name in ("gfpgan-v1.4", "sam3d-x4-authors", "sam3d-x8-authors", "realesrgan-x4plus"):
        monkeypatch.delenv("FSR_ASSET_" + name.upper().replace("-", "_").replace(".", "_"), raising=False)
    return tmp_path


def test_records_are_complete_and_consistent():
    from fsr.assets import ASSETS

    assert REQUIRED <= set(PRETRAINED)
    for name, rec in PRETRAINED.items():
        assert rec.name == name
        assert rec.arch in ARCH_REGISTRY, rec.arch
        assert rec.task in ("sr", "restore")
        assert rec.input_range in ((0.0, 1.0), (-1.0, 1.0))
        assert rec.licence and rec.description
        assert rec.asset is None or rec.asset in ASSETS, rec.asset
        if rec.state_filter:
            assert callable(pretrained._import_function(rec.state_filter))
        if rec.in_size and rec.out_size and rec.task == "sr":
            assert rec.in_size * rec.scale == rec.out_size
    assert set(list_records("restore")) == {"gfpgan-v1.3", "gfpgan-v1.4", "mmrb-sg2-128-samples",
                                            "mmrb-sg2-128-plain-samples",
                                            "mmrb-sg2-128-noselfsup-samples",
                                            "mmrb-sg2-128-samples-pw0.25",
                                            "mmrb-sg2-128-noattn-samples",
                                            "mmrb-sg2-128-idloss-samples",
                                            "codeformer-w0.5", "codeformer-w0.7"}
    assert get_record("gfpgan-v1.4").input_range == (-1.0, 1.0)
    assert get_record("sam3d-x8-authors").in_size == 16 and get_record("sam3d-x8-authors").needs_prior


def test_unknown_name_and_bad_task():
    with pytest.raises(ValueError, match="unknown pretrained model 'nope'; known: bicubic-x4"):
        create_model("nope")
    with pytest.raises(ValueError, match="task"):
        list_records("denoise")


BUNDLED = ["sam3d-x4-samples", "sam3d-x4-noprior-samples", "sam3d-x8-samples",
           "sam3d-x8-noprior-samples", "mmrb-sg2-128-samples"]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_weights_load_offline_from_weights_folder(name, offline_home):
    from fsr.methods import available_methods, load_method

    rec = get_record(name)
    assert resolve(rec.asset).parent.name == "weights"  # in place, with an empty cache, offline
    net = create_model(name)  # strict load of params_ema
    method = load_method(name)
    assert name in available_methods(rec.task) and method.needs_prior == rec.needs_prior
    side = rec.in_size
    lq = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(0))
    out = method(lq, torch.rand_like(lq) if rec.needs_prior else None)
    assert out.shape == (1, 3, rec.out_size, rec.out_size) and not torch.isnan(out).any()
    if rec.task == "sr":  # a residual net trained on faces stays close to bicubic on any input
        bicubic = torch.nn.functional.interpolate(lq, scale_factor=rec.scale, mode="bicubic",
                                                  align_corners=False).clamp(0, 1)
        assert 0 < (out - bicubic).abs().mean() < 0.1
    assert sum(p.numel() for p in net.parameters()) > 100_000


@pytest.mark.parametrize("name, h, out", [("bicubic-x4", 32, 128), ("lanczos-x8", 16, 128)])
def test_weight_free_models(name, h, out):
    net = create_model(name)
    assert not net.training
    y = net(torch.rand(2, 3, h, h))
    assert y.shape == (2, 3, out, out) and 0 <= y.min() and y.max() <= 1
    with pytest.raises(ValueError, match="has no weights"):
        create_model(name, weights="x.pth")


def test_missing_asset_error_is_unchanged(offline_home):
    with pytest.raises(AssetError) as direct:
        resolve("gfpgan-v1.4")
    with pytest.raises(AssetError) as via_model:
        create_model("sam3d-x4-authors")
    assert "sam3d_x4_authors.pth" in str(via_model.value)
    with pytest.raises(AssetError) as via_gfpgan:
        create_model("gfpgan-v1.4")
    assert str(via_gfpgan.value) == str(direct.value)


def _random_state_like(arch: str, kwargs, seed: int = 0) -> dict[str, torch.Tensor]:
    """A stand-in checkpoint with the architecture's keys/shapes, built on the meta device (fast)."""
    with torch.device("meta"):
        template = ARCH_REGISTRY.get(arch)(**dict(kwargs)).state_dict()
    gen = torch.Generator().manual_seed(seed)
    return {k: (torch.randn(v.shape, generator=gen) * 0.02 if v.is_floating_point()
                else torch.zeros(v.shape, dtype=v.dtype)) for k, v in template.items()}


def _assert_weights_equal(net, state):
    own = net.state_dict()
    assert all(torch.equal(own[k], v) for k, v in state.items())


@pytest.mark.parametrize("scale", [4, 8])
def test_sam3d_authors_standin_raw_state_dict(tmp_path, offline_home, monkeypatch, scale):
    """The authors' files are raw state dicts from old torch (no num_batches_tracked)."""
    raw = {k: v for k, v in _random_state_like("SAM3D", {"scale": scale}, scale).items()
           if not k.endswith("num_batches_tracked")}
    for k in raw:  # BatchNorm running variances must be positive
        if k.endswith("running_var"):
            raw[k] = raw[k].abs() + 1
    path = tmp_path / f"sam3d_x{scale}.pth"
    torch.save(raw, path)

    net = create_model(f"sam3d-x{scale}-authors", weights=path)
    assert not net.training and net.scale == scale
    _assert_weights_equal(net, raw)
    if scale == 8:  # it runs: 16 -> 128
        with torch.no_grad():
            assert net(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)).shape == (1, 3, 128, 128)
    # and through the asset resolver (a user-pointed file), weights=None
    monkeypatch.setenv(f"FSR_ASSET_SAM3D_X{scale}_AUTHORS", str(path))
    _assert_weights_equal(create_model(f"sam3d-x{scale}-authors"), raw)
    # a file that is not the authors' layout fails with the file's name
    bad = dict(raw)
    bad.pop("conv0.weight")
    torch.save(bad, tmp_path / "sam3d_bad.pth")
    with pytest.raises(CheckpointError, match=r"sam3d_bad.pth does not fit SAM3D: 1 missing key"):
        create_model(f"sam3d-x{scale}-authors", weights=tmp_path / "sam3d_bad.pth")


def test_realesrgan_standin_params_ema(tmp_path):
    rec = get_record("realesrgan-x4plus")
    state = _random_state_like(rec.arch, rec.arch_kwargs)
    path = tmp_path / "RealESRGAN_x4plus.pth"
    torch.save({"params_ema": state}, path)
    net = create_model("realesrgan-x4plus", weights=path)
    _assert_weights_equal(net, state)
    with torch.no_grad():
        assert net(torch.rand(1, 3, 8, 8)).shape == (1, 3, 32, 32)


def test_gfpgan_record_builds_the_official_key_table():
    """The record's kwargs give exactly the key/shape table of the official v1.3/v1.4 files."""
    table = json.loads((DATA / "gfpganv1_clean_512_c2_keys.json").read_text())["keys"]
    net = ARCH_REGISTRY.get("GFPGANv1Clean")(**get_record("gfpgan-v1.4").arch_kwargs)
    ours = {k: list(v.shape) for k, v in net.state_dict().items()}
    assert ours == table


def test_gfpgan_loading_path_with_a_small_standin(tmp_path, monkeypatch):
    """Same record and loader, a narrow GFPGAN so the test is fast (the 512 table is pinned above)."""
    small = dict(out_size=64, num_style_feat=32, channel_multiplier=1, num_mlp=2, narrow=0.125,
                 decoder_load_path=None, fix_decoder=False, input_is_latent=True,
                 different_w=True, sft_half=True)
    rec = dataclasses.replace(get_record("gfpgan-v1.4"), arch_kwargs=small, in_size=64, out_size=64)
    monkeypatch.setitem(pretrained._RECORDS_BY_NAME, "gfpgan-v1.4", rec)
    src = ARCH_REGISTRY.get("GFPGANv1Clean")(**small).eval()
    path = tmp_path / "GFPGANv1.4.pth"
    # official layout: params_ema (the EMA generator); 'params' must not be picked
    other = ARCH_REGISTRY.get("GFPGANv1Clean")(**small).state_dict()
    torch.save({"params_ema": src.state_dict(), "params": other}, path)
    monkeypatch.setenv("FSR_ASSET_GFPGAN_V1_4", str(path))
    from fsr.assets import ASSETS  # a stand-in cannot match the official file's pinned sha256

    monkeypatch.setitem(ASSETS, "gfpgan-v1.4", dataclasses.replace(ASSETS["gfpgan-v1.4"], sha256=None))
    net = create_model("gfpgan-v1.4")
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        out, _ = net(x, randomize_noise=False)
        ref, _ = src(x, randomize_noise=False)
    assert torch.equal(out, ref)
    # the official file is read under 'params_ema' only
    torch.save({"params": other}, path)
    with pytest.raises(CheckpointError, match="no key 'params_ema'"):
        create_model("gfpgan-v1.4")
    # a user's own file may be 'params' only
    assert not create_model("gfpgan-v1.4", weights=path).training
