"""Tests for fsr.archs.checkpoint: every checkpoint layout, every failure message."""

import re
from collections import OrderedDict

import pytest
import torch
from torch import nn

from fsr.archs.checkpoint import (
    CheckpointError,
    LoadReport,
    load_checkpoint,
    read_state_dict,
    save_checkpoint,
)


class TinyNet(nn.Module):
    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.bn = nn.BatchNorm2d(width)
        self.head = nn.Linear(width, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.bn(self.conv(x)).mean((2, 3)))


def _trained_state(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    net = TinyNet()
    for p in net.parameters():
        nn.init.normal_(p)
    net.bn.running_mean.normal_()
    return net.state_dict()


def _assert_loaded(net: nn.Module, state: dict[str, torch.Tensor]) -> None:
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k


@pytest.mark.parametrize(
    "wrap, key",
    [
        (lambda s: s, None),
        (lambda s: {"params": s}, "params"),
        (lambda s: {"params_ema": s}, "params_ema"),
        (lambda s: {"g_ema": s, "g": {}, "d": {}}, "g_ema"),
        (lambda s: {"state_dict": s, "epoch": 3}, "state_dict"),
    ],
    ids=["raw", "params", "params_ema", "g_ema", "state_dict"],
)
def test_every_layout_loads_from_file(tmp_path, wrap, key):
    state = _trained_state()
    path = tmp_path / "ck.pth"
    torch.save(wrap(state), path)
    net = TinyNet()
    report = load_checkpoint(net, path)
    assert isinstance(report, LoadReport)
    assert report.key == key and report.source == str(path)
    assert report.num_loaded == len(state)
    _assert_loaded(net, state)


def test_params_ema_preferred_over_params():
    ema, raw = _trained_state(1), _trained_state(2)
    net = TinyNet()
    assert load_checkpoint(net, {"params": raw, "params_ema": ema}).key == "params_ema"
    _assert_loaded(net, ema)
    # an explicit key wins
    assert load_checkpoint(net, {"params": raw, "params_ema": ema}, key="params").key == "params"
    _assert_loaded(net, raw)


def test_explicit_missing_key_is_clear():
    with pytest.raises(CheckpointError, match=r"no key 'params_ema'.*\['params'\]"):
        load_checkpoint(TinyNet(), {"params": _trained_state()}, key="params_ema")


def test_dataparallel_prefix_is_stripped():
    state = _trained_state()
    wrapped = OrderedDict((f"module.{k}", v) for k, v in state.items())
    net = TinyNet()
    report = load_checkpoint(net, {"params": wrapped})
    assert report.stripped_prefix == "module."
    _assert_loaded(net, state)
    sd, key, prefix = read_state_dict(wrapped)
    assert key is None and prefix == "module." and set(sd) == set(state)


def test_old_batchnorm_without_num_batches_tracked_loads():
    state = {k: v for k, v in _trained_state().items() if not k.endswith("num_batches_tracked")}
    net = TinyNet()
    load_checkpoint(net, state)
    _assert_loaded(net, {**state, "bn.num_batches_tracked": net.bn.num_batches_tracked})


def test_wrong_architecture_lists_missing_unexpected_and_shapes():
    state = _trained_state()
    state.pop("head.weight")
    state.pop("head.bias")
    state["extra.weight"] = torch.zeros(1)
    state["conv.weight"] = torch.zeros(8, 3, 3, 3)
    net = TinyNet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(net, state)
    msg = str(info.value)
    assert "does not fit TinyNet" in msg
    assert "2 missing key(s): head.weight, head.bias" in msg
    assert "1 unexpected key(s): extra.weight" in msg
    assert "conv.weight: checkpoint (8, 3, 3, 3) vs model (4, 3, 3, 3)" in msg
    assert "\n" not in msg
    _assert_loaded(net, before)  # a failed strict load changes nothing


def test_many_missing_keys_are_truncated_in_message():
    class Wide(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(2, 2) for _ in range(10))

    with pytest.raises(CheckpointError, match=r"20 missing key\(s\): .*\(\+15 more\)"):
        load_checkpoint(Wide(), {"unrelated": torch.zeros(1)})


def test_non_strict_loads_what_fits_and_reports_the_rest():
    state = _trained_state()
    state["conv.weight"] = torch.zeros(8, 3, 3, 3)
    state["extra"] = torch.zeros(1)
    del state["head.bias"]
    net = TinyNet()
    old_conv = net.conv.weight.detach().clone()
    report = load_checkpoint(net, state, strict=False)
    assert report.missing == ["head.bias"]
    assert report.unexpected == ["extra"]
    assert report.mismatched == ["conv.weight: checkpoint (8, 3, 3, 3) vs model (4, 3, 3, 3)"]
    assert torch.equal(net.conv.weight, old_conv)
    assert torch.equal(net.head.weight, state["head.weight"])


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "cut.pth"
    torch.save({"params": _trained_state()}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=re.escape(f"{path} is not a readable PyTorch checkpoint (truncated or corrupt?)")):
        load_checkpoint(TinyNet(), path)


@pytest.mark.parametrize("content", [b"", b"hello, I am a text file\n", b"\x89PNG\r\n\x1a\n" + bytes(64)])
def test_non_checkpoint_file(tmp_path, content):
    path = tmp_path / "not.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(TinyNet(), path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint file not found"):
        load_checkpoint(TinyNet(), tmp_path / "nope.pth")


