"""identity-adaface equals the NTIRE 2025 challenge's AdaFace cosine (tests/metrics/data/
make_adaface_fixtures.py ran AdaFace's net.py and mtcnn_pytorch's align_trans.py on stand-in
weights built by a fixed formula); the release's Lightning layout loads with weights_only=True;
without the weights, one line."""

import argparse
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from fsr.archs.adaface_arch import AdaFaceIR
from fsr.metrics import MetricUnavailable, create_metric, get_spec
from fsr.metrics.adaface import THRESHOLDS, similarity_to_reference

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "adaface_golden.json").read_text())


@pytest.fixture(scope="module")
def standin(tmp_path_factory, fixture_script):
    """The pairs as (restored, input) float batches, and the stand-in saved as AdaFace's
    release is: a Lightning checkpoint, backbone under 'model.', a head, Namespace hparams."""
    gen = fixture_script("make_adaface_fixtures")
    folder = tmp_path_factory.mktemp("adaface")
    pairs = gen.make_pairs(folder)
    for name, digest in GOLDEN["inputs_sha256"].items():
        got = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert got == digest, f"{name}: the stand-in inputs differ from the golden run's"
    shapes = {k: tuple(v.shape) for k, v in AdaFaceIR(50).state_dict().items()}
    state = {"model." + k: v for k, v in gen.standin_state_dict(shapes).items()}
    state["head.kernel"] = torch.zeros(512, 4)
    path = folder / "adaface_ir50_ms1mv2.ckpt"
    torch.save({"state_dict": state, "epoch": 0,
                "hyper_parameters": argparse.Namespace(arch="ir_50", m=0.4)}, path)

    def batch(key):
        arr = np.stack([np.asarray(Image.open(folder / p[key]).convert("RGB")) for p in pairs])
        return torch.from_numpy(arr).permute(0, 3, 1, 2).double() / 255.0

    return batch("restored"), batch("input"), path


def test_similarity_fit_is_cp2tform():
    for p in GOLDEN["pairs"]:
        np.testing.assert_allclose(similarity_to_reference(p["points"]), p["matrix"],
                                   rtol=0, atol=1e-9)


def test_identity_adaface_is_the_challenges_cosine(standin):
    restored, inp, path = standin
    pairs = GOLDEN["pairs"]
    # per-pair points (the challenge's CSV role); the first and last are the FFHQ template
    for i, p in enumerate(pairs):
        metric = create_metric("identity-adaface", weights=path, points=p["points"])
        got = metric(restored[i:i + 1], inp[i:i + 1])
        assert got.dtype == torch.float64
        assert got.item() == pytest.approx(p["cosine"], abs=1e-5)
        emb = metric.embed(inp[i:i + 1], np.asarray([p["points"]])).numpy()[0]
        np.testing.assert_allclose(emb, p["input_embedding"], atol=1e-5)
    # points='template': the FFHQ template scaled to the image, as pairs 0 and 2 use
    tpl = create_metric("identity-adaface", weights=path, points="template")(restored, inp)
    np.testing.assert_allclose(tpl.numpy()[[0, 2]], [pairs[0]["cosine"], pairs[2]["cosine"]],
                               atol=1e-5)


def test_default_points_are_mtcnn_on_the_input(standin):
    from fsr.face.align import face_template

    restored, inp, path = standin
    metric = create_metric("identity-adaface", weights=path)
    pts = metric.input_points(inp)
    assert metric.last_undetected == 0 and pts.shape == (3, 5, 2)
    # detected, so not the template, but near it on these aligned 512 px faces
    dist = np.linalg.norm(pts - face_template(512)[None], axis=2)
    assert dist.max() < 25 and dist.mean() > 0.5
    given = create_metric("identity-adaface", weights=path, points=pts)(restored, inp)
    np.testing.assert_array_equal(metric(restored, inp).numpy(), given.numpy())


def test_aligned_crop_is_warp_and_crop_face(standin):
    from fsr.metrics.adaface import CROP

    _, inp, _ = standin
    rgb = np.ascontiguousarray((inp[1].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
    p = GOLDEN["pairs"][1]
    crop = cv2.warpAffine(rgb, similarity_to_reference(p["points"]), (CROP, CROP))
    assert hashlib.sha256(crop.tobytes()).hexdigest() == p["aligned_input_sha256"]


def test_row_says_what_it_is():
    spec = get_spec("identity-adaface")
    assert spec.definition == "paper: NTIRE 2025 RealWorld eval (AdaFace IR-50 cosine)"
    assert not spec.lower_better and spec.assets[0] == "adaface-ir50"
    assert "MIT" in spec.licence
    assert THRESHOLDS == {"CelebA": 0.5, "LFW-Test": 0.6, "CelebChild-Test": 0.6,
                          "Wider-Test": 0.3, "WebPhoto-Test": 0.3}


def test_absent_weights_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("FSR_OFFLINE", "1")
    monkeypatch.setenv("FSR_HOME", str(tmp_path))
    monkeypatch.delenv("FSR_ASSET_ADAFACE_IR50", raising=False)
    with pytest.raises(MetricUnavailable) as exc:
        create_metric("identity-adaface")
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("identity-adaface: ")
    assert "adaface_ir50_ms1mv2.ckpt" in msg and "1eUaSHG4pGlIZK7hBkqjyp2fc2epKoBvI" in msg


def test_unreadable_checkpoint_one_line(tmp_path):
    bad = tmp_path / "adaface_ir50_ms1mv2.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(MetricUnavailable) as exc:
        create_metric("identity-adaface", weights=bad)
    assert "\n" not in str(exc.value) and "not a loadable AdaFace checkpoint" in str(exc.value)


def test_ntire_low_id_uses_the_adaface_column_first():
    import pandas as pd

    from fsr.bench.report.ntire import low_identity

    names = {"celeba": "CelebA", "wider": "Wider-Test"}
    df = pd.DataFrame({
        "metric": ["identity-adaface-vs-input"] * 4 + ["identity-match-vs-input"] * 4,
        "dataset": ["celeba", "celeba", "wider", "wider"] * 2,
        "value": [0.49, 0.51, 0.29, 0.31, 0.0, 0.0, 0.0, 0.0]})
    low, rule = low_identity(df, names)
    assert low == 2 and rule.startswith("AdaFace IR-50 cosine")  # 0.49 < 0.5, 0.29 < 0.3
    low, rule = low_identity(df[df["metric"] == "identity-match-vs-input"], names)
    assert low == 4 and rule.startswith("dlib")
