"""Shared logic of the training datasets: ground truth -> (degraded input, 3D prior, target).

Each dataset lists ``(key, path)`` items and loads a float32 HxWx3 ground truth; this base
turns it into a BasicSR-style sample dict of CHW float tensors in [0, 1]::

    {'lq', 'gt', 'lq_path', 'gt_path', 'key'}  (+ 'render', 'coeff', 'prior_fitted' with use_prior)

Options (YAML, BasicSR conventions; ``phase`` is set by BasicSR to 'train' or 'val'):

- ``task``: 'sr' (bicubic, the SAM3D recipe; lq at gt_size / scale) or 'restore' (the
  GFPGAN blind degradation model, lq at gt_size), the benchmark's task names.
  ``scale`` (4 or 8), ``gt_size`` (128).
- ``degradation``: for 'restore', ``{preset: gfpgan|codeformer, sigma: [a, b], downscale: ...,
  noise: ..., jpeg: ...}`` (overrides of the preset's ranges).
- ``use_hflip`` (train only): flips the ground truth before degrading, so input, prior and
  target stay consistent.
- ``colour_aug`` (train only): ``{permute: p1, grey: p2}``: with probability p1 a random
  RGB channel permutation, with p2 a grey (BT.601 luma) copy, applied to input, target and
  prior together (a small training set has few backgrounds and skin tones; this teaches the
  network to pass colours through rather than memorise them).
- ``profile_aug`` (train only; off unless set): ``{p: 0.3, yaws: [15, 30, 45, 60]}``: with
  probability p the source is replaced by its face-profiling render (``fsr.synth.profile``,
  synthetic pose) at a random yaw of ``yaws`` and random sign, before anything else, so
  input, prior and target agree. Renders are cached in ``$FSR_HOME/profiles`` by content;
  a source that cannot be profiled (no face found) is used as it is.
- ``use_prior``: add the 3D prior (:mod:`fsr.priors.service`, as the benchmark computes it),
  fitted on the degraded input (``prior_source: degraded``) or, as a labelled ablation, on
  the ground truth (``prior_source: oracle``); ``prior_cache``: folder (default
  ``$FSR_HOME/priors``) or false.
- ``cache_images``: keep decoded source images in memory (small sets only).
- ``return_degradation`` (restore): add the sampled kernel, scale, noise and JPEG quality
  (``deg_*`` keys, see :mod:`fsr.data.blind_params`) for the self-supervised loss.

Training samples draw a fresh degradation seed from NumPy's global generator (seeded by
BasicSR per worker); validation uses ``seed_for(key, task_name)``: every run and every method
sees the same inputs, the ones the benchmark uses for the same key.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils import data

from fsr.data.blind_params import apply_blind, blind_params
from fsr.data.degradations import PRESETS, degrade, resize, seed_for
from fsr.imageio import to_uint8
from fsr.priors import PRIOR_SOURCES, PriorCache, default_prior_dir

TASKS = ("sr", "restore")
#: task names of older option files -> today's (one line, not a traceback, when one is read)
RENAMED_TASKS = {"blind": "restore"}


class DatasetError(ValueError):
    """Bad dataset options or a dataset that is not where the options say (one-line message)."""


def check_task(task: str) -> str:
    """``task`` if it is one of TASKS; else DatasetError (naming today's name for an old one)."""
    if task in RENAMED_TASKS:
        raise DatasetError(f"task {task!r} is now called {RENAMED_TASKS[task]!r}: write "
                           f"`task: {RENAMED_TASKS[task]}` in the dataset options")
    if task not in TASKS:
        raise DatasetError(f"task must be one of {TASKS}, got {task!r}")
    return task


def _apply_colour(img: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.clip(img @ matrix.T, 0, 1), dtype=np.float32)


def _colour_coeffs(coeff: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Recolour the SH lighting block (the last 27 = 3 channels x 9) of a prior's coefficients."""
    from fsr.priors import COEFF_LAYOUT

    if COEFF_LAYOUT[-1] != ("lighting", 27) or coeff.shape[-1] < 27:
        return coeff
    out = coeff.copy()
    out[-27:] = (matrix @ coeff[-27:].reshape(3, 9)).reshape(-1)
    return out


def to_chw(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32))


def resolve_root(opt: dict, key: str, env: str, holding: str) -> Path:
    """The dataset folder from ``opt[key]`` or ``$env``; DatasetError when it is missing."""
    value = opt.get(key) or os.environ.get(env)
    if not value:
        raise DatasetError(f"{opt.get('name', 'dataset')}: set `{key}` in the options or ${env} "
                           f"to a folder holding {holding}")
    root = Path(value).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{opt.get('name', 'dataset')}: folder {root} not found (expected "
                           f"{holding}; set `{key}` or ${env})")
    return root


class FacePairDataset(data.Dataset):
    """Base class; subclasses set ``self.keys`` / ``self.paths`` and implement ``load_source``."""

    def __init__(self, opt: dict) -> None:
        super().__init__()
        self.opt = opt
        self.is_train = opt.get("phase") == "train"
        self.task = check_task(opt.get("task", "sr"))
        self.gt_size = int(opt.get("gt_size", 128))
        self.scale = int(opt.get("scale", 4)) if self.task == "sr" else 1
        if self.gt_size % self.scale:
            raise DatasetError(f"scale {self.scale} does not divide gt_size {self.gt_size}")
        spec = dict(opt.get("degradation") or {})
        if self.task == "sr":
            self.spec = {"type": "bicubic", "scale": self.scale}
            self.task_name = f"sr-x{self.scale}"
        else:
            preset = spec.pop("preset", "gfpgan")
            if preset not in PRESETS:
                raise DatasetError(f"degradation preset must be one of {sorted(PRESETS)}, "
                                   f"got {preset!r}")
            bad = set(spec) - set(PRESETS[preset])
            if bad:
                raise DatasetError(f"unknown degradation option(s) {sorted(bad)}; "
                                   f"expected some of {sorted(PRESETS[preset])}")
            self.spec = {"type": "blind", "preset": preset, **{k: list(v) for k, v in spec.items()}}
            self.task_name = opt.get("task_name", "restore")
        self.use_hflip = bool(opt.get("use_hflip", False)) and self.is_train
        colour = opt.get("colour_aug") or {}
        if set(colour) - {"permute", "grey"}:
            raise DatasetError(f"colour_aug takes 'permute' and 'grey' probabilities, got {colour}")
        self.colour_aug = colour if self.is_train else {}
        prof = dict(opt.get("profile_aug") or {})
        if set(prof) - {"p", "yaws"} or not 0 <= float(prof.get("p", 0.3)) <= 1:
            raise DatasetError(f"profile_aug takes 'p' (0..1) and 'yaws', got {prof}")
        self.profile_aug = ({"p": float(prof.get("p", 0.3)), "yaws": [float(y) for y in prof.get(
            "yaws", [15, 30, 45, 60])]} if prof and self.is_train else None)
        self._unprofilable: set[int] = set()
        self.use_prior = bool(opt.get("use_prior", False))
        self.prior_source = opt.get("prior_source", "degraded")
        if self.prior_source not in PRIOR_SOURCES:
            raise DatasetError(f"prior_source must be one of {PRIOR_SOURCES}, "
                               f"got {self.prior_source!r}")
        # restore inputs also return their sampled parameters (for the re-degradation loss)
        self.return_degradation = bool(opt.get("return_degradation", False))
        cache = opt.get("prior_cache")
        if self.task == "restore" and self.is_train:
            cache = False  # a fresh random input every time: nothing to reuse
        self.priors = PriorCache(None if cache is False else
                                 default_prior_dir() if cache in (None, True) else cache)
        self.keys: list[str] = []
        self.paths: list[Path] = []
        # small sets (the sample set): keep decoded images in memory after the first epoch
        self._cache: dict[int, np.ndarray] | None = {} if opt.get("cache_images") else None

    # subclasses -----------------------------------------------------------------------
    #: True: the sr input is a bicubic of the full-resolution source (the SAM3D CelebA
    #: recipe) rather than of the gt_size ground truth.
    lr_from_source = False

    def load_source(self, index: int) -> np.ndarray:
        """Image ``index`` as float32 HxWx3 in [0, 1] (any size; the ground truth is its
        antialiased bicubic resize to gt_size)."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int) -> dict:
        key = self.keys[index]
        if self._cache is None:
            src = self.load_source(index)
        else:
            if index not in self._cache:
                self._cache[index] = self.load_source(index)
            src = self._cache[index]
        if self.profile_aug and np.random.random() < self.profile_aug["p"]:
            src = self._profiled(index, src)
        if self.use_hflip and np.random.random() < 0.5:
            src = np.ascontiguousarray(src[:, ::-1])  # before degrading: lq, prior, gt agree
        colour = self._draw_colour_aug()
        if colour is not None and not self.use_prior:
            src = _apply_colour(src, colour)  # before degrading: exact for any degradation
        size = (self.gt_size, self.gt_size)
        gt = src if src.shape[:2] == size else resize(src, size)
        seed = int(np.random.randint(0, 2**31 - 1)) if self.is_train \
            else seed_for(key, self.task_name)
        if self.task == "sr" and self.lr_from_source:
            side = self.gt_size // self.scale
            lq = resize(src, (side, side))
        elif self.task == "restore" and self.return_degradation:
            lq, deg = self._blind_with_params(gt, seed)
        else:
            lq = degrade(gt, self.spec, seed)
        out = {"lq": to_chw(lq), "gt": to_chw(gt), "key": key,
               "lq_path": str(self.paths[index]), "gt_path": str(self.paths[index])}
        if self.return_degradation and self.task == "restore":
            out.update(deg)
        if self.use_prior:
            # fitted on the input the network sees (cached per input hash), or on the
            # ground truth for the oracle ablation; rendered at the input's size
            prior = self.priors.get(lq, gt=gt, source=self.prior_source)
            render, coeff = prior["render"], np.asarray(prior["coeffs"], dtype=np.float32)
            if colour is not None:
                # after the (cached) prior: bicubic is per-channel linear, and the render's SH
                # light is fitted per channel, so permuting/greying all three together is what
                # the prior of the recoloured input would be (up to the mesh fit)
                lq, gt, render = (_apply_colour(a, colour) for a in (lq, gt, render))
                coeff = _colour_coeffs(coeff, colour)
                out["lq"], out["gt"] = to_chw(lq), to_chw(gt)
            out["render"] = to_chw(render)
            out["coeff"] = torch.from_numpy(coeff)
            out["prior_fitted"] = torch.tensor(bool(prior["fitted"]))
        return out

    def _profiled(self, index: int, src: np.ndarray) -> np.ndarray:
        """The source turned to a random yaw by face profiling (cached), or ``src`` itself."""
        if index in self._unprofilable:
            return src
        from fsr.imageio import read_image
        from fsr.synth.profile import ProfileError
        from fsr.synth.profile_io import cached_renders

        yaw = float(np.random.choice(self.profile_aug["yaws"])) * (1 if np.random.random() < 0.5
                                                                   else -1)
        img = to_uint8(src)
        try:
            render = cached_renders(img, [yaw])[0]
        except (ProfileError, ValueError):
            self._unprofilable.add(index)
            return src
        return read_image(render["image"]).astype(np.float32) / 255.0

    def _draw_colour_aug(self) -> np.ndarray | None:
        """A 3x3 colour matrix (random RGB permutation, or grey) for training, else None."""
        if not self.colour_aug:
            return None
        r = np.random.random()
        if r < self.colour_aug.get("grey", 0.0):
            return np.tile(np.array([[0.299, 0.587, 0.114]], np.float32), (3, 1))
        if r < self.colour_aug.get("grey", 0.0) + self.colour_aug.get("permute", 0.0):
            perm = [(0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)][np.random.randint(5)]
            return np.eye(3, dtype=np.float32)[list(perm)]
        return None

    def _blind_with_params(self, gt: np.ndarray, seed: int) -> tuple[np.ndarray, dict]:
        """``blind`` plus its sampled parameters as fixed-shape tensors (for default collate):
        ``deg_noise`` is zero-padded to (3, P, P), ``deg_lr_size`` says how much of it is real."""
        ranges = {k: v for k, v in self.spec.items() if k not in ("type", "preset")}
        p = blind_params(gt.shape[:2], seed, self.spec["preset"], **ranges)
        lq = apply_blind(gt, p)
        lo = (ranges.get("downscale") or PRESETS[self.spec["preset"]]["downscale"])[0]
        side = int(np.ceil(max(gt.shape[:2]) / lo)) + 1
        noise = np.zeros((3, side, side), np.float32)
        lh, lw = p["lr_size"]
        noise[:, :lh, :lw] = p["noise"].transpose(2, 0, 1)
        return lq, {"deg_kernel": torch.from_numpy(p["kernel"]),
                    "deg_scale": torch.tensor(p["scale"], dtype=torch.float32),
                    "deg_lr_size": torch.tensor([lh, lw]), "deg_noise": torch.from_numpy(noise),
                    "deg_jpeg": torch.tensor(p["jpeg"])}

    def extra_repr(self) -> str:
        return (f"{len(self)} images, task {self.task_name}, gt {self.gt_size}, "
                f"{'train' if self.is_train else 'val'}, prior "
                f"{self.prior_source if self.use_prior else 'none'}")
