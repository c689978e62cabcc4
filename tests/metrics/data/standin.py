"""What the metric fixture generators share (``make_*_fixtures.py`` beside this file): stand-in
weights built by a fixed formula, and loading reference code by path (the reference
repositories are not packages here). The generators import it as the scripts they are
(``from standin import ...``); the tests load it first through ``fixture_script``
(tests/metrics/conftest.py)."""

from __future__ import annotations

import importlib.util
import sys
import types
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch


def standin_state_dict(shapes: dict[str, tuple[int, ...]],
                       is_prelu: Callable[[str], bool]) -> dict[str, torch.Tensor]:
    """Deterministic stand-in weights for a layout ``{key: shape}``: He-scaled convolutions and
    linears, batch norms near identity with positive running variances, PReLU slopes near 0.25
    (``is_prelu(key)``: a layout's PReLU weights). Each tensor is drawn from a generator seeded
    by the crc32 of its key."""
    out = {}
    for key, shape in shapes.items():
        gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
        leaf = key.rsplit(".", 1)[-1]
        if leaf == "num_batches_tracked":
            out[key] = torch.zeros((), dtype=torch.long)
        elif leaf == "running_var":
            out[key] = 0.5 + torch.rand(shape, generator=gen)
        elif leaf == "running_mean":
            out[key] = 0.1 * torch.randn(shape, generator=gen)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            out[key] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        elif is_prelu(key):
            out[key] = 0.25 + 0.05 * torch.randn(shape, generator=gen)
        elif leaf == "weight":  # batch-norm scale
            out[key] = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        else:  # biases
            out[key] = 0.05 * torch.randn(shape, generator=gen)
    return out


def load_module(name: str, path: Path) -> types.ModuleType:
    """Execute the file ``path`` as module ``name`` (registered, so its own imports find it)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def stub_package(name: str, **attrs) -> types.ModuleType:
    """An empty package ``name`` (with ``attrs``) so reference code's absolute imports resolve."""
    module = types.ModuleType(name)
    module.__path__ = []
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module
