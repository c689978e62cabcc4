"""The harness feeds prior-guided methods a prior computed from the degraded input only
(cached by the input's hash); the ground-truth prior exists only as a labelled oracle."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[2]

FACES = ["audrey_crop", "obama4_crop"]


class RecordingNet(nn.Module):
    """A prior-guided stand-in: remembers each render, returns bicubic x4."""

    def __init__(self):
        super().__init__()
        self.renders = []

    def forward(self, x, render):
        self.renders.append(render.clone())
        return torch.nn.functional.interpolate(x, scale_factor=4, mode="bicubic")


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    from PIL import Image

    folder = tmp_path_factory.mktemp("faces")
    for name in FACES:  # the sample set's aligned 256 px crops (samples/PROVENANCE.md)
        im = Image.open(REPO / "samples" / "crops" / f"{name}-0.png").convert("RGB")
        im.resize((128, 128), Image.BICUBIC).save(folder / f"{name}.png")
    return folder


def _run(faces: Path, out: Path, oracle: bool):
    from fsr.bench.compute.engine import Plan, Runner
    from fsr.bench.compute.store import Store
    from fsr.bench.compute.timing import Timer
    from fsr.bench.inputs.datasets import open_dataset
    from fsr.bench.inputs.suite import parse_suite
    from fsr.methods import Method

    raw = {"name": "prior", "datasets": [{"name": "f", "type": "folder", "path": str(faces)}],
           "tasks": [{"name": "sr-x4", "kind": "sr", "scale": 4, "size": 128,
                      "degradation": {"type": "bicubic", "scale": 4}}],
           "methods": ["standin"], "metrics": ["psnr"],
           "prior": "oracle" if oracle else "degraded"}
    suite = parse_suite(raw, Path("prior.yml"))
    ds = open_dataset(dict(suite.datasets[0]))
    net = RecordingNet()
    method = Method(name="standin", task="sr", scale=4, in_size=None, out_size=None,
                    needs_prior=True, weights_sha256=None, oracle=oracle, _net=net)
    plan = Plan(suite, [ds], [(ds, it) for it in ds.items], {"sr-x4": [method]})
    store = Store(out)
    try:
        Runner(plan, store, Timer()).run(progress=False)
    finally:
        store.close()
    return ds, net, store, method


def test_prior_comes_from_the_degraded_input(faces, tmp_path):
    from fsr.bench.compute import lib
    from fsr.priors import PriorCache

    ds, net, store, method = _run(faces, tmp_path / "a", oracle=False)
    assert method.label == "standin" and len(net.renders) == len(FACES)
    for item, render in zip(ds.items, net.renders, strict=True):
        lq = lib.degrade(ds.load_gt(item, 128), {"type": "bicubic", "scale": 4}, item.key,
                         "sr-x4")
        expected = PriorCache(None).get(lq)["render"]  # computed afresh, from lq alone
        assert render.shape == (1, 3, 32, 32)
        assert torch.equal(render[0].permute(1, 2, 0), torch.from_numpy(expected))
        path = store.priors.path(lq)
        assert path.is_file() and path.name.startswith("p1-degraded-32x32-32-")
    # a rerun reads the cached lines: the method is not called again
    _, net2, _, _ = _run(faces, tmp_path / "a", oracle=False)
    assert net2.renders == []


def test_oracle_prior_is_labelled_and_fits_the_full_size_ground_truth(faces, tmp_path):
    from fsr.bench.compute import lib
    from fsr.priors import PriorCache

    ds, net, store, method = _run(faces, tmp_path / "b", oracle=True)
    assert method.label == "standin+oracle"
    keys = [k for k in store.records if "|sr-x4:" in k]
    assert keys and all("|standin+oracle:" in k for k in keys)
    names = sorted(p.name for p in store.priors.folder.iterdir())
    # fitted on the 128 px ground truth (the output size), rendered at the 32 px input size:
    # the definition training uses
    assert len(names) == len(FACES) and all(n.startswith("p1-oracle-128x128-32-") for n in names)
    for item, render in zip(ds.items, net.renders, strict=True):
        gt = ds.load_gt(item, 128)
        lq = lib.degrade(gt, {"type": "bicubic", "scale": 4}, item.key, "sr-x4")
        expected = PriorCache(None).get(lq, gt, source="oracle")["render"]
        assert torch.equal(render[0].permute(1, 2, 0), torch.from_numpy(expected))