class _Opaque:  # module-level so it pickles by reference
    pass


def test_pickle_that_needs_weights_only_false(tmp_path):
    path = tmp_path / "unsafe.pth"
    torch.save({"params": _trained_state(), "opts": _Opaque()}, path)
    with pytest.raises(CheckpointError, match=r"beyond tensors .*_Opaque.*weights_only=True"):
        load_checkpoint(TinyNet(), path)


def test_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(CheckpointError, match="holds a list, not a state dict"):
        load_checkpoint(TinyNet(), path)
    with pytest.raises(CheckpointError, match="not a name -> tensor state dict"):
        load_checkpoint(TinyNet(), {"iter": 5, "optimizers": {}})
    assert issubclass(CheckpointError, ValueError)


def test_save_roundtrip_params_and_ema(tmp_path):
    net, ema = TinyNet(), TinyNet()
    path = save_checkpoint(tmp_path / "sub" / "net.pth", net, params_ema=ema.state_dict())
    assert path == tmp_path / "sub" / "net.pth"
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert set(ckpt) == {"params", "params_ema"}
    loaded = TinyNet()
    assert load_checkpoint(loaded, path).key == "params_ema"
    _assert_loaded(loaded, ema.state_dict())
    assert [p.name for p in path.parent.iterdir()] == ["net.pth"]  # no temp file left behind


def test_save_with_sha256_suffix(tmp_path):
    import hashlib

    path = save_checkpoint(tmp_path / "net.pth", _trained_state())
    path2 = save_checkpoint(tmp_path / "rel.pth", _trained_state(), add_sha256_suffix=True)
    digest = hashlib.sha256(path2.read_bytes()).hexdigest()
    assert path2.name == f"rel-{digest[:8]}.pth"
    assert not (tmp_path / "rel.pth").exists()
    assert torch.load(path, weights_only=True).keys() == {"params"}
    load_checkpoint(TinyNet(), path2)


def test_save_rejects_non_state(tmp_path):
    with pytest.raises(CheckpointError):
        save_checkpoint(tmp_path / "x.pth", {"a": 1})
    assert not any(tmp_path.iterdir())


def test_state_filter_adapts_foreign_layout_and_errors_name_the_file(tmp_path):
    state = _trained_state()
    path = tmp_path / "foreign.pth"
    torch.save({f"net.{k}": v for k, v in state.items()}, path)

    def strip(sd, model):
        assert isinstance(model, TinyNet)
        return {k.removeprefix("net."): v for k, v in sd.items()}

    net = TinyNet()
    assert load_checkpoint(net, path, state_filter=strip).num_loaded == len(state)
    _assert_loaded(net, state)
    with pytest.raises(CheckpointError, match=re.escape(f"{path} does not fit TinyNet")):
        load_checkpoint(net, path, state_filter=lambda sd, m: {"x": torch.zeros(1)})
