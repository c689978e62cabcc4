"""fsr.priors.service: the one prior of training, the benchmark and restore. The degraded-input
prior must be bit for bit what each path computed before the service (so the default benchmark's
CSVs do not move); the oracle fits the full-size ground truth; the cache and packer are exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fsr.data.degradations import degrade
from fsr.data.samples import load_image, load_samples
from fsr.priors import PRIOR_SOURCES, PriorCache, compute_prior, pack_priors

# the inputs the default run feeds prior-guided methods: sr-x4 (32 px), sr-x8 (16 px) and a
# blind (restore) input at 128 px
SPECS = [({"type": "bicubic", "scale": 4}, "sr-x4"), ({"type": "bicubic", "scale": 8}, "sr-x8"),
         ({"type": "blind", "preset": "gfpgan"}, "restore")]


def _old_uint8(img):  # the formula of fsr/bench/harness lib.to_uint8 and data/prior_cache.py
    return np.ascontiguousarray((np.clip(img, 0, 1) * 255.0).round().astype(np.uint8))


@pytest.fixture(scope="module")
def inputs():
    from fsr.data.degradations import seed_for

    out = []
    for s in load_samples("test")[:3]:
        gt = load_image(s, 128)
        for spec, task in SPECS:
            out.append((gt, degrade(gt, spec, seed_for(s.id, task))))
    return out


def test_degraded_prior_is_bit_identical_to_the_old_paths(inputs):
    """Old bench/training formula (compute_prior(uint8(lq), size=side, with_maps=False)) and
    the old batching packer vs the service; old restore (compute_prior(crop), maps on)."""
    new = [PriorCache(None).get(lq) for _, lq in inputs]
    for (_, lq), p in zip(inputs, new, strict=True):
        old = compute_prior(_old_uint8(lq), size=lq.shape[0], with_maps=False)
        assert np.array_equal(p["render"], np.asarray(old.render, np.float32))
        assert np.array_equal(p["coeffs"], np.asarray(old.coeffs, np.float32))
        assert bool(p["fitted"]) == old.fitted
        crop = _old_uint8(lq)  # restore's crops are uint8 already: passed through as they are
        old_restore = compute_prior(crop)
        again = PriorCache(None).get(crop)
        assert np.array_equal(again["render"], old_restore.render)
        assert torch.equal(torch.from_numpy(again["coeffs"]),
                           torch.from_numpy(old_restore.coeffs).float())
    assert sum(bool(p["fitted"]) for p in new) >= len(new) // 2  # real faces, mostly fitted
    # the old batching packer (cat of (1,3,h,w) renders, stack of coeffs) vs pack_priors
    for side in {lq.shape[0] for _, lq in inputs}:
        group = [p for (_, lq), p in zip(inputs, new, strict=True) if lq.shape[0] == side]
        old_r = torch.cat([torch.from_numpy(p["render"]).permute(2, 0, 1)[None] for p in group])
        old_c = torch.stack([torch.from_numpy(p["coeffs"]) for p in group])
        packed = pack_priors(group)
        assert packed["render"].is_contiguous() and packed["render"].dtype == torch.float32
        assert torch.equal(packed["render"], old_r) and torch.equal(packed["coeffs"], old_c)


def test_oracle_fits_the_ground_truth_at_its_size_and_renders_at_the_input_size(inputs):
    gt, lq = inputs[0]  # sr-x4: 128 px ground truth, 32 px input
    p = PriorCache(None).get(lq, gt, source="oracle")
    ref = compute_prior(_old_uint8(gt), size=32, with_maps=False)
    assert p["render"].shape == (32, 32, 3)
    assert np.array_equal(p["render"], ref.render) and np.array_equal(p["coeffs"], ref.coeffs)
    assert not np.array_equal(p["render"], PriorCache(None).get(lq)["render"])
    with pytest.raises(ValueError, match="needs the ground truth"):
        PriorCache(None).get(lq, source="oracle")
    with pytest.raises(ValueError, match="prior source"):
        PriorCache(None).get(lq, gt, source="lq")
    assert PRIOR_SOURCES == ("degraded", "oracle")


def test_cache_returns_exactly_what_it_computed_and_survives_a_torn_entry(inputs, tmp_path):
    gt, lq = inputs[0]
    cache = PriorCache(tmp_path)
    first = cache.get(lq)
    path = cache.path(lq)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert path.name.startswith("p1-degraded-32x32-32-")
    again = cache.get(lq)
    assert all(np.array_equal(first[k], again[k]) and first[k].dtype == again[k].dtype
               for k in first)
    path.write_bytes(path.read_bytes()[:50])  # a half file from elsewhere: recomputed
    assert np.array_equal(cache.get(lq)["render"], first["render"])
    # the uint8 form of the same input shares the entry (the key is what the mesh is fitted on)
    assert cache.path(_old_uint8(lq)) == path
    assert cache.path(lq, gt, "oracle").name.startswith("p1-oracle-128x128-32-")
