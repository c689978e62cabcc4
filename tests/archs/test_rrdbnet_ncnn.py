"""Real-ESRGAN ncnn -> RRDBNet conversion.

Fast tests write tiny ncnn files from a random small RRDBNet (same layout the converter reads).
The last test converts the shipped realesrgan-x4plus files and compares our RRDBNet with the
ncnn runtime on real face crops.
"""

import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from basicsr.archs.rrdbnet_arch import RRDBNet
from PIL import Image

from fsr.archs.checkpoint import CheckpointError, load_checkpoint
from fsr.archs.rrdbnet_ncnn import (
    TAG_FLOAT16,
    TAG_INT8,
    asset_converter,
    convert_ncnn_realesrgan,
    parse_ncnn_param,
    rrdbnet_conv_names,
)

# Real faces committed with the sample set (provenance: samples/PROVENANCE.md).
FACES = Path(__file__).resolve().parents[2] / "samples" / "crops"
SMALL = dict(num_in_ch=3, num_out_ch=3, num_feat=8, num_block=2, num_grow_ch=4, scale=4)


def _write_ncnn(state: dict, folder: Path, num_block: int, tag: int = TAG_FLOAT16) -> tuple[Path, Path]:
    """Write ``state`` (an RRDBNet state dict) as an ncnn .param/.bin pair, ncnn's layout."""
    names = rrdbnet_conv_names(num_block)
    lines = ["Input            in0  0 1 data"]
    blob = b""
    prev = "data"
    for i, name in enumerate(names):
        w, b = state[f"{name}.weight"], state[f"{name}.bias"]
        lines.append(
            f"Convolution      conv{i} 1 1 {prev} c{i} 0={w.shape[0]} 1=3 4=1 5=1 6={w.numel()}"
        )
        prev = f"c{i}"
        if name in ("conv_body",):
            lines.append(f"Interp           up0 1 1 {prev} u0 0=1 1=2.0 2=2.0")
            lines.append("Interp           up1 1 1 u0 u1 0=1 1=2.0 2=2.0")
            prev = "u1"
        flat = w.flatten().numpy()
        if tag == TAG_FLOAT16:
            data = flat.astype("<f2").tobytes()
            data += b"\0" * ((-len(data)) % 4)
        else:
            data = flat.astype("<f4").tobytes()
        blob += struct.pack("<I", tag) + data + b.numpy().astype("<f4").tobytes()
    param = folder / "net.param"
    param.write_text("7767517\n" + f"{len(lines)} {len(lines) + 1}\n" + "\n".join(lines) + "\n")
    binary = folder / "net.bin"
    binary.write_bytes(blob)
    return param, binary


@pytest.fixture
def small_state() -> dict:
    torch.manual_seed(0)
    return RRDBNet(**SMALL).state_dict()


@pytest.mark.parametrize("tag, atol", [(TAG_FLOAT16, 1e-3), (0, 0.0)], ids=["float16", "float32"])
def test_roundtrip_small_rrdbnet(tmp_path, small_state, tag, atol):
    param, binary = _write_ncnn(small_state, tmp_path, SMALL["num_block"], tag)
    state = convert_ncnn_realesrgan(param, binary)
    assert list(state) == list(small_state)  # same keys, same (forward) order
    for k, v in small_state.items():
        assert state[k].dtype == torch.float32 and state[k].shape == v.shape
        assert torch.allclose(state[k], v, atol=atol, rtol=0), k
        if k.endswith(".bias"):  # biases are stored as float32 even in float16 files
            assert torch.equal(state[k], v)
    net = RRDBNet(**SMALL)
    net.load_state_dict(state)


def test_parse_param(tmp_path, small_state):
    param, _ = _write_ncnn(small_state, tmp_path, SMALL["num_block"])
    layers = parse_ncnn_param(param)
    assert layers[0].type == "Input" and layers[1].type == "Convolution"
    assert layers[1].get_int(0) == 8 and layers[1].get_int(6) == 8 * 3 * 9
    assert layers[1].bottoms == ("data",) and layers[1].tops == ("c0",)


def test_asset_converter_output_loads_through_load_checkpoint(tmp_path, small_state):
    param, binary = _write_ncnn(small_state, tmp_path, SMALL["num_block"], tag=0)
    out = tmp_path / "RealESRGAN_small.pth"
    asset_converter({"realesrgan-x4plus-ncnn-param": param, "realesrgan-x4plus-ncnn-bin": binary}, out)
    ckpt = torch.load(out, map_location="cpu", weights_only=True)
    assert list(ckpt) == ["params_ema"]
    net = RRDBNet(**SMALL)
    assert load_checkpoint(net, out).key == "params_ema"
    assert torch.equal(net.conv_last.weight, small_state["conv_last.weight"])


