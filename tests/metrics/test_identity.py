"""Identity similarity: ArcFace loading (stand-in checkpoints) and dlib on real photos."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from fsr.metrics import MetricError, create_metric
from fsr.metrics.arcface_arch import ResNetArcFace
from fsr.metrics.identity import IdentitySimilarity

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def faces(photos):
    """name -> 256x256 float32 (1, 3, H, W): the sample set's aligned crops of the
    face_recognition==1.3.0 sdist test images (MIT) obama.jpg, obama2.jpg and biden.jpg."""
    return {f"{name}.jpg": photos.to_batch([photos.photo(f"{name}-0")]).float()
            for name in ("obama", "obama2", "biden")}


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    """A randomly initialised ArcFace saved as GFPGAN releases it (raw state dict), and with
    nn.DataParallel's 'module.' prefix: (net, {prefix: path})."""
    torch.manual_seed(0)
    net = ResNetArcFace().eval()
    for m in net.modules():  # non-trivial BatchNorm statistics
        if isinstance(m, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 2.0)
    paths = {}
    for prefix in ("", "module."):
        paths[prefix] = tmp_path_factory.mktemp("arcface") / "arcface_resnet18.pth"
        torch.save({prefix + k: v for k, v in net.state_dict().items()}, paths[prefix])
    return net, paths


def test_arcface_layout_is_gfpgans():
    # keys + shapes of GFPGAN's ResNetArcFace('IRBlock', [2, 2, 2, 2], use_se=False), generated
    # from gfpgan/archs/arcface_arch.py (GFPGAN v1.3.8); outputs matched it exactly (0.0).
    expected = json.loads((DATA / "arcface_resnet18_keys.json").read_text())
    ours = {k: list(v.shape) for k, v in ResNetArcFace().state_dict().items()}
    assert ours == expected and list(ours) == list(expected)


@pytest.mark.parametrize("prefix", ["", "module."])
def test_arcface_stand_in_checkpoint(stand_in, prefix):
    net, paths = stand_in
    metric = IdentitySimilarity(backend="arcface", arcface_weights=paths[prefix])
    assert metric.model_name == "arcface-resnet18"
    for (k, v), ref in zip(metric.arcface.state_dict().items(), net.state_dict().values(), strict=True):
        assert torch.equal(v, ref), k
    gt = torch.rand(3, 3, 96, 96)
    pred = (gt + 0.3 * torch.randn_like(gt)).clamp(0, 1).requires_grad_(True)
    cos = metric(pred, gt)
    assert cos.shape == (3,) and cos.dtype == torch.float32 and (cos.abs() <= 1 + 1e-6).all()
    cos.sum().backward()  # ArcFace identity is differentiable (usable as a loss)
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    same = metric(gt, gt)
    assert torch.allclose(same, torch.ones(3), atol=1e-5)
    # GFPGAN's input: grey [-1, 1] at 128x128
    x = metric.arcface_input(torch.ones(1, 3, 64, 64))
    assert x.shape == (1, 1, 128, 128) and torch.allclose(x, torch.full_like(x, 0.9999), atol=1e-6)


def test_arcface_degrees_and_bad_checkpoint(stand_in, tmp_path):
    path = stand_in[1][""]
    # the angle statistic of GFPGAN's pipeline (the papers' Deg is identity-deg, test_paper_face_metrics)
    deg = IdentitySimilarity(backend="arcface", statistic="degrees", arcface_weights=path)
    gt = torch.rand(2, 3, 64, 64)
    assert torch.allclose(deg(gt, gt), torch.zeros(2), atol=0.3)
    cos = create_metric("identity", backend="arcface", arcface_weights=path)
    pred = torch.rand(2, 3, 64, 64)
    expected = torch.rad2deg(torch.acos(cos(pred, gt)))
    assert torch.allclose(deg(pred, gt), expected, atol=1e-4)
    # the same weights through VQFR's Deg pipeline: identical pairs are left out (NaN)
    vqfr = create_metric("identity-deg", weights=path)
    assert torch.isnan(vqfr(gt, gt)).all() and vqfr.last_identical == 2 and vqfr.lower_better
    torch.save({"conv1.weight": torch.zeros(64, 1, 3, 3)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="bad.pth|missing"):
        IdentitySimilarity(backend="arcface", arcface_weights=tmp_path / "bad.pth")


def test_backend_choice_without_arcface(monkeypatch, tmp_path):
    # point the asset at a missing file: resolve() fails the same way on every machine
    monkeypatch.setenv("FSR_ASSET_ARCFACE_RESNET18", str(tmp_path / "absent.pth"))
    with pytest.raises(MetricError, match="ArcFace weights unavailable"):
        IdentitySimilarity(backend="arcface")
    metric = create_metric("identity")  # auto -> dlib
    assert metric.model_name == "dlib-resnet" and "dlib-resnet" in repr(metric)
    with pytest.raises(MetricError, match="backend"):
        IdentitySimilarity(backend="facenet")


@pytest.fixture(scope="module")
def dlib_metric():
    return IdentitySimilarity(backend="dlib")


def test_dlib_same_person_beats_different_person(dlib_metric, faces):
    obama, obama2, biden = (faces[n] for n in ("obama.jpg", "obama2.jpg", "biden.jpg"))
    pred = torch.cat([obama2, biden, obama2])
    gt = torch.cat([obama, obama, biden])
    cos = dlib_metric(pred, gt)
    assert dlib_metric.last_boxes == ["detected"] * 6
    # measured: obama-obama2 0.966, obama-biden 0.814, obama2-biden 0.823
    assert cos[0] > 0.93 and cos[1] < 0.87 and cos[2] < 0.87
    assert cos[0] - max(cos[1], cos[2]) > 0.08
    assert torch.allclose(dlib_metric(gt[:1], gt[:1]), torch.ones(1), atol=1e-5)


def test_dlib_degrees_and_fallback_box(dlib_metric, faces):
    obama = faces["obama.jpg"]
    noise = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(0))
    cos = dlib_metric(noise, obama)  # no face in pred: it borrows gt's box
    assert dlib_metric.last_boxes == ["partner", "detected"]
    assert cos.item() < 0.9
    deg = IdentitySimilarity(backend="dlib", degrees=True)
    assert deg(noise, obama).item() == pytest.approx(np.degrees(np.arccos(cos.item())), abs=1e-3)


