"""Convert Real-ESRGAN's ncnn model (.param + .bin) into a BasicSR ``RRDBNet`` state dict.

The ncnn files exported from ``RealESRGAN_x4plus.pth`` hold the same 351 convolutions as
``basicsr.archs.rrdbnet_arch.RRDBNet(num_feat=64, num_block=23, num_grow_ch=32, scale=4)``,
listed in forward order, which is also the order of RRDBNet's state dict::

    conv_first, body.{i}.rdb{1,2,3}.conv{1..5} (i < num_block), conv_body,
    conv_up1, conv_up2, conv_hr, conv_last

``.bin`` layout (ncnn ``ModelBin``): for each Convolution, its weight blob starts with a 4-byte
tag (0 = float32, 0x01306B47 = float16, padded to 4 bytes), then the bias as raw float32 with
no tag. Real-ESRGAN's file stores float16 weights, so converted weights equal the official
``.pth`` up to float16 rounding.

Example::

    sd = convert_ncnn_realesrgan('realesrgan-x4plus.param', 'realesrgan-x4plus.bin')
    net = RRDBNet(3, 3, num_feat=64, num_block=23, num_grow_ch=32, scale=4)
    net.load_state_dict(sd)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from fsr.archs.checkpoint import CheckpointError, atomic_torch_save

__all__ = ["NcnnLayer", "asset_converter", "convert_ncnn_realesrgan", "parse_ncnn_param", "rrdbnet_conv_names"]

NCNN_MAGIC = 7767517
TAG_FLOAT32 = 0x00000000
TAG_FLOAT16 = 0x01306B47
TAG_FLOAT32_SCALED = 0x0002C056  # raw float32 (written by ncnn's int8 tools)
TAG_INT8 = 0x000D4B38


@dataclass(frozen=True)
class NcnnLayer:
    """One line of an ncnn ``.param`` file; ``params`` maps the integer id to its raw value."""

    type: str
    name: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    params: dict[int, str]

    def get_int(self, key: int, default: int = 0) -> int:
        return int(self.params.get(key, default))


def parse_ncnn_param(path: str | os.PathLike) -> list[NcnnLayer]:
    """Parse an ncnn text ``.param`` file into its layers (in file order).

    [l.type for l in parse_ncnn_param('realesrgan-x4plus.param')][:2]  # -> ['Input', 'Convolution']
    """
    lines = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    if not lines or lines[0] != [str(NCNN_MAGIC)] or len(lines) < 2 or len(lines[1]) != 2:
        raise CheckpointError(f"{path} is not an ncnn text .param file (magic {NCNN_MAGIC})")
    n_layers = int(lines[1][0])
    layers = []
    for fields in lines[2:]:
        n_in, n_out = int(fields[2]), int(fields[3])
        blobs = fields[4 : 4 + n_in + n_out]
        params = dict(kv.split("=", 1) for kv in fields[4 + n_in + n_out :])
        layers.append(
            NcnnLayer(fields[0], fields[1], tuple(blobs[:n_in]), tuple(blobs[n_in:]),
                      {int(k): v for k, v in params.items()})
        )
    if len(layers) != n_layers:
        raise CheckpointError(f"{path}: header says {n_layers} layers, found {len(layers)}")
    return layers


def rrdbnet_conv_names(num_block: int) -> list[str]:
    """RRDBNet's conv module names in forward (= state dict) order.

    >>> rrdbnet_conv_names(23)[:2], len(rrdbnet_conv_names(23))
    (['conv_first', 'body.0.rdb1.conv1'], 351)
    """
    body = [f"body.{i}.rdb{r}.conv{c}" for i in range(num_block) for r in (1, 2, 3) for c in range(1, 6)]
    return ["conv_first", *body, "conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]


class _BinReader:
    def __init__(self, path: Path) -> None:
        self.path, self.data, self.pos = path, path.read_bytes(), 0

    def _take(self, nbytes: int) -> bytes:
        if self.pos + nbytes > len(self.data):
            raise CheckpointError(f"{self.path} ends early at byte {len(self.data)} (truncated?)")
        chunk = self.data[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return chunk

    def tagged(self, count: int, what: str) -> np.ndarray:
        """A blob that starts with ncnn's 4-byte storage tag (ModelBin type 0)."""
        tag = int.from_bytes(self._take(4), "little")
        if tag == TAG_FLOAT16:
            values = np.frombuffer(self._take(2 * count), dtype="<f2")
            self._take((-2 * count) % 4)  # blobs are 4-byte aligned
            return values.astype(np.float32)
        if tag in (TAG_FLOAT32, TAG_FLOAT32_SCALED):
            return np.frombuffer(self._take(4 * count), dtype="<f4").copy()
        kind = "int8" if tag == TAG_INT8 else "quantised (table)" if tag & 0xFF else "unknown"
        raise CheckpointError(
            f"{self.path}: {what} uses {kind} storage (tag 0x{tag:08X}); only float32/float16 "
            "ncnn weights can be converted"
        )

    def raw_float32(self, count: int) -> np.ndarray:
        return np.frombuffer(self._take(4 * count), dtype="<f4").copy()


