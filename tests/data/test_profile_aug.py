"""Training augmentation with face-profiled sources (``profile_aug``, off unless set)."""

import numpy as np
import pytest
from basicsr.data import build_dataset
from PIL import Image

import fsr.models  # noqa: F401  (registers the datasets)
from fsr.data.pair_base import DatasetError


def _folder(tmp_path, takeo):
    (tmp_path / "faces").mkdir()
    Image.fromarray(takeo[0]).save(tmp_path / "faces" / "takeo.png")
    Image.fromarray(np.full((128, 128, 3), 90, np.uint8)).save(tmp_path / "faces" / "flat.png")
    return tmp_path / "faces"


def _opt(root, **kw):
    return {"name": "f", "type": "FaceFolderDataset", "dataroot_gt": str(root), "gt_size": 128,
            "task": "sr", "scale": 4, "prior_cache": False, **kw}


def test_profile_aug_turns_the_source_and_is_off_by_default(tmp_path, takeo, monkeypatch):
    monkeypatch.setenv("FSR_HOME", str(tmp_path / "home"))
    root = _folder(tmp_path, takeo)
    plain = build_dataset(_opt(root, phase="train"))
    assert plain.profile_aug is None
    aug = build_dataset(_opt(root, phase="train", profile_aug={"p": 1.0, "yaws": [30]}))
    val = build_dataset(_opt(root, phase="val", profile_aug={"p": 1.0, "yaws": [30]}))
    assert val.profile_aug is None  # training only
    k = aug.keys.index("takeo")
    np.random.seed(0)
    got = aug[k]["gt"].numpy()
    ref = plain[k]["gt"].numpy()
    assert got.shape == ref.shape == (3, 128, 128)
    assert np.abs(got - ref).mean() > 0.01  # a turned face, not the source
    assert len(list((tmp_path / "home" / "profiles").glob("*/meta.json"))) == 1
    # a source with no face is used as it is, once tried
    f = aug.keys.index("flat")
    assert np.allclose(aug[f]["gt"].numpy(), 90 / 255, atol=1e-6)
    assert f in aug._unprofilable


def test_profile_aug_bad_options(tmp_path, takeo):
    root = _folder(tmp_path, takeo)
    with pytest.raises(DatasetError, match="profile_aug"):
        build_dataset(_opt(root, phase="train", profile_aug={"p": 2.0}))
    with pytest.raises(DatasetError, match="profile_aug"):
        build_dataset(_opt(root, phase="train", profile_aug={"prob": 0.5}))