def test_bad_input(dlib_metric):
    with pytest.raises(MetricError, match="at least 16x16"):
        dlib_metric(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))


def test_dlib_reference_cache_changes_nothing(faces):
    obama, obama2, biden = (faces[n] for n in ("obama.jpg", "obama2.jpg", "biden.jpg"))
    noise = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(1))
    cached = IdentitySimilarity(backend="dlib")
    first = [cached(p, g).item() for p, g in ((obama2, obama), (biden, obama), (obama, noise),
                                              (biden, noise))]
    assert len(cached._dlib[0]._ref_cache) == 2  # obama and the noise image, each once
    again = [cached(p, g).item() for p, g in ((obama2, obama), (biden, obama), (obama, noise),
                                              (biden, noise))]
    fresh = [IdentitySimilarity(backend="dlib")(p, g).item()
             for p, g in ((obama2, obama), (biden, obama), (obama, noise), (biden, noise))]
    # the same pairs, cached or fresh: equal to float rounding of the batched descriptors
    np.testing.assert_allclose(first, again, atol=1e-6)
    np.testing.assert_allclose(first, fresh, atol=1e-6)


def test_dlib_embed_reuses_the_ground_truth_descriptors(faces):
    """embed() after the pairs were scored: the cached ground-truth descriptors, equal to a
    fresh embedder's; a face without its own box (noise) is described on the whole image."""
    obama, obama2 = faces["obama.jpg"], faces["obama2.jpg"]
    noise = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(2))
    cached = IdentitySimilarity(backend="dlib")
    cached(torch.cat([obama2, obama]), torch.cat([obama, obama2]))
    described = []
    embedder = cached._dlib[0]
    real_describe = embedder.describe
    embedder.describe = lambda chips, device="cpu": (described.append(len(chips)),
                                                     real_describe(chips, device))[1]
    got = cached.embed(torch.cat([obama, noise, obama2]))
    assert described == [1]  # only the noise image; both faces came from the cache
    want = IdentitySimilarity(backend="dlib").embed(torch.cat([obama, noise, obama2]))
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5)
    assert got.shape == (3, 128)


def test_dlib_cnn_fallback_finds_a_turned_face():
    """A crop turned to yaw 50 by face profiling: HOG (frontal) misses it and borrows the
    source's box; with ``cnn_fallback`` dlib's MMOD detector finds the turned face."""
    from fsr.data.samples import load_samples
    from fsr.imageio import read_image
    from fsr.synth.profile_io import profile_image

    source = next(s for s in load_samples("test") if s.id == "audrey-0")
    img = read_image(source.path)
    turned = profile_image(img, [50])[0].image

    def t(a):
        return torch.from_numpy(np.array(a)).permute(2, 0, 1)[None].float() / 255

    hog = IdentitySimilarity(backend="dlib", statistic="distance")
    cnn = IdentitySimilarity(backend="dlib", statistic="distance", cnn_fallback=True)
    d_hog, d_cnn = hog(t(turned), t(img)).item(), cnn(t(turned), t(img)).item()
    assert hog.last_boxes == ["partner", "detected"]
    assert cnn.last_boxes == ["detected", "detected"]
    # measured: 0.685 in the source's box, 0.427 in its own (same person below 0.6)
    assert d_cnn < 0.6 < d_hog