def convert_ncnn_realesrgan(
    param_path: str | os.PathLike, bin_path: str | os.PathLike
) -> dict[str, Tensor]:
    """Read an ncnn RRDBNet (Real-ESRGAN x4plus layout) and return RRDBNet's float32 state dict.

    ``num_feat``, ``num_grow_ch`` and ``num_block`` are read from the graph; every tensor's
    shape is checked against the RRDBNet layout, so a different network fails loudly.
    """
    param_path, bin_path = Path(param_path), Path(bin_path)
    layers = parse_ncnn_param(param_path)
    convs = [layer for layer in layers if layer.type == "Convolution"]
    others = {layer.type for layer in layers} - {
        "Input", "Convolution", "Split", "Concat", "Eltwise", "BinaryOp", "Interp"
    }
    if others or len(convs) < 21 or (len(convs) - 6) % 15:
        raise CheckpointError(
            f"{param_path} is not an RRDBNet graph ({len(convs)} convolutions, "
            f"unexpected layer types {sorted(others)})"
        )
    num_block = (len(convs) - 6) // 15
    num_feat, num_grow = convs[0].get_int(0), convs[1].get_int(0)
    num_in = convs[0].get_int(6) // (num_feat * 9)
    num_upsample = sum(layer.type == "Interp" for layer in layers)
    if num_upsample != 2:
        raise CheckpointError(
            f"{param_path}: {num_upsample} upsampling layers; only the x4 RRDBNet (2) is supported"
        )

    def shape_of(name: str) -> tuple[int, int]:  # (out, in) channels of RRDBNet's conv `name`
        if name == "conv_first":
            return num_feat, num_in
        if name == "conv_last":
            return convs[-1].get_int(0), num_feat
        if name.startswith("body."):
            c = int(name[-1])
            return (num_feat if c == 5 else num_grow), num_feat + (c - 1) * num_grow
        return num_feat, num_feat

    reader = _BinReader(bin_path)
    state: dict[str, Tensor] = {}
    for name, conv in zip(rrdbnet_conv_names(num_block), convs, strict=True):
        out_ch, in_ch = shape_of(name)
        k = conv.get_int(1)
        if (conv.get_int(0), conv.get_int(6), k, conv.get_int(5)) != (out_ch, out_ch * in_ch * 9, 3, 1):
            raise CheckpointError(
                f"{param_path}: layer {conv.name} (out {conv.get_int(0)}, {conv.get_int(6)} weights, "
                f"kernel {k}, bias {conv.get_int(5)}) does not fit RRDBNet's {name} "
                f"({out_ch}x{in_ch}x3x3 with bias)"
            )
        weight = reader.tagged(conv.get_int(6), f"layer {conv.name}")
        bias = reader.raw_float32(out_ch)
        state[f"{name}.weight"] = torch.from_numpy(weight.reshape(out_ch, in_ch, 3, 3))
        state[f"{name}.bias"] = torch.from_numpy(bias)
    if reader.pos != len(reader.data):
        raise CheckpointError(
            f"{bin_path}: {len(reader.data) - reader.pos} bytes left after the last layer; "
            f"it does not belong to {param_path.name}"
        )
    return state


def asset_converter(sources: dict[str, Path], out: Path) -> None:
    """fsr.assets converter for ``realesrgan-x4plus``: ncnn files -> ``{'params_ema': ...}``."""
    state = convert_ncnn_realesrgan(
        sources["realesrgan-x4plus-ncnn-param"], sources["realesrgan-x4plus-ncnn-bin"]
    )
    atomic_torch_save({"params_ema": state}, out)
