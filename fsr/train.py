"""Train from a BasicSR-style YAML: ``python -m fsr.train -opt options/sam3d_x4_samples.yml``.

Flags are BasicSR's: ``--auto_resume`` (continue from the newest training state of the
experiment), ``--force_yml train:ema_decay=0.999 ...``, ``--launcher pytorch`` (torchrun),
``--debug``. Outputs go to ``experiments/<name>/`` under the working directory (or
``path.experiments_root``): ``models/net_g_<iter>.pth`` ({'params', 'params_ema'}),
``training_states/<iter>.state``, the text log, ``train_log.csv`` and, with
``logger.use_tb_logger``, ``tb_logger/<name>/``.

The loop is BasicSR's ``basicsr.train.train_pipeline`` with its building blocks (option
parsing, dataloaders, ``build_model``, ``MessageLogger``, tensorboard, prefetchers) reused
unchanged. Only resume-state loading is fsr's own, because BasicSR 1.4's
``load_resume_state`` cannot resume on a CPU-only machine (``torch.cuda.current_device()``
raises "Found no NVIDIA driver") and looks for states in ``./experiments/<name>`` even when
``path.experiments_root`` points elsewhere. Extra options: ``num_threads`` (CPU threads for
torch), ``base:`` (the file's options on top of another file's, :mod:`fsr.options`; the
experiment keeps the resolved copy) and ``logger.progress_bar`` (a tqdm bar with the losses and ETA; default: on when
stderr is a terminal, so CI logs stay plain). The final validation is skipped when the last iteration was just
validated (BasicSR repeats it).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import sys
import time
from pathlib import Path


def progress_bar(opt: dict, total: int, done: int, logger: logging.Logger):
    """(bar or None, context): a tqdm bar over the iterations, log lines printed above it."""
    wanted = opt["logger"].get("progress_bar")
    if wanted is None:
        wanted = sys.stderr.isatty()
    if not wanted or opt.get("rank", 0) != 0:
        return None, contextlib.nullcontext()
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    bar = tqdm(total=total, initial=done, unit="it", dynamic_ncols=True, mininterval=1.0,
               desc=opt["name"])
    return bar, logging_redirect_tqdm(loggers=[logger])


def load_resume_state(opt: dict) -> dict | None:
    """The training state to resume from (``--auto_resume``: the newest in the experiment's
    ``training_states/``; else ``path.resume_state``), loaded on CPU or the current GPU."""
    import torch
    from basicsr.utils import check_resume

    path = None
    if opt["auto_resume"]:
        folder = Path(opt["path"]["training_states"])
        states = [p for p in folder.glob("*.state") if p.stem.isdigit()] if folder.is_dir() else []
        if states:
            path = max(states, key=lambda p: int(p.stem))
            opt["path"]["resume_state"] = str(path)
    elif opt["path"].get("resume_state"):
        path = opt["path"]["resume_state"]
    if path is None:
        return None
    on_gpu = opt.get("num_gpu", 0) != 0 and torch.cuda.is_available()
    device = f"cuda:{torch.cuda.current_device()}" if on_gpu else "cpu"
    state = torch.load(path, map_location=device, weights_only=True)
    check_resume(opt, state["iter"])
    return state


def copy_resolved_options(opt_file: str, experiments_root: str) -> None:
    """``experiments/<name>/<file name>``: the options as trained, ``base:`` chain resolved, so
    the experiment (and ``tools/release_weights.py``) stands alone. BasicSR copies the file."""
    from basicsr.utils.dist_util import get_dist_info

    from fsr.options import dump_options, load_options

    if get_dist_info()[0] != 0:
        return
    header = (f"# GENERATE TIME: {time.asctime()}\n# CMD:\n# {' '.join(sys.argv)}\n"
              f"# resolved from {opt_file}\n\n")
    dest = Path(experiments_root) / Path(opt_file).name
    dest.write_text(header + dump_options(load_options(opt_file)))


def train_pipeline(root_path: str) -> None:
    import torch
    from basicsr.data.prefetch_dataloader import CPUPrefetcher, CUDAPrefetcher
    from basicsr.models import build_model
    from basicsr.train import create_train_val_dataloader, init_tb_loggers
    from basicsr.utils import (
        AvgTimer,
        MessageLogger,
        get_env_info,
        get_root_logger,
        get_time_str,
        make_exp_dirs,
        mkdir_and_rename,
    )
    from basicsr.utils import options as basicsr_options
    from basicsr.utils.options import dict2str, parse_options

    import fsr.models  # noqa: F401  (registers fsr's archs, losses, datasets, models)
    from fsr.data.pair_base import DatasetError, check_task
    from fsr.options import OptionsError, load_options

    # parse_options reads the file through its module's yaml_load; fsr's resolves `base:`.
    basicsr_options.yaml_load = load_options
    try:
        opt, args = parse_options(root_path, is_train=True)
    except OptionsError as err:
        sys.exit(f"fsr.train: {err}")
    for phase, ds in (opt.get("datasets") or {}).items():
        try:  # before any experiment folder is made: an old `task: blind` is one line
            check_task(ds.get("task", "sr"))
        except DatasetError as err:
            sys.exit(f"fsr.train: datasets.{phase}: {err}")
    opt["root_path"] = root_path
    if opt.get("num_threads"):
        torch.set_num_threads(int(opt["num_threads"]))
    torch.backends.cudnn.benchmark = True

    resume_state = load_resume_state(opt)
    if resume_state is None:
        make_exp_dirs(opt)
        if opt["logger"].get("use_tb_logger") and "debug" not in opt["name"] and opt["rank"] == 0:
            mkdir_and_rename(os.path.join(root_path, "tb_logger", opt["name"]))
    copy_resolved_options(args.opt, opt["path"]["experiments_root"])

    log_file = os.path.join(opt["path"]["log"], f"train_{opt['name']}_{get_time_str()}.log")
    logger = get_root_logger(logger_name="basicsr", log_level=logging.INFO, log_file=log_file)
    logger.info(get_env_info())
    logger.info(dict2str(opt))
    tb_logger = init_tb_loggers(opt)

    train_loader, train_sampler, val_loaders, total_epochs, total_iters = \
        create_train_val_dataloader(opt, logger)
    model = build_model(opt)
    start_epoch, current_iter = 0, 0
    if resume_state:
        model.resume_training(resume_state)
        start_epoch, current_iter = resume_state["epoch"], resume_state["iter"]
        logger.info(f"Resuming training from epoch: {start_epoch}, iter: {current_iter}.")
    msg_logger = MessageLogger(opt, current_iter, tb_logger)

    prefetch_mode = opt["datasets"]["train"].get("prefetch_mode")
    if prefetch_mode in (None, "cpu"):
        prefetcher = CPUPrefetcher(train_loader)
    elif prefetch_mode == "cuda":
        prefetcher = CUDAPrefetcher(train_loader, opt)
    else:
        raise ValueError(f"prefetch_mode must be None, 'cpu' or 'cuda', got {prefetch_mode!r}")

    val_freq = opt["val"]["val_freq"] if opt.get("val") else None
    logger.info(f"Start training from epoch: {start_epoch}, iter: {current_iter}")
    data_timer, iter_timer = AvgTimer(), AvgTimer()
    start_time = time.time()
    last_val = None
    bar, redirect = progress_bar(opt, total_iters, current_iter, logger)
    with redirect:
        for epoch in range(start_epoch, total_epochs + 1):
            if current_iter >= total_iters:
                break
            train_sampler.set_epoch(epoch)
            prefetcher.reset()
            train_data = prefetcher.next()
            while train_data is not None and current_iter < total_iters:
                data_timer.record()
                current_iter += 1
                model.update_learning_rate(current_iter, warmup_iter=opt["train"].get("warmup_iter", -1))
                model.feed_data(train_data)
                model.optimize_parameters(current_iter)
                iter_timer.record()
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.3g}" for k, v in model.get_current_log().items()},
                                    refresh=False)
                if current_iter == 1:
                    msg_logger.reset_start_time()
                if current_iter % opt["logger"]["print_freq"] == 0:
                    log_vars = {"epoch": epoch, "iter": current_iter,
                                "lrs": model.get_current_learning_rate(),
                                "time": iter_timer.get_avg_time(),
                                "data_time": data_timer.get_avg_time()}
                    log_vars.update(model.get_current_log())
                    msg_logger(log_vars)
                if current_iter % opt["logger"]["save_checkpoint_freq"] == 0:
                    logger.info("Saving models and training states.")
                    model.save(epoch, current_iter)
                if val_freq and current_iter % val_freq == 0:
                    for val_loader in val_loaders:
                        model.validation(val_loader, current_iter, tb_logger, opt["val"]["save_img"])
                    last_val = current_iter
                    if model.stop_training:  # early stopping on the val split
                        break
                data_timer.start()
                iter_timer.start()
                train_data = prefetcher.next()
            if model.stop_training:
                break
    if bar is not None:
        bar.close()

    consumed = str(datetime.timedelta(seconds=int(time.time() - start_time)))
    logger.info(f"End of training. Time consumed: {consumed}")
    logger.info("Save the latest model.")
    model.save(epoch=-1, current_iter=-1)  # net_g_latest.pth
    if val_freq and last_val != current_iter and current_iter > 0:
        for val_loader in val_loaders:
            model.validation(val_loader, current_iter, tb_logger, opt["val"]["save_img"])
    if tb_logger:
        tb_logger.close()


def main() -> None:
    train_pipeline(os.getcwd())


if __name__ == "__main__":
    main()
