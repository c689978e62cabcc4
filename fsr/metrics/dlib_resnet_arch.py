"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) in torch.

dlib computes one descriptor at a time on one core (about 145 ms per face on the 2-core
development machine); this port batches on every core and on a GPU. The network is dlib's
``anet_type`` from ``dnn_face_recognition_ex.cpp``: a 7x7/2 convolution, 3x3/2 max pool, 3 + 4
+ 3 + 3 + 1 residual blocks of 32/64/128/256/256 channels (each down block's shortcut is a 2x2
average pool, zero-padded to the wider channel count, as dlib's ``add_prev`` adds tensors of
different depth and size), a global average and a 128-d linear layer. Convolutions of stride
2 have no padding (dlib's default), so sizes run 150 -> 72 -> 35 -> 17 -> 8 -> 4 -> 2 (where
a down block's convolution gives fewer rows than its pooled shortcut, dlib pads it with zeros).

:func:`read_dlib_resnet` reads the weights straight from dlib's serialised ``.dat`` (no dlib
needed): each layer's details start with its name (``con_4``, ``affine_``, ``fc_2`` ...), and
tensors are stored as a version, four sizes and raw little-endian float32s. The input is
dlib's 150x150 face chip (``dlib.get_face_chip(img, shape, 150, 0.25)``), RGB, minus the
file's channel means, divided by 256. ``tests/metrics/test_dlib_resnet.py`` checks the
descriptors against dlib's own ``compute_face_descriptor``.

    >>> net = DlibFaceResNet()
    >>> net(torch.zeros(2, 3, 150, 150)).shape
    torch.Size([2, 128])
"""

from __future__ import annotations

import os
import re

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fsr.metrics.common import MetricError

CHIP_SIZE = 150
CHIP_PADDING = 0.25
DESCRIPTOR_DIM = 128
# (channels, blocks, first block downsamples) from the input side, as in anet_type
LEVELS = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))


def chip_to_image_affine(details) -> np.ndarray:
    """``(2, 3)`` affine taking chip pixels ``(col, row)`` to image pixels, for a
    ``dlib.chip_details``: the chip's corners are its rectangle's corners turned by its angle
    about the rectangle's centre, as ``dlib.extract_image_chip`` samples them.

        >>> import dlib
        >>> d = dlib.chip_details(dlib.rectangle(10, 20, 159, 169))  # 150x150, angle 0
        >>> chip_to_image_affine(d).round(3).tolist()
        [[1.0, 0.0, 10.0], [0.0, 1.0, 20.0]]
    """
    r = details.rect
    cx, cy = (r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2
    c, s = np.cos(details.angle), np.sin(details.angle)
    # columns: chip x, chip y, 1; the chip's last pixel lands on the rectangle's far corner
    sx = (r.right() - r.left()) / (details.cols - 1)
    sy = (r.bottom() - r.top()) / (details.rows - 1)
    rot = np.array([[c, -s], [s, c]])
    lin = rot @ np.diag([sx, sy])
    origin = rot @ np.array([r.left() - cx, r.top() - cy]) + np.array([cx, cy])
    return np.hstack([lin, origin[:, None]])


class _Affine(nn.Module):
    """dlib's ``affine_`` layer (a frozen batch norm): ``gamma * x + beta`` per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gamma.view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)


def _add_zero_padded(a: Tensor, b: Tensor) -> Tensor:
    """dlib's ``add_prev``: the sum at the larger of each size, the smaller tensor padded with
    zeros at the end (a down block's shortcut has fewer channels, and at 8 and 4 px more
    rows than its unpadded stride-2 convolution)."""
    size = [max(p, q) for p, q in zip(a.shape[1:], b.shape[1:], strict=True)]

    def pad(t: Tensor) -> Tensor:
        c, h, w = (n - m for n, m in zip(size, t.shape[1:], strict=True))
        return F.pad(t, (0, w, 0, h, 0, c)) if c or h or w else t

    return pad(a) + pad(b)


class _Residual(nn.Module):
    """relu(shortcut + block(x)): conv-affine-relu-conv-affine; when ``down``, stride 2 and a
    2x2 average-pool shortcut, added as dlib's ``add_prev`` adds."""

    def __init__(self, c_in: int, c_out: int, down: bool) -> None:
        super().__init__()
        self.down = down
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 2 if down else 1, 0 if down else 1)
        self.aff1 = _Affine(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.aff2 = _Affine(c_out)

    def forward(self, x: Tensor) -> Tensor:
        y = self.aff2(self.conv2(F.relu(self.aff1(self.conv1(x)))))
        skip = F.avg_pool2d(x, 2, 2) if self.down else x
        return F.relu(_add_zero_padded(y, skip))


class DlibFaceResNet(nn.Module):
    """``(N, 3, 150, 150)`` RGB chips in [0, 255] -> ``(N, 128)`` float32 dlib descriptors.

    Args:
        weights: a ``dlib_face_recognition_resnet_model_v1.dat`` (random weights if None).
    """

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 7, 2, 0)
        self.aff = _Affine(32)
        blocks, c_prev = [], 32
        for channels, count, down in LEVELS:
            for i in range(count):
                blocks.append(_Residual(c_prev, channels, down and i == 0))
                c_prev = channels
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(256, DESCRIPTOR_DIM, bias=False)
        self.register_buffer("mean_rgb", torch.tensor([122.782, 117.001, 104.298]))
        if weights is not None:
            state, mean_rgb = read_dlib_resnet(weights)
            self.load_state_dict({**state, "mean_rgb": mean_rgb})
        self.requires_grad_(False)
        self.eval()

    def forward(self, chips: Tensor) -> Tensor:
        if chips.ndim != 4 or chips.shape[1:] != (3, CHIP_SIZE, CHIP_SIZE):
            raise MetricError(f"dlib ResNet takes (N, 3, {CHIP_SIZE}, {CHIP_SIZE}) chips, got "
                              f"{tuple(chips.shape)}")
        x = (chips.float() - self.mean_rgb.view(1, 3, 1, 1)) / 256.0
        x = F.max_pool2d(F.relu(self.aff(self.conv(x))), 3, 2)
        x = self.blocks(x).mean(dim=(2, 3))
        return self.fc(x)


