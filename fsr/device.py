"""Where and in which number type inference runs: ``--device`` and ``--dtype`` parsing.

One rule for every entry point (``bench/run.py``, ``python -m fsr restore``, the demo's
``FSR_DEVICE`` / ``FSR_DTYPE``): a device that is not there is one clear
:class:`DeviceError` (a ``ValueError``) before any weights load, never a CUDA traceback later.

    >>> parse_device("cpu")
    device(type='cpu')
    >>> parse_dtype("bf16")
    torch.bfloat16
    >>> parse_device("tpu")
    Traceback (most recent call last):
    ...
    fsr.device.DeviceError: device must be cpu, cuda, cuda:N or mps, got 'tpu'

The dtype is for methods only; metrics always run in float32 (a metric number must not depend
on how the restored image was computed).
"""

from __future__ import annotations

import os
import re

import torch

__all__ = ["CHANNELS_LAST_DEVICES", "DTYPES", "DeviceError", "autocast", "default_device",
           "parse_device", "parse_dtype", "to_channels_last"]

CHANNELS_LAST_DEVICES = ("cpu", "cuda")  # not mps: its channels_last kernels have had bugs

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
          "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16,
          "half": torch.float16}


class DeviceError(ValueError):
    """A device or dtype that is unknown or not available on this machine (one line)."""


def parse_device(text: str | torch.device | None) -> torch.device:
    """``'cpu' | 'cuda' | 'cuda:N' | 'mps'`` (or None = ``$FSR_DEVICE``, else cpu), checked.

    >>> parse_device(None).type in ('cpu', 'cuda', 'mps')
    True
    """
    if text is None:
        text = os.environ.get("FSR_DEVICE") or "cpu"
    if isinstance(text, torch.device):
        text = str(text)
    name = str(text).strip().lower()
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", name):
        raise DeviceError(f"device must be cpu, cuda, cuda:N or mps, got {text!r}")
    dev = torch.device(name)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name}: CUDA is not available here (torch "
                              f"{torch.__version__}, built for CUDA "
                              f"{torch.version.cuda or 'none'}; no GPU or driver found); "
                              "use --device cpu")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise DeviceError(f"device {name}: only {count} CUDA device(s) here "
                              f"(cuda:0..cuda:{count - 1})")
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError(f"device {name}: Apple MPS is not available here; use --device cpu")
    return dev


def default_device() -> torch.device:
    """``$FSR_DEVICE`` checked, else cpu."""
    return parse_device(None)


def parse_dtype(text: str | torch.dtype | None, device: torch.device | str = "cpu"
                ) -> torch.dtype:
    """'float32' / 'bfloat16' / 'float16' (or fp32, bf16, fp16; None = ``$FSR_DTYPE``, else
    float32) -> a torch dtype; float16 on a CPU without float16 autocast is refused.

    >>> parse_dtype("float32")
    torch.float32
    >>> parse_dtype("int8")
    Traceback (most recent call last):
    ...
    fsr.device.DeviceError: dtype must be float32, bfloat16 or float16, got 'int8'
    """
    if text is None:
        text = os.environ.get("FSR_DTYPE") or "float32"
    if isinstance(text, torch.dtype):
        if text not in DTYPES.values():
            raise DeviceError(f"dtype must be float32, bfloat16 or float16, got {text}")
        return text
    key = str(text).strip().lower()
    if key not in DTYPES:
        raise DeviceError(f"dtype must be float32, bfloat16 or float16, got {text!r}")
    dtype = DTYPES[key]
    dev = torch.device(device)
    if dtype is torch.bfloat16 and dev.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise DeviceError(f"dtype bfloat16: {torch.cuda.get_device_name(dev)} has no bfloat16; "
                          "use --dtype float16")
    return dtype


def autocast(device: torch.device | str, dtype: torch.dtype):
    """The autocast context of ``dtype`` on ``device``'s type; a no-op context for float32.

    Autocast (not casting the weights) keeps normalisations, resizes and reductions in float32
    and runs convolutions and matrix products in ``dtype`` (oneDNN on CPU, tensor cores on GPU).

    >>> with autocast("cpu", torch.bfloat16):
    ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
    torch.bfloat16
    """
    dev = torch.device(device)
    return torch.autocast(dev.type, dtype=dtype, enabled=dtype is not torch.float32)


def to_channels_last(net: torch.nn.Module) -> torch.nn.Module:
    """``net`` with its 4-D weights channels_last (NHWC) on a CPU or CUDA device: oneDNN's
    and cuDNN's faster convolution layout (Real-ESRGAN -12 %, SAM3D -18 % CPU time per face
    at batch 8, outputs within 3e-6). ``Module.to(memory_format=...)`` refuses the 5-D
    modulated-conv weights of StyleGAN2, hence one tensor at a time.

    >>> net = to_channels_last(torch.nn.Conv2d(3, 8, 3))
    >>> net.weight.is_contiguous(memory_format=torch.channels_last)
    True
    """
    tensors = [*net.parameters(), *net.buffers()]
    if tensors and tensors[0].device.type in CHANNELS_LAST_DEVICES:
        for t in tensors:
            if t.dim() == 4:
                t.data = t.data.contiguous(memory_format=torch.channels_last)
    return net