def test_official_pth_layout_loads(tmp_path):
    """Stand-in for RealESRGAN_x4plus.pth: the full x4plus RRDBNet under 'params_ema'."""
    x4plus = dict(num_in_ch=3, num_out_ch=3, num_feat=64, num_block=23, num_grow_ch=32, scale=4)
    with torch.device("meta"):  # shapes only: fast
        template = RRDBNet(**x4plus).state_dict()
    official = {k: torch.randn(v.shape) for k, v in template.items()}
    path = tmp_path / "RealESRGAN_x4plus.pth"
    torch.save({"params_ema": official}, path)
    net = RRDBNet(**x4plus)
    report = load_checkpoint(net, path)
    assert report.key == "params_ema" and report.num_loaded == 702
    assert torch.equal(net.body[22].rdb3.conv5.weight, official["body.22.rdb3.conv5.weight"])
    with torch.device("meta"):
        narrow = RRDBNet(**{**x4plus, "num_feat": 32})
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_checkpoint(narrow, path)


def test_truncated_bin(tmp_path, small_state):
    param, binary = _write_ncnn(small_state, tmp_path, SMALL["num_block"])
    binary.write_bytes(binary.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="ends early"):
        convert_ncnn_realesrgan(param, binary)


def test_bin_of_another_model(tmp_path, small_state):
    param, binary = _write_ncnn(small_state, tmp_path, SMALL["num_block"])
    binary.write_bytes(binary.read_bytes() + bytes(8))
    with pytest.raises(CheckpointError, match="bytes left after the last layer"):
        convert_ncnn_realesrgan(param, binary)


def test_int8_weights_are_refused(tmp_path, small_state):
    param, binary = _write_ncnn(small_state, tmp_path, SMALL["num_block"], tag=TAG_INT8)
    with pytest.raises(CheckpointError, match="int8 storage"):
        convert_ncnn_realesrgan(param, binary)


def test_not_rrdbnet_or_not_ncnn(tmp_path, small_state):
    param, binary = _write_ncnn(small_state, tmp_path, SMALL["num_block"])
    text = param.read_text().splitlines()
    bad = tmp_path / "bad.param"
    n_layers, n_blobs = map(int, text[1].split())
    header = f"{n_layers + 1} {n_blobs + 1}"
    bad.write_text("\n".join([text[0], header, *text[2:], "PixelShuffle ps 1 1 c1 c2 0=4"]) + "\n")
    with pytest.raises(CheckpointError, match="not an RRDBNet graph"):
        convert_ncnn_realesrgan(bad, binary)
    bad.write_text("hello\n")
    with pytest.raises(CheckpointError, match="not an ncnn text .param"):
        convert_ncnn_realesrgan(bad, binary)


def _face_crops(size: int) -> list[np.ndarray]:
    crops = [
        Image.open(FACES / "astronaut-0.png").convert("RGB"),
        Image.open(FACES / "grace_hopper-0.png").convert("RGB"),
    ]
    return [
        np.ascontiguousarray(np.asarray(c.resize((size, size), Image.BICUBIC), np.float32).transpose(2, 0, 1) / 255)
        for c in crops
    ]


def test_converted_x4plus_matches_ncnn_runtime_on_faces():
    import ncnn  # the dev group's reference runtime

    from fsr.assets import resolve

    param, binary = resolve("realesrgan-x4plus-ncnn-param"), resolve("realesrgan-x4plus-ncnn-bin")
    net = RRDBNet(3, 3, num_feat=64, num_block=23, num_grow_ch=32, scale=4).eval()
    net.load_state_dict(convert_ncnn_realesrgan(param, binary))
    runtime = ncnn.Net()
    runtime.opt.use_vulkan_compute = False
    runtime.opt.num_threads = 2
    runtime.load_param(str(param))
    runtime.load_model(str(binary))
    for x in _face_crops(64):
        ex = runtime.create_extractor()
        mat = ncnn.Mat(x)  # wraps x without a copy: x must stay alive until extract()
        ex.input("data", mat)
        ret, out = ex.extract("output")
        assert ret == 0
        ref = np.array(out).copy()
        with torch.no_grad():
            ours = net(torch.from_numpy(x)[None])[0].numpy()
        assert ours.shape == ref.shape == (3, 256, 256)
        diff = np.abs(ours - ref)
        print(f"torch vs ncnn runtime: max abs diff {diff.max():.3g}, mean {diff.mean():.3g}")
        assert diff.max() < 1e-4 and diff.mean() < 1e-5, (diff.max(), diff.mean())
        # and the output is the face upsampled, not noise: it correlates with bicubic x4
        bic = torch.nn.functional.interpolate(torch.from_numpy(x)[None], scale_factor=4, mode="bicubic")
        assert np.corrcoef(ours.ravel(), bic[0].numpy().ravel())[0, 1] > 0.9
