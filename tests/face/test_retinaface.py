"""facexlib RetinaFace loading with self-made stand-in checkpoints (real weights: users only)."""

import numpy as np
import pytest
import torch

from fsr.face.detect_retinaface import (
    RetinaFaceDetector,
    RetinaFaceLoadError,
    build_retinaface,
    load_retinaface,
)


@pytest.fixture(scope="module")
def mobilenet_standin(tmp_path_factory):
    """A randomly initialised RetinaFace-MobileNet-0.25 saved under facexlib's file name, with
    the 'module.' prefix of the original DataParallel checkpoints."""
    torch.manual_seed(0)
    model = build_retinaface("mobile0.25")
    folder = tmp_path_factory.mktemp("retina")
    path = folder / "detection_mobilenet0.25_Final.pth"
    torch.save({"module." + k: v for k, v in model.state_dict().items()}, path)
    return path


def _image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (96, 128, 3), np.uint8)


def test_standin_has_the_real_key_layout(mobilenet_standin):
    state = torch.load(mobilenet_standin, map_location="cpu", weights_only=True)
    assert "module.body.stage1.0.0.weight" in state
    assert any(k.startswith("module.LandmarkHead.2") for k in state)
    model = load_retinaface(mobilenet_standin, "mobile0.25")
    assert not model.training


def test_detector_output_equals_facexlib_loader(mobilenet_standin):
    from facexlib.detection import init_detection_model

    ours = RetinaFaceDetector("mobile0.25", weights=mobilenet_standin)
    # facexlib finds the file by name in model_rootpath and does not download.
    ref = init_detection_model("retinaface_mobile0.25", device="cpu",
                               model_rootpath=str(mobilenet_standin.parent))
    img = _image()
    with torch.no_grad():
        expected = ref.detect_faces(img, 0.3)
    got = ours.detect_faces(img, 0.3)
    assert got.dtype == np.float32 and got.shape[1] == 15
    assert len(got) > 0  # random weights give many low-confidence boxes: the format is exercised
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
    assert np.all(np.diff(got[:, 4]) <= 0)  # sorted by score like facexlib


def test_wrong_checkpoint_is_one_line_error(tmp_path, mobilenet_standin):
    bad = tmp_path / "bad.pth"
    torch.save({"conv.weight": torch.zeros(1)}, bad)
    with pytest.raises(RetinaFaceLoadError, match="missing keys") as err:
        load_retinaface(bad, "mobile0.25")
    assert "\n" not in str(err.value)
    with pytest.raises(RetinaFaceLoadError, match="does not fit"):
        load_retinaface(mobilenet_standin, "resnet50")  # right file, wrong network
    with pytest.raises(ValueError, match="network"):
        build_retinaface("vgg")


@pytest.mark.slow
def test_auto_prefers_retinaface_when_its_weights_resolve(tmp_path, monkeypatch):
    from fsr.face.detectors import create_detector

    torch.manual_seed(0)
    path = tmp_path / "detection_Resnet50_Final.pth"
    torch.save(build_retinaface("resnet50").state_dict(), path)
    monkeypatch.setenv("FSR_ASSET_RETINAFACE_RESNET50", str(path))
    # a stand-in cannot match the official file's pinned sha256
    from dataclasses import replace

    from fsr.assets import ASSETS

    monkeypatch.setitem(ASSETS, "retinaface-resnet50", replace(ASSETS["retinaface-resnet50"], sha256=None))
    det = create_detector("auto")
    assert det.name == "retinaface"
    assert det.detect_faces(_image(), 0.99).shape[1] == 15
