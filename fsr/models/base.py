"""What every fsr training model adds to BasicSR's ``SRModel``.

- Validation scored the benchmark's way (:class:`fsr.metrics.scoring.Scorer`, the per-image
  scores ``bench/run.py`` reports): ``val.metrics: {psnr: {type: psnr}, lpips: {type:
  lpips-vgg}}``, ``type`` a row of the metric table with the table's arguments (no per-run
  overrides), on outputs clamped to [0, 1]; lower-is-better metrics are tracked as such. The
  sample-set options validate on the ``val`` split: the test split is the benchmark's.
- A CSV log (``<experiments_root>/train_log.csv``): one row per validation and dataset with the
  iteration, wall time (summed over resumed runs, up to the last logged row), learning rate, training losses averaged since the previous
  validation, and the validation metrics. BasicSR only logs to text and tensorboard.
- EMA that also tracks BatchNorm buffers (BasicSR's averages parameters only).
- Early stopping on the first val loader (``val.early_stop: {metric: psnr, patience: 5}``):
  every validation that improves ``metric`` writes ``models/net_g_best.pth`` and
  ``models/best.json``; ``patience`` validations without a gain set ``stop_training``, which
  ends the run. ``tools/release_weights.py`` releases the best checkpoint. The test split never
  takes part.
- Atomic checkpoint writes (temp file + rename): a run killed while saving never leaves a
  truncated ``net_g_*.pth`` or ``*.state`` for ``--auto_resume`` to choke on; on resume the
  CSV rows past the resumed iteration are dropped, so the log has no duplicates.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import OrderedDict
from pathlib import Path

import torch
from basicsr.models.sr_model import SRModel
from basicsr.utils import get_root_logger, imwrite, tensor2img
from basicsr.utils.dist_util import master_only

from fsr.archs.checkpoint import atomic_torch_save
from fsr.files import atomic_write

CSV_NAME = "train_log.csv"


class FaceBaseModel(SRModel):
    """SRModel + fsr metrics, CSV log and atomic saves. Subclasses define ``forward_net``."""

    def __init__(self, opt: dict) -> None:
        self._loss_sums: dict[str, float] = {}
        self._loss_count = 0
        self._reset_losses = False
        self._start = time.time()
        self._elapsed_before = 0.0  # wall time of the runs this one resumed
        self._score = None  # fsr.metrics.scoring.Scorer, built at the first validation
        self.stop_training = False  # set by early stopping; fsr.train ends the run
        super().__init__(opt)

    # --- forward -----------------------------------------------------------------------
    def forward_net(self, net: torch.nn.Module) -> torch.Tensor:
        """Run ``net`` on the fed batch; return the output image in [0, 1] range (unclamped)."""
        raise NotImplementedError

    def test(self) -> None:
        net = self.net_g_ema if hasattr(self, "net_g_ema") else self.net_g
        was_training = net.training
        net.eval()
        with torch.no_grad():
            self.output = self.forward_net(net)
        net.train(was_training)

    def model_ema(self, decay: float = 0.999) -> None:
        """BasicSR's parameter EMA, plus a copy of the buffers (BatchNorm running statistics):
        without it an EMA copy of a net with BatchNorm (SAM3D's attention head) keeps its
        initial statistics and evaluates to garbage."""
        super().model_ema(decay)
        ema_buffers = dict(self.net_g_ema.named_buffers())
        for name, buf in self.get_bare_model(self.net_g).named_buffers():
            if name in ema_buffers:
                ema_buffers[name].data.copy_(buf.data)

    # --- losses bookkeeping ----------------------------------------------------------------
    def record_losses(self, loss_dict: OrderedDict) -> None:
        """Reduce ``loss_dict`` into ``self.log_dict`` and add it to the CSV averages."""
        self.log_dict = self.reduce_loss_dict(loss_dict)
        if self._reset_losses:
            self._loss_sums, self._loss_count, self._reset_losses = {}, 0, False
        for k, v in self.log_dict.items():
            self._loss_sums[k] = self._loss_sums.get(k, 0.0) + float(v)
        self._loss_count += 1

    # --- validation --------------------------------------------------------------------
    def _scorer(self):
        if self._score is None:
            from fsr.metrics.scoring import Scorer

            self._score = Scorer(str(self.device))
        return self._score

    def _metric(self, name: str, spec: dict):
        """The table metric a ``val.metrics`` entry names (built once, as the benchmark's)."""
        extra = sorted(set(spec) - {"type", "better"})
        if extra:
            from fsr.metrics import MetricError

            raise MetricError(f"val.metrics.{name}: {', '.join(extra)} not allowed: validation "
                              "scores like the benchmark, with the metric table's arguments; "
                              "name a table row instead (e.g. type: lpips-vgg)")
        return self._scorer().get(spec.get("type", name))

    def nondist_validation(self, dataloader, current_iter, tb_logger, save_img):
        dataset_name = dataloader.dataset.opt["name"]
        specs = self.opt["val"].get("metrics") or {}
        for name, spec in specs.items():
            spec["better"] = "lower" if self._metric(name, spec).lower_better else "higher"
        if specs:
            self._initialize_best_metric_results(dataset_name)
        sums = dict.fromkeys(specs, 0.0)
        count = 0
        for val_data in dataloader:
            self.feed_data(val_data)
            self.test()
            pred = self.output.detach().clamp(0, 1)
            for name, spec in specs.items():
                sums[name] += sum(self._scorer().values(spec.get("type", name), pred, self.gt))
            count += pred.shape[0]
            if save_img:
                for key, img in zip(val_data["key"], pred, strict=True):
                    folder = Path(self.opt["path"]["visualization"]) / dataset_name
                    imwrite(tensor2img([img[None].cpu()]), str(folder / f"{key}_{current_iter}.png"))
        self.metric_results = {name: s / max(count, 1) for name, s in sums.items()}
        for name, value in self.metric_results.items():
            self._update_best_metric_result(dataset_name, name, value, current_iter)
        if specs:
            self._log_validation_metric_values(current_iter, dataset_name, tb_logger)
        self._write_csv_row(current_iter, dataset_name)
        if dataset_name == (self.opt["datasets"].get("val") or {}).get("name"):
            self._track_best(current_iter)

    # --- early stopping ----------------------------------------------------------------------
    def best_path(self) -> Path:
        return Path(self.opt["path"]["models"]) / "best.json"

    def _track_best(self, current_iter: int) -> None:
        spec = (self.opt.get("val") or {}).get("early_stop")
        if not spec or not isinstance(current_iter, int) or current_iter <= 0:
            return
        metric = spec.get("metric", "psnr")
        if metric not in self.metric_results:
            raise ValueError(f"val.early_stop.metric {metric!r} is not among val.metrics "
                             f"{sorted(self.metric_results)}")
        value = float(self.metric_results[metric])
        lower = self.opt["val"]["metrics"][metric]["better"] == "lower"
        path = self.best_path()
        best = json.loads(path.read_text()) if path.is_file() else None
        if best is None or (value < best["value"] if lower else value > best["value"]):
            nets = [self.net_g, self.net_g_ema] if hasattr(self, "net_g_ema") else [self.net_g]
            self.save_network(nets, "net_g", "best", ["params", "params_ema"][:len(nets)])
            best = {"metric": metric, "value": value, "iter": current_iter}
            self._write_best(best)
        patience = int(spec.get("patience", 0))
        val_freq = int(self.opt["val"]["val_freq"])
        self.stop_training = patience > 0 and current_iter - best["iter"] >= patience * val_freq
        if self.stop_training:
            get_root_logger().info(f"Early stop at iter {current_iter}: best val {metric} "
                                   f"{best['value']:.4f} at iter {best['iter']}.")

    @master_only
    def _write_best(self, best: dict) -> None:
        with atomic_write(self.best_path()) as tmp:
            tmp.write_text(json.dumps(best) + "\n")

    # --- CSV log -----------------------------------------------------------------------
    def csv_path(self) -> Path | None:
        root = self.opt.get("path", {}).get("experiments_root")
        return Path(root) / CSV_NAME if root and self.opt.get("is_train") else None

    @master_only
    def _write_csv_row(self, current_iter: int, dataset_name: str) -> None:
        path = self.csv_path()
        if path is None:
            return
        row = {"iter": current_iter, "dataset": dataset_name,
               "elapsed_s": round(self._elapsed_before + time.time() - self._start, 1),
               "lr": self.get_current_learning_rate()[0]}
        n = max(self._loss_count, 1)
        row.update({k: v / n for k, v in self._loss_sums.items()})
        row.update({f"val_{k}": v for k, v in self.metric_results.items()})
        self._reset_losses = True
        _rewrite_csv(path, [*_read_csv(path), row])

    def resume_training(self, resume_state: dict) -> None:
        super().resume_training(resume_state)
        path = self.csv_path()
        if path is not None and path.is_file():
            # rows a killed run wrote after its last checkpoint are redone by this run
            rows = [r for r in _read_csv(path) if int(float(r["iter"])) <= resume_state["iter"]]
            _rewrite_csv(path, rows)
            if rows and rows[-1].get("elapsed_s"):
                self._elapsed_before = float(rows[-1]["elapsed_s"])

    # --- atomic saving -------------------------------------------------------------------
    @master_only
    def save_network(self, net, net_label, current_iter, param_key="params"):
        nets = net if isinstance(net, list) else [net]
        keys = param_key if isinstance(param_key, list) else [param_key]
        if len(nets) != len(keys):
            raise ValueError("save_network: as many param keys as networks are needed")
        save = {}
        for net_, key in zip(nets, keys, strict=True):
            state = self.get_bare_model(net_).state_dict()
            save[key] = {k.removeprefix("module."): v.detach().cpu() for k, v in state.items()}
        label = "latest" if current_iter == -1 else current_iter
        atomic_torch_save(save, Path(self.opt["path"]["models"]) / f"{net_label}_{label}.pth")

    @master_only
    def save_training_state(self, epoch, current_iter):
        if current_iter == -1:
            return
        state = {"epoch": epoch, "iter": current_iter,
                 "optimizers": [o.state_dict() for o in self.optimizers],
                 "schedulers": [s.state_dict() for s in self.schedulers]}
        atomic_torch_save(state, Path(self.opt["path"]["training_states"]) / f"{current_iter}.state")
        get_root_logger().info(f"Saved training state of iter {current_iter}.")


def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _rewrite_csv(path: Path, rows: list[dict]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_write(path) as tmp:
        tmp.write_text(buf.getvalue())
