"""pyiqa (IQA-PyTorch 0.1.16) as fsr's engine for the metrics it has: weights via ``fsr.assets``.

pyiqa downloads its weights on first use (Hugging Face, GitHub releases, OpenAI's CLIP host),
into ``torch.hub.get_dir()/pyiqa`` and ``torch.hub.get_dir()/clip``. fsr never lets it: before a
pyiqa metric is built, every file it needs is resolved through :func:`fsr.assets.resolve`
(user file, fsr's cache, official URL with its checksum, registry package or converter) and
linked to the exact path pyiqa looks at; a file that cannot be resolved stops
``create_metric(name)`` with the resolver's one line naming it. While pyiqa builds the metric
any network connection raises (:func:`no_network`), so a file pyiqa would fetch that the table
does not know about is an error, never a silent download. Timm backbones whose ImageNet weights
pyiqa's checkpoints overwrite anyway (MANIQA's ViT, TOPIQ's ResNet-50; both checkpoints load
with ``strict=True``) are built without their ImageNet download.

    >>> m = PyiqaMetric('psnr', mode='FR')          # weight-free: runs offline
    >>> float(m(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8) + 0.5)) > 6
    True

Inputs are fsr's convention: RGB float ``(N, 3, H, W)`` in [0, 1]; outputs ``(N,)`` float64.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from fsr.metrics.common import MetricError, check_images, check_pair
from fsr.metrics.errors import MetricUnavailable

_BUILD_LOCK = threading.Lock()  # the guards below patch module attributes


def pyiqa_cache_dir() -> Path:
    """Where pyiqa 0.1.16 looks for its weights: ``pyiqa.utils.download_util.DEFAULT_CACHE_DIR``,
    fixed when pyiqa is imported (``torch.hub.get_dir()/pyiqa`` at that time)."""
    from pyiqa.utils.download_util import DEFAULT_CACHE_DIR

    return Path(DEFAULT_CACHE_DIR)


def target_path(relative: str) -> Path:
    """``'pyiqa/<file>'`` -> pyiqa's weight folder; ``'clip/<file>'`` -> where pyiqa's CLIP
    loader looks (``torch.hub.get_dir()/clip``, read at load time)."""
    root, _, name = relative.partition("/")
    if root == "pyiqa":
        return pyiqa_cache_dir() / name
    if root == "clip":
        return Path(torch.hub.get_dir()) / "clip" / name
    raise MetricError(f"pyiqa weight target must start with pyiqa/ or clip/, got {relative!r}")


def place(asset: str, relative: str) -> Path:
    """Resolve ``asset`` through fsr.assets and link it at :func:`target_path` ``(relative)``.

    An existing file there is replaced by the link: what pyiqa reads is always the file the
    resolver checked. Falls back to a copy where links are not allowed.
    """
    from fsr.assets import AssetError, resolve

    try:
        source = resolve(asset).resolve()
    except AssetError as exc:
        raise MetricUnavailable(str(exc)) from None
    dest = target_path(relative)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink() and dest.resolve() == source:
        return dest
    # not fsr.files.atomic_write: this places a symlink (a copy only as a fallback), and
    # atomic_write's temp is a regular file
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        tmp.symlink_to(source)
    except OSError:
        import shutil

        shutil.copyfile(source, tmp)
    os.replace(tmp, dest)
    return dest


@contextlib.contextmanager
def no_network(what: str) -> Iterator[None]:
    """Make every outgoing connection raise :class:`MetricError` while ``what`` is built."""

    def refuse(*args, **kwargs):
        raise MetricError(f"{what}: pyiqa tried to open a network connection (a weight fsr's "
                          "asset table does not list); fsr resolves every weight through "
                          "fsr.assets, see docs/metrics.md")

    saved = socket.socket.connect, socket.create_connection
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect, socket.create_connection = saved


@contextlib.contextmanager
def _timm_without_imagenet() -> Iterator[None]:
    """MANIQA calls ``timm.create_model(..., pretrained=True)``; its checkpoint then loads the
    whole network strictly, so the ImageNet download would only be overwritten."""
    import timm

    original = timm.create_model

    def create_model(*args, **kwargs):
        kwargs["pretrained"] = False
        return original(*args, **kwargs)

    timm.create_model = create_model
    try:
        yield
    finally:
        timm.create_model = original


@contextlib.contextmanager
def _weights_only_loads(what: str) -> Iterator[None]:
    """pyiqa calls ``torch.load(..., weights_only=False)``; fsr loads no pickle that can run
    code, so every load while a metric is built is forced to ``weights_only=True``."""
    original = torch.load

    def load(*args, **kwargs):
        kwargs["weights_only"] = True
        try:
            return original(*args, **kwargs)
        except pickle.UnpicklingError as exc:
            raise MetricError(f"{what}: {args[0] if args else kwargs.get('f')} holds objects "
                              f"beyond tensors, which fsr does not unpickle "
                              f"({str(exc).splitlines()[0][:120]})") from None

    torch.load = load
    try:
        yield
    finally:
        torch.load = original


class PyiqaMetric(nn.Module):
    """One pyiqa metric behind fsr's interface.

    Args:
        pyiqa_name: the name in ``pyiqa.list_models()`` (e.g. 'musiq', 'topiq_nr-face').
        mode: 'NR' (``metric(img)``) or 'FR' (``metric(pred, gt)``).
        weights: ``{asset name: 'pyiqa/<file>' or 'clip/<file>'}`` placed before building.
        options: keyword arguments for ``pyiqa.create_metric`` (the arch's options).
        min_size: smallest side the metric accepts (checked with a one-line error).
    """

    def __init__(self, pyiqa_name: str, mode: str = "NR", weights: dict | None = None,
                 options: dict | None = None, min_size: int = 1, **extra) -> None:
        super().__init__()
        if mode not in ("NR", "FR"):
            raise MetricError(f"pyiqa metric mode must be 'NR' or 'FR', got {mode!r}")
        self.pyiqa_name, self.mode, self.min_size = pyiqa_name, mode, min_size
        import pyiqa

        self.weight_files = {a: place(a, rel) for a, rel in (weights or {}).items()}

        if pyiqa_name not in pyiqa.list_models():
            raise MetricError(f"pyiqa {pyiqa.__version__} has no metric {pyiqa_name!r}")
        opts = {**(options or {}), **extra}
        with _BUILD_LOCK, no_network(f"pyiqa {pyiqa_name}"), _timm_without_imagenet(), \
                _weights_only_loads(f"pyiqa {pyiqa_name}"):
            try:
                self.net = pyiqa.create_metric(pyiqa_name, device=torch.device("cpu"), **opts)
            except TypeError as exc:
                raise MetricError(f"pyiqa {pyiqa_name}: {exc}") from None
        self.net.eval()

    def _run(self, *args: Tensor) -> Tensor:
        with torch.no_grad():
            out = self.net(*args)
        return out.detach().reshape(len(args[0])).double().cpu()

    def forward(self, img: Tensor, gt: Tensor | None = None) -> Tensor:
        if self.mode == "FR":
            if gt is None:
                raise MetricError(f"{self.pyiqa_name} is full-reference: call metric(pred, gt)")
            pred, gt = check_pair(img, gt, self.min_size)
            return self._run(pred, gt)
        if gt is not None:
            raise MetricError(f"{self.pyiqa_name} is no-reference: call metric(img)")
        return self._run(check_images(img, "img", self.min_size))

    def extra_repr(self) -> str:
        return f"pyiqa_name={self.pyiqa_name!r}, mode={self.mode!r}"


def niqe_params_to_mat(inputs: dict[str, Path], out: Path) -> None:
    """fsr.assets converter: BasicSR's ``niqe_pris_params.npz`` -> pyiqa's ``.mat`` layout.

    Both hold the pristine-model mean (36,) and covariance (36, 36) of the MATLAB NIQE release;
    pyiqa reads ``mu_prisparam`` and ``cov_prisparam`` with ``scipy.io.loadmat``.
    """
    import scipy.io

    (source,) = inputs.values()
    with np.load(source) as params:
        mu = np.asarray(params["mu_pris_param"], dtype=np.float64).reshape(1, -1)
        cov = np.asarray(params["cov_pris_param"], dtype=np.float64)
    if mu.shape != (1, 36) or cov.shape != (36, 36):
        raise ValueError(f"{source.name}: expected (1, 36) and (36, 36), got {mu.shape}, "
                         f"{cov.shape}")
    with open(out, "wb") as f:
        scipy.io.savemat(f, {"mu_prisparam": mu, "cov_prisparam": cov})


__all__ = ["PyiqaMetric", "niqe_params_to_mat", "no_network", "place", "pyiqa_cache_dir"]
