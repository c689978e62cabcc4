"""The detector factory, 'auto' fallback, and facexlib FaceRestoreHelper compatibility."""

import numpy as np
import pytest
import torch

from fsr.face.detectors import (
    AUTO_ORDER,
    DetectorUnavailable,
    create_detector,
    default_threshold,
    for_face_restore_helper,
)


def test_names_and_thresholds():
    assert AUTO_ORDER == ("retinaface", "mtcnn", "dlib-hog")
    assert default_threshold("mtcnn") == 0.9 and default_threshold("dlib-hog") == 0.5
    with pytest.raises(ValueError, match="unknown detector"):
        create_detector("yolo")
    with pytest.raises(ValueError, match="unknown detector"):
        default_threshold("auto")
    with pytest.raises(ValueError, match="no detector options"):
        create_detector("auto", min_face=40)


def test_auto_falls_back_to_mtcnn_without_retinaface(tmp_path, monkeypatch):
    from fsr.assets import resolve

    paths = {n: resolve(f"mtcnn-{n}") for n in ("pnet", "rnet", "onet")}
    monkeypatch.setenv("FSR_HOME", str(tmp_path))  # empty cache, downloads forbidden
    monkeypatch.setenv("FSR_OFFLINE", "1")
    monkeypatch.delenv("FSR_ASSET_RETINAFACE_RESNET50", raising=False)
    for n, p in paths.items():
        monkeypatch.setenv(f"FSR_ASSET_MTCNN_{n.upper()}", str(p))
    assert create_detector("auto").name == "mtcnn"
    with pytest.raises(DetectorUnavailable, match="retinaface") as err:
        create_detector("retinaface")
    assert "\n" not in str(err.value)


def test_nothing_available_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FSR_HOME", str(tmp_path))
    monkeypatch.setenv("FSR_OFFLINE", "1")
    for var in ("RETINAFACE_RESNET50", "MTCNN_PNET", "MTCNN_RNET", "MTCNN_ONET", "DLIB_SP68"):
        monkeypatch.delenv(f"FSR_ASSET_{var}", raising=False)
    with pytest.raises(DetectorUnavailable, match="no face detector available") as err:
        create_detector("auto")
    msg = str(err.value)
    assert "\n" not in msg and all(name in msg for name in AUTO_ORDER)


def test_adapter_ignores_facexlibs_fixed_threshold():
    class Dummy:
        def detect_faces(self, img, conf_threshold=None):
            return np.array([[0, 0, 1, 1, conf_threshold or -1] + [0] * 10], np.float32)

    adapter = for_face_restore_helper(Dummy(), threshold=0.4)
    assert adapter.detect_faces(np.zeros((4, 4, 3), np.uint8), 0.97)[0, 4] == pytest.approx(0.4)


@pytest.mark.slow
def test_face_restore_helper_accepts_our_detector(tmp_path, astronaut):
    """facexlib's own pipeline with our MTCNN as face_det crops the face exactly as fsr does."""
    from facexlib.parsing.parsenet import ParseNet
    from facexlib.utils.face_restoration_helper import FaceRestoreHelper

    from fsr.face.align import align_face
    from fsr.face.detect_mtcnn import MTCNNDetector
    from fsr.face.detect_retinaface import build_retinaface

    torch.manual_seed(0)  # stand-ins so the helper's constructor finds files and downloads nothing
    torch.save(build_retinaface("mobile0.25").state_dict(),
               tmp_path / "detection_mobilenet0.25_Final.pth")
    torch.save(ParseNet(in_size=512, out_size=512, parsing_ch=19).state_dict(),
               tmp_path / "parsing_parsenet.pth")
    helper = FaceRestoreHelper(2, face_size=512, det_model="retinaface_mobile0.25",
                               device=torch.device("cpu"), model_rootpath=str(tmp_path))
    mtcnn = MTCNNDetector()
    helper.face_det = for_face_restore_helper(mtcnn)
    helper.read_image(np.ascontiguousarray(astronaut[..., ::-1]))
    assert helper.get_face_landmarks_5() == 1
    helper.align_warp_face()
    landmarks = mtcnn.detect_rgb(astronaut)[0, 5:].reshape(5, 2)
    ours, _ = align_face(astronaut, landmarks, 512)
    np.testing.assert_array_equal(helper.cropped_faces[0][..., ::-1], ours)
    helper.get_inverse_affine()
    helper.add_restored_face(helper.cropped_faces[0])
    assert helper.paste_faces_to_input_image().shape == (1024, 1024, 3)