# -- reading dlib's serialisation -------------------------------------------------------------

class _Stream:
    """dlib's serialisation primitives (dlib/serialize.h, dlib/cuda/tensor.h)."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def int(self) -> int:  # a size byte (bit 7: negative), then that many little-endian bytes
        head = self.data[self.pos]
        size = head & 0x0F
        if size == 0 or size > 8:
            raise ValueError(f"bad integer at byte {self.pos}")
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if head & 0x80 else value

    def float(self) -> float:  # float_details: int64 mantissa * 2 ** int16 exponent
        return float(np.ldexp(float(self.int()), self.int()))

    def string(self) -> str:
        n = self.int()
        text = self.data[self.pos:self.pos + n].decode("ascii")
        self.pos += n
        return text

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise ValueError(f"unexpected tensor version at byte {self.pos}")
        shape = [self.int() for _ in range(4)]
        n = int(np.prod(shape))
        out = np.frombuffer(self.data, "<f4", count=n, offset=self.pos).reshape(shape)
        self.pos += 4 * n
        return out

    def alias(self) -> tuple[int, ...]:
        self.int()  # version
        return tuple(self.int() for _ in range(4))


_LAYER_NAMES = re.compile(rb"\x01(\x05con_[456]|\x07affine_|\x08affine_2|\x04fc_[23]"
                          rb"|\x15input_rgb_image_sized)")


def _layers(data: bytes) -> list[tuple[str, dict]]:
    """Every con/affine/fc/input layer's parameters, in file order (input side first)."""
    found, pos = [], 0
    while (m := _LAYER_NAMES.search(data, pos)) is not None:
        s = _Stream(data, m.start())
        name = s.string()
        if name.startswith("con_"):
            params = s.tensor()
            num_filters, nr, nc = s.int(), s.int(), s.int()
            stride, _, padding, _ = s.int(), s.int(), s.int(), s.int()
            filters, biases = s.alias(), s.alias()
            flat = params.reshape(-1)
            n_w = int(np.prod(filters))
            layer = {"weight": flat[:n_w].reshape(num_filters, -1, nr, nc),
                     "bias": flat[n_w:n_w + int(np.prod(biases))], "stride": stride,
                     "padding": padding}
        elif name.startswith("affine_"):
            params = s.tensor().reshape(-1)
            gamma = s.alias()
            k = int(np.prod(gamma))
            layer = {"gamma": params[:k], "beta": params[k:2 * k]}
        elif name.startswith("fc_"):
            n_out, n_in = s.int(), s.int()
            params = s.tensor().reshape(-1)
            layer = {"weight": params[:n_in * n_out].reshape(n_in, n_out).T}
        else:
            layer = {"mean_rgb": [s.float(), s.float(), s.float()], "size": (s.int(), s.int())}
        found.append((name, layer))
        pos = s.pos
    return found


def read_dlib_resnet(path: str | os.PathLike) -> tuple[dict[str, Tensor], Tensor]:
    """``(state_dict for DlibFaceResNet, channel means)`` from dlib's ``.dat``.

    Raises MetricError when the file is not this network (a wrong or truncated file)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        layers = _layers(data)
    except (OSError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise MetricError(f"{path}: not dlib's 150 px face-recognition ResNet ({exc})") from None
    kinds = "".join(name[0] for name, _ in layers)  # i, c(onv), a(ffine), f(c)
    n_blocks = sum(count for _, count, _ in LEVELS)
    if kinds != "i" + "ca" * (1 + 2 * n_blocks) + "f" or layers[0][1]["size"] != (CHIP_SIZE,
                                                                                  CHIP_SIZE):
        raise MetricError(f"{path}: not dlib's 150 px face-recognition ResNet (its layers "
                          f"read {kinds[:12] or 'nothing'}...)")
    model = DlibFaceResNet()
    shapes = {k: v.shape for k, v in model.state_dict().items() if k != "mean_rgb"}
    values: list[np.ndarray] = []
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    for conv, (_, layer) in zip(convs, [x for x in layers if x[0].startswith("con_")], strict=True):
        if (layer["stride"], layer["padding"]) != (conv.stride[0], conv.padding[0]):
            raise MetricError(f"{path}: a convolution has stride {layer['stride']} and "
                              f"padding {layer['padding']}, expected {conv.stride[0]} and "
                              f"{conv.padding[0]}")
    for _, layer in layers[1:]:
        values += [layer[k] for k in ("weight", "bias", "gamma", "beta") if k in layer]
    state = {}
    for (key, expected), value in zip(shapes.items(), values, strict=True):
        tensor = torch.from_numpy(np.array(value, dtype=np.float32))
        if tensor.numel() != expected.numel():
            raise MetricError(f"{path}: {key} has {tensor.numel()} values, expected "
                              f"{tuple(expected)}")
        state[key] = tensor.reshape(expected)
    return state, torch.tensor(layers[0][1]["mean_rgb"], dtype=torch.float32)


__all__ = ["CHIP_PADDING", "CHIP_SIZE", "DlibFaceResNet", "read_dlib_resnet"]
