"""Training datasets: SampleSetDataset, CelebADataset, FaceFolderDataset, priors, blind params."""

import numpy as np
import pytest
import torch
from basicsr.data import build_dataset
from PIL import Image

import fsr.models  # noqa: F401  (registers the datasets)
from fsr.data.blind_params import apply_blind, blind_params
from fsr.data.celeba_dataset import CELEBA_BOX
from fsr.data.degradations import bicubic_down, blind, resize, seed_for
from fsr.data.pair_base import DatasetError
from fsr.data.samples import MANIFEST_COLUMNS, write_manifest
from fsr.priors import PriorCache


def _face_like(rng, h, w):
    """A smooth random RGB image (uint8): low-frequency noise upsampled."""
    small = rng.random((max(2, h // 16), max(2, w // 16), 3)).astype(np.float32)
    return (resize(small, (h, w)) * 255).round().astype(np.uint8)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    (root / "crops").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(6):
        sid = f"img{i}"
        Image.fromarray(_face_like(rng, 256, 256)).save(root / "crops" / f"{sid}.png")
        row = dict.fromkeys(MANIFEST_COLUMNS, "")
        row.update(id=sid, file=f"crops/{sid}.png", identity=f"p{i % 3}", source="x.png",
                   package="pkg==1", licence="MIT", native_size=256, yaw=0.0, pitch=0.0,
                   roll=0.0, pose_ok=1, split="test" if i < 2 else "train", is_photo=1,
                   grayscale=0)
        rows.append(row)
    write_manifest(rows, root)
    return root


@pytest.fixture(scope="module")
def celeba_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("celeba")
    (root / "img_align_celeba").mkdir()
    rng = np.random.default_rng(1)
    lines = []
    for i in range(4):
        name = f"{i + 1:06d}.jpg"
        Image.fromarray(_face_like(rng, 218, 178)).save(root / "img_align_celeba" / name, quality=95)
        lines.append(f"{name} {0 if i < 3 else 2}")
    (root / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
    return root


def _samples(sample_dir, **opt):
    return build_dataset({"name": "s", "type": "SampleSetDataset", "samples_dir": str(sample_dir),
                          "prior_cache": False, **opt})


def test_sample_set_sr_shapes_and_split(sample_dir):
    ds = _samples(sample_dir, split="train", task="sr", scale=8, phase="val")
    assert len(ds) == 4
    item = ds[0]
    assert item["lq"].shape == (3, 16, 16) and item["gt"].shape == (3, 128, 128)
    assert item["lq"].dtype == torch.float32 and 0 <= item["lq"].min() <= item["lq"].max() <= 1
    # the sr recipe: lq is the bicubic of the 128 ground truth
    gt = item["gt"].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(item["lq"].permute(1, 2, 0).numpy(), bicubic_down(gt, 8), atol=1e-6)


def test_blind_validation_is_fixed_per_image(sample_dir):
    ds = _samples(sample_dir, split="test", task="restore", phase="val")
    a, b = ds[1], ds[1]
    assert torch.equal(a["lq"], b["lq"]) and a["lq"].shape == (3, 128, 128)
    gt = a["gt"].permute(1, 2, 0).numpy()
    expected = blind(np.ascontiguousarray(gt), seed_for(a["key"], "restore"))
    np.testing.assert_allclose(a["lq"].permute(1, 2, 0).numpy(), expected, atol=1e-6)


def test_blind_training_draws_fresh_degradations(sample_dir):
    ds = _samples(sample_dir, split="train", task="restore", phase="train")
    np.random.seed(0)
    assert not torch.equal(ds[0]["lq"], ds[0]["lq"])


def test_hflip_is_joint(sample_dir):
    ds = _samples(sample_dir, split="train", task="sr", scale=4, phase="train", use_hflip=True,
                  use_prior=True)
    ref = _samples(sample_dir, split="train", task="sr", scale=4, phase="val", use_prior=True)[0]
    seen = set()
    np.random.seed(1)
    for _ in range(12):
        item = ds[0]
        flipped = torch.equal(item["gt"], ref["gt"].flip(-1))
        assert flipped or torch.equal(item["gt"], ref["gt"])
        lq_ref = ref["lq"].flip(-1) if flipped else ref["lq"]
        assert torch.allclose(item["lq"], lq_ref, atol=1e-5)
        seen.add(flipped)
    assert seen == {True, False}


def test_prior_comes_from_the_input_and_is_cached(sample_dir, tmp_path):
    ds = _samples(sample_dir, split="test", task="sr", scale=4, phase="val", use_prior=True,
                  prior_cache=str(tmp_path))
    item = ds[0]
    assert item["render"].shape == item["lq"].shape
    assert item["coeff"].shape == (117,) and item["prior_fitted"].dtype == torch.bool
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1 and "-degraded-32x32-32-" in files[0].name
    # the cached entry is what a second read returns
    assert torch.equal(ds[0]["render"], item["render"])
    oracle = _samples(sample_dir, split="test", task="sr", scale=4, phase="val", use_prior=True,
                      prior_cache=str(tmp_path), prior_source="oracle")[0]
    assert oracle["render"].shape == (3, 32, 32)
    assert len(list(tmp_path.glob("*-oracle-128x128-32-*.npz"))) == 1


def test_prior_cache_rejects_bad_source():
    with pytest.raises(ValueError, match="prior source"):
        PriorCache(None).get(np.zeros((8, 8, 3), np.float32), source="gt")


def test_bad_options_are_one_line_errors(sample_dir):
    with pytest.raises(DatasetError, match="task must be"):
        _samples(sample_dir, task="denoise")
    with pytest.raises(DatasetError, match="task 'blind' is now called 'restore'"):
        _samples(sample_dir, task="blind")
    with pytest.raises(DatasetError, match="unknown degradation option"):
        _samples(sample_dir, task="restore", degradation={"blur": [1, 2]})
    with pytest.raises(DatasetError, match="prior_source"):
        _samples(sample_dir, prior_source="gt")
    with pytest.raises(DatasetError, match="manifest.csv"):
        _samples(sample_dir / "nowhere")


def test_celeba_authors_recipe(celeba_dir):
    ds = build_dataset({"name": "c", "type": "CelebADataset", "dataroot": str(celeba_dir),
                        "split": "train", "scale": 4, "phase": "val", "prior_cache": False})
    assert len(ds) == 3 and ds.keys[0] == "000001"
    item = ds[0]
    img = np.asarray(Image.open(celeba_dir / "img_align_celeba" / "000001.jpg"),
                     dtype=np.float32) / 255
    x0, y0, x1, y1 = CELEBA_BOX
    crop = np.ascontiguousarray(img[y0:y1, x0:x1])
    assert crop.shape == (142, 142, 3)
    np.testing.assert_allclose(item["gt"].permute(1, 2, 0).numpy(), resize(crop, (128, 128)),
                               atol=1e-5)
    np.testing.assert_allclose(item["lq"].permute(1, 2, 0).numpy(), resize(crop, (32, 32)),
                               atol=1e-5)
    test = build_dataset({"name": "c", "type": "CelebADataset", "dataroot": str(celeba_dir),
                          "split": "test", "scale": 8, "phase": "val", "prior_cache": False})
    assert len(test) == 1 and test[0]["lq"].shape == (3, 16, 16)


def test_benchmark_celeba_wraps_fsr_data(celeba_dir):
    """bench's CelebA lists fsr.data's split and crops fsr.data's box: the same ground truth."""

    from fsr.bench.inputs.datasets import open_dataset

    ours = build_dataset({"name": "c", "type": "CelebADataset", "dataroot": str(celeba_dir),
                          "split": "train", "scale": 4, "phase": "val", "prior_cache": False})
    bench = open_dataset({"name": "celeba", "type": "celeba", "path": str(celeba_dir),
                          "split": "train"})
    assert [it.id for it in bench.items] == ours.keys
    np.testing.assert_allclose(bench.load_gt(bench.items[0], 128),
                               ours[0]["gt"].permute(1, 2, 0).numpy(), atol=1e-6)


def test_celeba_missing_folder_is_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("FSR_CELEBA_DIR", raising=False)
    with pytest.raises(DatasetError, match="FSR_CELEBA_DIR") as err:
        build_dataset({"name": "c", "type": "CelebADataset", "dataroot": str(tmp_path / "no")})
    assert "\n" not in str(err.value)
    with pytest.raises(DatasetError, match="list_eval_partition"):
        build_dataset({"name": "c", "type": "CelebADataset", "dataroot": str(tmp_path)})


def test_face_folder_blind_and_sr(tmp_path):
    rng = np.random.default_rng(2)
    (tmp_path / "sub").mkdir()
    for i in range(3):
        Image.fromarray(_face_like(rng, 96, 96)).save(tmp_path / "sub" / f"f{i}.png")
    ds = build_dataset({"name": "f", "type": "FaceFolderDataset", "dataroot_gt": str(tmp_path),
                        "gt_size": 64, "phase": "val", "prior_cache": False,
                        "degradation": {"preset": "gfpgan", "downscale": [2, 4]}})
    assert ds.keys == ["sub/f0", "sub/f1", "sub/f2"]
    item = ds[2]
    assert item["lq"].shape == item["gt"].shape == (3, 64, 64)
    sr = build_dataset({"name": "f", "type": "FaceFolderDataset", "dataroot_gt": str(tmp_path),
                        "gt_size": 64, "task": "sr", "scale": 4, "phase": "val"})
    assert sr[0]["lq"].shape == (3, 16, 16)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        build_dataset({"name": "f", "type": "FaceFolderDataset",
                       "dataroot_gt": str(tmp_path / "empty")})


@pytest.mark.parametrize("seed", [0, 5, 17])
def test_blind_params_replay_blind_exactly(seed):
    img = resize(np.random.default_rng(seed).random((24, 24, 3), dtype=np.float32), (96, 96))
    p = blind_params((96, 96), seed)
    np.testing.assert_array_equal(apply_blind(img, p), blind(img, seed))
    assert p["noise"].shape == (*p["lr_size"], 3) and p["kernel"].shape == (41, 41)


def test_return_degradation_collates(sample_dir):
    ds = _samples(sample_dir, split="train", task="restore", phase="train", return_degradation=True)
    batch = torch.utils.data.default_collate([ds[0], ds[1]])
    assert batch["deg_kernel"].shape == (2, 41, 41)
    assert batch["deg_noise"].shape[:2] == (2, 3) and batch["deg_lr_size"].shape == (2, 2)
    lh, lw = batch["deg_lr_size"][0].tolist()
    assert batch["deg_noise"][0, :, lh:, :].abs().sum() == 0


def test_colour_aug_recolours_input_target_and_prior_together(sample_dir, tmp_path):
    common = dict(split="train", task="sr", scale=4, use_prior=True, prior_cache=str(tmp_path))
    ref = _samples(sample_dir, phase="val", colour_aug={"permute": 1.0}, **common)[0]
    ds = _samples(sample_dir, phase="train", colour_aug={"permute": 1.0}, **common)
    np.random.seed(3)
    item = ds[0]
    perms = [p for p in __import__("itertools").permutations(range(3))
             if torch.allclose(item["gt"], ref["gt"][list(p)], atol=1e-6)]
    assert len(perms) == 1 and perms[0] != (0, 1, 2)
    p = list(perms[0])
    assert torch.allclose(item["lq"], ref["lq"][p], atol=1e-6)
    assert torch.allclose(item["render"], ref["render"][p], atol=1e-6)
    light = item["coeff"][-27:].view(3, 9)
    assert torch.allclose(light, ref["coeff"][-27:].view(3, 9)[p])
    grey = _samples(sample_dir, phase="train", colour_aug={"grey": 1.0}, **common)[0]
    assert torch.allclose(grey["gt"][0], grey["gt"][1]) and torch.allclose(grey["lq"][1], grey["lq"][2])
    with pytest.raises(DatasetError, match="colour_aug"):
        _samples(sample_dir, phase="train", colour_aug={"hue": 0.5})
