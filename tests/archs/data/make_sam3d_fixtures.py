"""Regenerate ``sam3d_ref_x{4,8}.npz`` from the SAM3D authors' code (not from fsr).

Each fixture holds an input (``lr``, ``render``) and the output of the authors' ``SFT_Net_torch``
(``SFT_rcan.py`` + ``common.py`` of HUuxiaobin/Face-Super-Resolution-Guided-by-3D-Facial-Priors,
imported unchanged by path) built with the released hyper-parameters (n_feats 64, reduction 16,
n_resblocks 20) and loaded with the deterministic weights of ``recipe_state_dict`` in
``tests/archs/test_sam3d.py`` (one definition: the test rebuilds the same weights for fsr's SAM3D
and compares outputs). Run it in its own process::

    git clone https://github.com/HUuxiaobin/Face-Super-Resolution-Guided-by-3D-Facial-Priors /tmp/sam3d_ref
    .venv/bin/python tests/archs/data/make_sam3d_fixtures.py /tmp/sam3d_ref           # rewrite
    .venv/bin/python tests/archs/data/make_sam3d_fixtures.py /tmp/sam3d_ref --check   # compare

``SFT_rcan.py`` imports a module ``block`` that the repository does not ship and never uses; an
empty stand-in is registered for that import only.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
SIDE = {4: 32, 8: 16}  # input side: the authors' 128 px output
WEIGHT_SEED, INPUT_SEED = 0, 1
ATOL = 1e-4  # as tests/archs/test_sam3d.py (float32 convolutions differ by CPU)


def _load_by_path(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def authors_net(ref: Path, scale: int) -> torch.nn.Module:
    """The authors' SFT_Net_torch for ``scale``, from their checkout at ``ref``."""
    sys.modules.setdefault("block", types.ModuleType("block"))  # imported, never used
    _load_by_path("common", ref / "common.py")
    sft_rcan = _load_by_path("sft_rcan_authors", ref / "SFT_rcan.py")
    args = types.SimpleNamespace(n_feats=64, reduction=16, n_resblocks=20, scale=scale)
    return sft_rcan.SFT_Net_torch(args)


def make(ref: Path, scale: int) -> dict[str, np.ndarray]:
    recipe = _load_by_path("test_sam3d_recipe", HERE.parent / "test_sam3d.py")
    net = authors_net(ref, scale)
    net.load_state_dict(recipe.recipe_state_dict(net.state_dict(), seed=WEIGHT_SEED), strict=True)
    net.eval()
    lr, render = recipe.images(1, SIDE[scale], seed=INPUT_SEED)
    with torch.no_grad():
        out = net([lr, render])
    return {"lr": lr.numpy(), "render": render.numpy(), "output": out.numpy(),
            "scale": np.int64(scale), "weight_seed": np.int64(WEIGHT_SEED),
            "input_seed": np.int64(INPUT_SEED)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ref", type=Path, help="checkout of the authors' repository (SFT_rcan.py)")
    ap.add_argument("--check", action="store_true", help="compare with the committed fixtures")
    args = ap.parse_args(argv)
    if not (args.ref / "SFT_rcan.py").is_file():
        print(f"make_sam3d_fixtures: no SFT_rcan.py in {args.ref}", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    worst = 0.0
    for scale in (4, 8):
        new = make(args.ref, scale)
        path = HERE / f"sam3d_ref_x{scale}.npz"
        if args.check:
            old = np.load(path)
            assert all(np.array_equal(old[k], new[k]) for k in ("lr", "render", "scale"))
            diff = float(np.abs(old["output"] - new["output"]).max())
            worst = max(worst, diff)
            print(f"{path.name}: max |output - committed| = {diff:.3g}")
        else:
            np.savez_compressed(path, **new)
            print(f"{path.name}: output {new['output'].shape}, std {new['output'].std():.3f}")
    return 0 if worst <= ATOL else 1


if __name__ == "__main__":
    raise SystemExit(main())
