"""SAM3DModel and MMRBModel: one optimisation step, validation, CSV log, atomic saves."""

import csv

import numpy as np
import pytest
import torch
from basicsr.data import build_dataloader, build_dataset
from basicsr.models import build_model
from PIL import Image

import fsr.models  # noqa: F401


def _opt(tmp_path, model_type, network_g, train, data_root, task="sr", **extra):
    root = tmp_path / "exp"
    for sub in ("models", "training_states", "visualization"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    dataset = {"type": "FaceFolderDataset", "dataroot_gt": str(data_root), "gt_size": 32,
               "task": task, "scale": 4, "prior_cache": False, **extra}
    return {
        "name": "t", "model_type": model_type, "num_gpu": 0, "dist": False, "is_train": True,
        "rank": 0, "world_size": 1,
        "datasets": {"train": {**dataset, "name": "tr", "phase": "train"},
                     "val": {**dataset, "name": "va", "phase": "val"}},
        "network_g": network_g,
        "path": {"experiments_root": str(root), "models": str(root / "models"),
                 "training_states": str(root / "training_states"),
                 "visualization": str(root / "visualization"), "pretrain_network_g": None},
        "train": {"ema_decay": 0.9, "scheduler": {"type": "MultiStepLR", "milestones": [10],
                                                  "gamma": 0.5}, **train},
        "val": {"val_freq": 1, "save_img": True,
                "metrics": {"psnr": {"type": "psnr"}, "ssim": {"type": "ssim"}}},
    }


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    root = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    for i in range(3):
        img = (rng.random((4, 4, 3)) * 255).astype(np.uint8)
        Image.fromarray(img).resize((32, 32), Image.BICUBIC).save(root / f"{i}.png")
    return root


def _batch(opt, phase="train", batch=2):
    ds = build_dataset(opt["datasets"][phase])
    return ds, torch.utils.data.default_collate([ds[i] for i in range(batch)])


def _bench_scores_equal_validation(model, val):

    from fsr.bench.compute import lib
    from fsr.metrics import MetricError

    bench, scores = lib.Metrics(), {"psnr": [], "ssim": []}
    for data in val:
        model.feed_data(data)
        model.test()
        for name in scores:
            scores[name] += bench.values(name, model.output.clamp(0, 1), model.gt)
    for name, vals in scores.items():
        assert model.metric_results[name] == pytest.approx(np.mean(vals), rel=1e-12)
    with pytest.raises(MetricError, match="table row"):  # no per-run metric arguments
        model._metric("lpips", {"type": "lpips", "net": "vgg"})


def test_sam3d_model_step_validation_csv_and_save(tmp_path, faces):
    net = {"type": "SAM3D", "scale": 4, "n_feats": 16, "reduction": 4, "n_resblocks": 1, "n_sft_blocks": 1,
           "hr_size": 32, "use_prior": False}
    opt = _opt(tmp_path, "SAM3DModel", net,
               {"optim_g": {"type": "Adam", "lr": 1e-3},
                "pixel_opt": {"type": "MSELoss", "loss_weight": 1.0}}, faces)
    model = build_model(opt)
    ds, batch = _batch(opt)
    before = {k: v.clone() for k, v in model.net_g.state_dict().items()}
    for it in (1, 2):
        model.feed_data(batch)
        model.optimize_parameters(it)
    assert set(model.get_current_log()) == {"l_pix"}
    assert any(not torch.equal(before[k], v) for k, v in model.net_g.state_dict().items())
    assert model.output.shape == (2, 3, 32, 32)
    # the EMA copy tracks BatchNorm statistics too (BasicSR's EMA averages parameters only)
    ema_buffers = dict(model.net_g_ema.named_buffers())
    bn = [n for n in ema_buffers if n.endswith("running_mean")]
    assert bn and all(torch.equal(ema_buffers[n], b) for n, b in model.net_g.named_buffers())

    val = build_dataloader(build_dataset(opt["datasets"]["val"]), opt["datasets"]["val"])
    model.validation(val, 2, None, save_img=True)
    assert set(model.metric_results) == {"psnr", "ssim"}
    assert np.isfinite(model.metric_results["psnr"])
    # scored the benchmark's way: the mean of fsr/bench/compute/lib.Metrics' per-image scores
    _bench_scores_equal_validation(model, val)
    assert list((tmp_path / "exp" / "visualization" / "va").glob("*_2.png"))
    model.save(0, 2)
    ckpt = torch.load(tmp_path / "exp" / "models" / "net_g_2.pth", weights_only=True)
    assert set(ckpt) == {"params", "params_ema"}
    state = torch.load(tmp_path / "exp" / "training_states" / "2.state", weights_only=True)
    assert state["iter"] == 2 and len(state["optimizers"]) == 1
    assert not list((tmp_path / "exp").rglob("*.tmp"))  # atomic writes leave no temp files

    model.feed_data(batch)
    model.optimize_parameters(3)
    model.validation(val, 4, None, save_img=False)
    rows = list(csv.DictReader(open(tmp_path / "exp" / "train_log.csv")))
    assert [r["iter"] for r in rows] == ["2", "4"]
    assert {"l_pix", "val_psnr", "val_ssim", "lr", "elapsed_s"} <= set(rows[0])
    # the second row averages only the step taken after the first validation
    assert float(rows[1]["l_pix"]) == pytest.approx(model.log_dict["l_pix"], rel=1e-6)
    # resuming from iter 2 drops the rows a killed run wrote later
    model.resume_training(state)
    rows = list(csv.DictReader(open(tmp_path / "exp" / "train_log.csv")))
    assert [r["iter"] for r in rows] == ["2"]


def test_sam3d_model_needs_render_with_prior(tmp_path, faces):
    net = {"type": "SAM3D", "scale": 4, "n_feats": 16, "reduction": 4, "n_resblocks": 1, "n_sft_blocks": 1,
           "hr_size": 32}
    opt = _opt(tmp_path, "SAM3DModel", net, {"optim_g": {"type": "Adam", "lr": 1e-3},
               "pixel_opt": {"type": "MSELoss"}}, faces)
    model = build_model(opt)
    _, batch = _batch(opt)
    model.feed_data(batch)
    with pytest.raises(ValueError, match="use_prior: true"):
        model.optimize_parameters(1)
    batch["render"] = torch.rand_like(batch["lq"])
    model.feed_data(batch)
    model.optimize_parameters(1)
    assert torch.isfinite(torch.tensor(model.log_dict["l_pix"]))


def test_mmrb_model_all_losses_and_gan(tmp_path, faces):
    net = {"type": "MMRBStyleGAN2", "out_size": 32, "num_style_feat": 16, "num_mlp": 1,
           "narrow": 0.0625, "enc_blocks": 1, "latent_channels": 4}
    train = {"optim_g": {"type": "Adam", "lr": 1e-3}, "optim_d": {"type": "Adam", "lr": 1e-3},
             "pixel_opt": {"type": "L1Loss", "loss_weight": 1.0},
             "pyramid_loss_weight": 1.0, "remove_pyramid_loss": 1,
             "perceptual_opt": {"type": "LPIPSLoss", "net": "alex", "loss_weight": 0.5},
             "selfsup_opt": {"type": "ReDegradationLoss", "loss_weight": 1.0},
             "identity_opt": {"type": "ArcFaceIdentityLoss", "weights": str(tmp_path / "none.pth")},
             "gan_opt": {"type": "GANLoss", "gan_type": "wgan_softplus", "loss_weight": 0.1},
             "net_d_reg_every": 2}
    opt = _opt(tmp_path, "MMRBModel", net, train, faces, task="restore",
               degradation={"downscale": [1, 4]}, return_degradation=True)
    opt["network_d"] = {"type": "StyleGAN2DiscriminatorClean", "out_size": 32, "narrow": 0.0625}
    model = build_model(opt)
    assert model.cri_identity is None  # weights missing: the term is skipped, not fatal
    _, batch = _batch(opt)
    model.feed_data(batch)
    model.optimize_parameters(1)
    assert {"l_pix", "l_pyramid", "l_percep", "l_selfsup", "l_g_gan", "l_d"} <= set(model.log_dict)
    model.feed_data(batch)
    model.optimize_parameters(2)  # pyramid loss removed after iter 1; R1 at iter 2
    assert "l_pyramid" not in model.log_dict and "l_d_r1" in model.log_dict
    model.test()
    assert model.output.shape == (2, 3, 32, 32)
    model.save(0, 2)
    assert (tmp_path / "exp" / "models" / "net_d_2.pth").is_file()
    assert len(torch.load(tmp_path / "exp" / "training_states" / "2.state",
                          weights_only=True)["optimizers"]) == 2


def test_mmrb_model_dlib_identity_loss(tmp_path, faces):
    net = {"type": "MMRBStyleGAN2", "out_size": 32, "num_style_feat": 16, "num_mlp": 1,
           "narrow": 0.0625, "enc_blocks": 1, "latent_channels": 4}
    train = {"optim_g": {"type": "Adam", "lr": 1e-3},
             "pixel_opt": {"type": "L1Loss", "loss_weight": 1.0},
             "identity_opt": {"type": "DlibIdentityLoss", "loss_weight": 0.1}}
    opt = _opt(tmp_path, "MMRBModel", net, train, faces, task="restore")
    model = build_model(opt)
    _, batch = _batch(opt)
    model.feed_data(batch)
    model.optimize_parameters(1)
    assert model.log_dict["l_identity"] > 0
    # unlike ArcFace's optional term, a dlib loss that cannot be built stops the run
    train["identity_opt"] = {"type": "DlibIdentityLoss", "sp5": str(tmp_path / "none.dat")}
    with pytest.raises(RuntimeError):
        build_model(_opt(tmp_path, "MMRBModel", net, train, faces, task="restore"))


def test_mmrb_selfsup_needs_degradation_params(tmp_path, faces):
    net = {"type": "MMRBStyleGAN2", "out_size": 32, "num_style_feat": 16, "num_mlp": 1,
           "narrow": 0.0625, "enc_blocks": 1, "latent_channels": 4}
    opt = _opt(tmp_path, "MMRBModel", net,
               {"optim_g": {"type": "Adam", "lr": 1e-3},
                "selfsup_opt": {"type": "ReDegradationLoss"}}, faces, task="restore")
    model = build_model(opt)
    _, batch = _batch(opt)
    model.feed_data(batch)
    with pytest.raises(ValueError, match="return_degradation"):
        model.optimize_parameters(1)


def test_shipped_option_files_parse():
    from pathlib import Path

    from fsr.options import load_options

    for path in sorted(Path(__file__).resolve().parents[2].glob("options/*.yml")):
        opt = load_options(path)   # base: chains resolved
        assert opt["name"] == path.stem, path
        assert {"model_type", "datasets", "network_g", "train"} <= set(opt), path
