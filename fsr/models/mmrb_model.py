"""``MMRBModel``: training of the MMRB + StyleGAN2-prior restorer (GFPGAN-like recipe).

Losses (each optional, weights in YAML; images compared in [0, 1] unless said):

- ``pixel_opt``: L1 on the output.
- ``pyramid_loss_weight``: L1 between the decoder's 1x1 RGB projections (8..out_size, [-1, 1])
  and the downsampled target, dropped after ``remove_pyramid_loss`` iterations (GFPGAN).
- ``perceptual_opt``: ``LPIPSLoss`` (VGG or AlexNet, offline weights).
- ``selfsup_opt``: ``ReDegradationLoss``: the output, degraded again with the sample's own
  blur/scale/noise/JPEG, must match the input (needs ``return_degradation: true`` data).
- ``identity_opt``: ``ArcFaceIdentityLoss``, used only when the ArcFace weights resolve (else
  a warning and the term is skipped), or ``DlibIdentityLoss`` (dlib's ResNet, weights from a
  registry package; a failure to build it stops the run).
- ``gan_opt`` + ``network_d``: adversarial loss with a StyleGAN2-style discriminator,
  R1 penalty every ``net_d_reg_every`` iterations; ``loss_weight: 0`` (or no ``network_d``)
  turns it off, e.g. for short CPU runs.

``path.pretrain_prior`` (a StyleGAN2 checkpoint file or an asset name such as
``stylegan2-ffhq-512-clean``) initialises the prior of a fresh run (``load_prior``).
The network sees ``lq * 2 - 1``; ``self.output`` is back in [0, 1]. EMA as BasicSR
(``ema_decay``); checkpoints hold ``net_g`` {params, params_ema} and ``net_d`` {params}.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import torch
from basicsr.archs import build_network
from basicsr.losses import build_loss
from basicsr.losses.gan_loss import r1_penalty
from basicsr.utils import get_root_logger
from basicsr.utils.registry import MODEL_REGISTRY
from torch.nn import functional as F

from fsr.models.base import FaceBaseModel

DEG_KEYS = ("deg_kernel", "deg_scale", "deg_lr_size", "deg_noise", "deg_jpeg")


@MODEL_REGISTRY.register()
class MMRBModel(FaceBaseModel):
    def init_training_settings(self) -> None:
        train_opt = self.opt["train"]
        logger = get_root_logger()
        prior = self.opt["path"].get("pretrain_prior")
        if prior and self.opt["path"].get("pretrain_network_g") is None:
            # a fresh run starts its prior from a StyleGAN2 checkpoint (a file or an fsr asset
            # name); resumed runs load everything from their own checkpoint instead
            if not os.path.isfile(prior):
                from fsr.assets import resolve

                prior = resolve(prior)
            logger.info(str(self.get_bare_model(self.net_g).load_prior(prior)))
        self.net_g.train()
        self.ema_decay = train_opt.get("ema_decay", 0)
        if self.ema_decay > 0:
            self.net_g_ema = build_network(self.opt["network_g"]).to(self.device)
            load_path = self.opt["path"].get("pretrain_network_g")
            if load_path is not None:
                self.load_network(self.net_g_ema, load_path,
                                  self.opt["path"].get("strict_load_g", True), "params_ema")
            else:
                self.model_ema(0)
            self.net_g_ema.eval()

        def loss(name: str):
            spec = train_opt.get(name)
            return build_loss(spec).to(self.device) if spec else None

        self.cri_pix = loss("pixel_opt")
        self.cri_perceptual = loss("perceptual_opt")
        self.cri_selfsup = loss("selfsup_opt")
        self.pyramid_weight = float(train_opt.get("pyramid_loss_weight", 0))
        self.remove_pyramid_loss = float(train_opt.get("remove_pyramid_loss", float("inf")))
        self.cri_identity = None
        identity_spec = train_opt.get("identity_opt") or {}
        if identity_spec.get("type") == "ArcFaceIdentityLoss":
            from fsr.assets import AssetError

            try:  # optional: ArcFace's weights cannot be had on every machine
                self.cri_identity = loss("identity_opt")
            except (AssetError, ValueError) as err:
                logger.warning(f"identity loss off: {str(err).splitlines()[0]}")
        elif identity_spec:
            self.cri_identity = loss("identity_opt")
        gan_opt = train_opt.get("gan_opt")
        self.use_gan = bool(gan_opt and gan_opt.get("loss_weight", 0) > 0
                            and self.opt.get("network_d"))
        if self.use_gan:
            self.net_d = self.model_to_device(build_network(self.opt["network_d"]))
            self.print_network(self.net_d)
            load_path = self.opt["path"].get("pretrain_network_d")
            if load_path is not None:
                self.load_network(self.net_d, load_path,
                                  self.opt["path"].get("strict_load_d", True), "params")
            self.net_d.train()
            self.cri_gan = loss("gan_opt")
            self.r1_reg_weight = float(train_opt.get("r1_reg_weight", 10))
            self.net_d_iters = int(train_opt.get("net_d_iters", 1))
            self.net_d_init_iters = int(train_opt.get("net_d_init_iters", 0))
            self.net_d_reg_every = int(train_opt.get("net_d_reg_every", 16))
        if not any((self.cri_pix, self.cri_perceptual, self.cri_selfsup, self.use_gan)):
            raise ValueError("MMRBModel: no loss configured (pixel_opt, perceptual_opt, "
                             "selfsup_opt or gan_opt)")
        self.setup_optimizers()
        self.setup_schedulers()

    def setup_optimizers(self) -> None:
        train_opt = self.opt["train"]
        opt_g = dict(train_opt["optim_g"])
        params = [p for p in self.net_g.parameters() if p.requires_grad]
        self.optimizer_g = self.get_optimizer(opt_g.pop("type"), params, **opt_g)
        self.optimizers.append(self.optimizer_g)
        if self.use_gan:
            opt_d = dict(train_opt["optim_d"])
            self.optimizer_d = self.get_optimizer(opt_d.pop("type"), self.net_d.parameters(), **opt_d)
            self.optimizers.append(self.optimizer_d)

    def feed_data(self, data: dict) -> None:
        self.lq = data["lq"].to(self.device)
        if "gt" in data:
            self.gt = data["gt"].to(self.device)
        self.deg = {k: data[k] for k in DEG_KEYS if k in data}

    def forward_net(self, net: torch.nn.Module, return_rgb: bool = False) -> torch.Tensor:
        # noise buffers fixed at test time: the same input gives the same output
        out, self.out_rgbs = net(self.lq * 2 - 1, return_rgb=return_rgb,
                                 randomize_noise=net.training)
        return (out + 1) / 2

    def optimize_parameters(self, current_iter: int) -> None:
        if self.use_gan:
            self.net_d.requires_grad_(False)
        self.optimizer_g.zero_grad()
        use_pyramid = self.pyramid_weight > 0 and current_iter <= self.remove_pyramid_loss
        self.output = self.forward_net(self.net_g, return_rgb=use_pyramid)
        losses = OrderedDict()
        if self.cri_pix:
            losses["l_pix"] = self.cri_pix(self.output, self.gt)
        if use_pyramid:
            target = self.gt * 2 - 1
            losses["l_pyramid"] = sum(
                F.l1_loss(rgb, F.interpolate(target, size=rgb.shape[-2:], mode="bilinear",
                                             align_corners=False, antialias=True))
                for rgb in self.out_rgbs) * self.pyramid_weight
        if self.cri_perceptual:
            losses["l_percep"] = self.cri_perceptual(self.output, self.gt)
        if self.cri_selfsup:
            if not self.deg:
                raise ValueError("selfsup_opt needs `return_degradation: true` in the train "
                                 "dataset options (restore task)")
            losses["l_selfsup"] = self.cri_selfsup(self.output, self.lq, self.deg)
        if self.cri_identity:
            losses["l_identity"] = self.cri_identity(self.output, self.gt)
        if self.use_gan and current_iter > self.net_d_init_iters:
            losses["l_g_gan"] = self.cri_gan(self.net_d(self.output * 2 - 1), True, is_disc=False)
        sum(losses.values()).backward()
        self.optimizer_g.step()
        if self.ema_decay > 0:
            self.model_ema(decay=self.ema_decay)

        if self.use_gan and current_iter % self.net_d_iters == 0:
            self._discriminator_step(current_iter, losses)
        self.record_losses(losses)

    def _discriminator_step(self, current_iter: int, losses: OrderedDict) -> None:
        self.net_d.requires_grad_(True)
        self.optimizer_d.zero_grad()
        real = self.gt * 2 - 1
        fake_pred = self.net_d(self.output.detach() * 2 - 1)
        real_pred = self.net_d(real)
        l_d = self.cri_gan(real_pred, True, is_disc=True) + self.cri_gan(fake_pred, False, is_disc=True)
        losses["l_d"] = l_d
        losses["real_score"] = real_pred.detach().mean()
        losses["fake_score"] = fake_pred.detach().mean()
        l_d.backward()
        if current_iter % self.net_d_reg_every == 0:
            real = real.detach().requires_grad_(True)
            pred = self.net_d(real)
            l_r1 = r1_penalty(pred, real)
            # lazy regularisation: scaled by the interval; + 0 * pred keeps every output in the graph
            (self.r1_reg_weight / 2 * l_r1 * self.net_d_reg_every + 0 * pred[0]).sum().backward()
            losses["l_d_r1"] = l_r1.detach()
        self.optimizer_d.step()

    def save(self, epoch: int, current_iter: int) -> None:
        if hasattr(self, "net_g_ema"):
            self.save_network([self.net_g, self.net_g_ema], "net_g", current_iter,
                              param_key=["params", "params_ema"])
        else:
            self.save_network(self.net_g, "net_g", current_iter)
        if self.use_gan:
            self.save_network(self.net_d, "net_d", current_iter)
        self.save_training_state(epoch, current_iter)
