"""``SAM3DModel``: SRModel for SAM3D, fed ``lq`` + ``render`` (+ ``coeff``) and ``gt``.

The authors' recipe: MSE (``pixel_opt: {type: MSELoss}``), Adam 1e-4, halving every 20
epochs. The render is the 3D prior at LR size computed from the degraded input by the dataset
(``use_prior: true``); a ``use_prior: false`` network (the no-prior ablation) ignores it, and
then the dataset need not compute it. Outputs are compared in [0, 1], no clamp in training.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from basicsr.utils.registry import MODEL_REGISTRY

from fsr.models.base import FaceBaseModel


@MODEL_REGISTRY.register()
class SAM3DModel(FaceBaseModel):
    def feed_data(self, data: dict) -> None:
        self.lq = data["lq"].to(self.device)
        self.render = data["render"].to(self.device) if "render" in data else None
        self.coeff = data["coeff"].to(self.device) if "coeff" in data else None
        if "gt" in data:
            self.gt = data["gt"].to(self.device)

    def forward_net(self, net: torch.nn.Module) -> torch.Tensor:
        bare = self.get_bare_model(net)
        if bare.use_prior and self.render is None:
            raise ValueError("this SAM3D uses the 3D prior: set `use_prior: true` in the "
                             "dataset options so batches carry a 'render'")
        args = [self.lq, self.render]
        if bare.use_coeff:
            args.append(self.coeff)
        return net(*args)

    def optimize_parameters(self, current_iter: int) -> None:
        self.optimizer_g.zero_grad()
        self.output = self.forward_net(self.net_g)
        loss_dict = OrderedDict()
        l_total = 0
        if self.cri_pix:
            loss_dict["l_pix"] = self.cri_pix(self.output, self.gt)
            l_total = l_total + loss_dict["l_pix"]
        if self.cri_perceptual:
            l_percep, l_style = self.cri_perceptual(self.output, self.gt)
            for name, value in (("l_percep", l_percep), ("l_style", l_style)):
                if value is not None:
                    loss_dict[name] = value
                    l_total = l_total + value
        l_total.backward()
        self.optimizer_g.step()
        self.record_losses(loss_dict)
        if self.ema_decay > 0:
            self.model_ema(decay=self.ema_decay)
