"""One calling convention for every method (interpolation, SR nets, restoration nets).

A :class:`Method` wraps a pretrained record of :mod:`fsr.archs.pretrained`; whatever the
network wants (its input size, [-1, 1] or [0, 1], a 3D-prior render at LR size, a tuple
output), a method is called the same way::

    >>> from fsr.methods import load_method, available_methods
    >>> m = load_method("bicubic-x4")
    >>> m.task, m.scale, m.needs_prior
    ('sr', 4, False)
    >>> m(torch.rand(2, 3, 32, 32)).shape          # (N,3,h,w) [0,1] -> (N,3,h*4,w*4) [0,1]
    torch.Size([2, 3, 128, 128])

Output size: ``h * scale`` for SR, ``h`` for restoration. A network with a fixed input size
gets the input resized (bicubic) to it and its output resized back (antialiased bicubic), so a
512-px restorer can run on a 128-px benchmark. Prior-guided methods take ``prior``: the render
tensor ``(N,3,H,W)`` in [0,1] at any size (resized to the network's LR size here) or a mapping
``{'render': ..., 'coeffs': (N, 239)}``. The network is built on the first call, so listing
methods and reading their metadata loads no weights.

``NAME@PATH`` is record NAME with your own checkpoint at PATH (a training run's
``models/net_g_best.pth``, say): same architecture and calling convention, reported as
``NAME@<first 8 of its sha256>`` so it never mixes with the record's own weights.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["Method", "MethodError", "available_methods", "load_method", "method_names"]


class MethodError(ValueError):
    """Unknown method name, missing weights, or bad input to a method (one-line message)."""


CALL_SEED = 0  # the RNG state each network call starts from (outside RNG state untouched)

# Methods that are not networks: the restoration table's floor (the degraded input as is).
BUILTIN = {
    "input": {"task": "restore", "scale": 1, "licence": "none (no weights)",
              "description": "the degraded input itself, unrestored: the floor every "
                             "restoration method must beat"},
}


def _records() -> dict:
    from fsr.archs import pretrained

    return {**pretrained.list_records(), **BUILTIN}


def method_names() -> list[str]:
    """Every method name (records and built-ins), whether or not its weights are here."""
    return sorted(_records())


@dataclass
class Method:
    """A callable method: ``(lq (N,3,h,w) [0,1], prior) -> (N,3,H,W) [0,1]`` (clamped)."""

    name: str
    task: str  # 'sr' or 'restore'
    scale: int
    in_size: int | None  # the network's fixed input side, None = any
    out_size: int | None  # the network's fixed output side, None = in * scale
    needs_prior: bool
    weights_sha256: str | None  # None for weight-free methods
    input_range: tuple[float, float] = (0.0, 1.0)
    needs_coeffs: bool = False
    asset: str | None = None
    description: str = ""
    licence: str = ""
    oracle: bool = False  # prior from the ground truth: a labelled ablation, never the default
    device: str = "cpu"
    dtype: torch.dtype = torch.float32  # inference number type (autocast); outputs are float32
    weights_path: str | None = None  # NAME@PATH: the user's checkpoint instead of the asset
    _net: torch.nn.Module | None = field(default=None, repr=False)
    _draws_noise: bool | None = field(default=None, repr=False)  # learnt on the first call

    @property
    def label(self) -> str:
        """The name results are reported under (``+oracle`` marks a ground-truth prior,
        ``@<sha256[:8]>`` a user's checkpoint)."""
        name = f"{self.name}@{self.weights_sha256[:8]}" if self.weights_path else self.name
        return f"{name}+oracle" if self.oracle and self.needs_prior else name

    @property
    def signature(self) -> str:
        """Short hash of the weights and calling convention (a cache key part)."""
        spec = [self.name, self.weights_sha256, self.task, self.scale, self.in_size,
                self.out_size, list(self.input_range), self.needs_prior, self.label,
                f"seeded-call:{CALL_SEED}"]
        if self.dtype is not torch.float32:  # float32 keys stay what they were before --dtype
            spec.append(f"dtype:{str(self.dtype).removeprefix('torch.')}")
        return hashlib.sha1(json.dumps(spec).encode()).hexdigest()[:12]

    def describe(self) -> dict:
        return {"label": self.label, "name": self.name, "signature": self.signature,
                "task": self.task, "scale": self.scale, "in_size": self.in_size,
                "out_size": self.out_size, "needs_prior": self.needs_prior,
                "prior": ("oracle (ground truth)" if self.oracle else "degraded input")
                if self.needs_prior else None,
                "input_range": list(self.input_range), "asset": self.asset,
                "weights_sha256": self.weights_sha256, "description": self.description,
                "licence": self.licence, "dtype": str(self.dtype).removeprefix("torch."),
                **({"weights_path": self.weights_path} if self.weights_path else {})}

    @property
    def net(self) -> torch.nn.Module:
        if self._net is None and self.name in BUILTIN:
            self._net = torch.nn.Identity()
        if self._net is None:
            from fsr.archs import pretrained
            from fsr.archs.checkpoint import CheckpointError
            from fsr.assets import AssetError

            try:
                net = pretrained.create_model(self.name, weights=self.weights_path,
                                              device=self.device)
            except (AssetError, CheckpointError) as err:
                raise MethodError(f"method {self.label}: {str(err).splitlines()[0]}") from None
            from fsr.device import to_channels_last

            self._net = to_channels_last(net.eval())
        return self._net

    def __call__(self, lq: Tensor, prior: Tensor | Mapping | None = None) -> Tensor:
        _check_batch("lq", lq)
        n, _, h, w = lq.shape
        out_hw = (h * self.scale, w * self.scale)
        # one memory layout whatever the caller's (a permuted HWC batch is channels_last):
        # oneDNN picks kernels by layout, and the last bit of an output must not depend on it
        x = lq.to(self.device, torch.float32).contiguous()
        if self.in_size is not None and (h, w) != (self.in_size, self.in_size):
            x = _resize(x, (self.in_size, self.in_size))
        lo, hi = self.input_range
        if (lo, hi) != (0.0, 1.0):
            x = x * (hi - lo) + lo
        args = [x]
        if self.needs_prior:
            args += self._prior_args(prior, x.shape[-2:], n)
        out = self._forward(args)
        if (lo, hi) != (0.0, 1.0):
            out = (out - lo) / (hi - lo)
        if tuple(out.shape[-2:]) != out_hw:
            out = _resize(out, out_hw)
        return out.clamp(0, 1)

    def _forward(self, args: list[Tensor]) -> Tensor:
        """The network on a batch; a net that draws noise runs one image at a time, so an
        image's output never depends on the batch it came in (batch 1 = batch 16)."""
        n = args[0].shape[0]
        if n > 1 and self._draws_noise is None:  # learn it on the first image
            return torch.cat([self._seeded([a[:1] for a in args]),
                              self._forward([a[1:] for a in args])])
        if n > 1 and self._draws_noise:
            return torch.cat([self._seeded([a[i:i + 1] for a in args]) for i in range(n)])
        return self._seeded(args)

    def _seeded(self, args: list[Tensor]) -> Tensor:
        # StyleGAN2-based nets draw fresh noise maps per call (GFPGAN's default): a fixed seed
        # per call makes every run of a benchmark give the same numbers, cache or not.
        net = self.net  # built (and its init drawn from the RNG) before seeding
        dev = args[0].device
        devices = [dev] if dev.type == "cuda" else []
        from fsr.device import CHANNELS_LAST_DEVICES, autocast

        if dev.type in CHANNELS_LAST_DEVICES:  # the layout to_channels_last put the weights in
            args = [a.contiguous(memory_format=torch.channels_last) if a.dim() == 4 else a
                    for a in args]
        with torch.no_grad(), torch.random.fork_rng(devices=devices):
            torch.manual_seed(CALL_SEED)
            state = _rng_state(dev)
            with autocast(dev, self.dtype):
                out = net(*args)
            if self._draws_noise is None:
                self._draws_noise = not torch.equal(state, _rng_state(dev))
        if isinstance(out, (tuple, list)):  # GFPGAN-style nets return (image, side outputs)
            out = out[0]
        return out.float()

    def _prior_args(self, prior, size, n: int) -> list[Tensor]:
        if prior is None:
            raise MethodError(f"method {self.name} is prior-guided: pass the 3D prior render "
                              "(computed from the degraded input)")
        render = prior["render"] if isinstance(prior, Mapping) else prior
        _check_batch("prior render", render)
        if render.shape[0] != n:
            raise MethodError(f"prior render batch {render.shape[0]} != input batch {n}")
        render = render.to(self.device, torch.float32).contiguous()  # as lq: one layout
        if tuple(render.shape[-2:]) != tuple(size):
            render = _resize(render, tuple(size)).clamp(0, 1)
        if not self.needs_coeffs:
            return [render]
        coeffs = prior.get("coeffs") if isinstance(prior, Mapping) else None
        if coeffs is None:
            raise MethodError(f"method {self.name} needs the prior's coefficients: pass "
                              "{'render': ..., 'coeffs': ...}")
        return [render, coeffs.to(self.device, torch.float32).contiguous()]


def _rng_state(device: torch.device) -> Tensor:
    if device.type == "cuda":
        return torch.cuda.get_rng_state(device)
    if device.type == "mps":
        return torch.mps.get_rng_state()
    return torch.get_rng_state()


def _check_batch(name: str, x) -> None:
    if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] != 3:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise MethodError(f"{name}: expected a (N, 3, H, W) tensor, got {shape}")
    if not x.is_floating_point():
        raise MethodError(f"{name}: expected a float tensor in [0, 1], got {x.dtype}")


def _resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=shrink)


def _get(record, key: str, default=None):
    if isinstance(record, Mapping):
        return record.get(key, default)
    return getattr(record, key, default)


def _user_weights(spec: str, asset: str | None, path: str) -> tuple[str, str]:
    """(path, sha256) of the checkpoint of a ``NAME@PATH`` method; MethodError if none."""
    from fsr.assets.resolver import file_sha256

    if asset is None:
        raise MethodError(f"method {spec}: {spec.partition('@')[0]} has no weights to replace")
    file = Path(path).expanduser()
    if not file.is_file():
        raise MethodError(f"method {spec}: {file} is not a file")
    return str(file), file_sha256(file)


def _weights_sha256(asset: str | None) -> str | None:
    """sha256 of the weights (fetched now if needed); None if weight-free."""
    if asset is None:
        return None
    from fsr.assets import resolve
    from fsr.assets.resolver import file_sha256

    return file_sha256(resolve(asset))


def load_method(name: str, oracle: bool = False, device: str | torch.device | None = None,
                dtype: str | torch.dtype | None = None) -> Method:
    """The :class:`Method` for a pretrained record name; raises :class:`MethodError`.

    Weights are located (and checked) now but the network is only built on the first call.
    ``oracle=True`` labels a prior-guided method as fed from the ground truth (an ablation).
    ``device`` ('cpu', 'cuda', 'cuda:N', 'mps'; default ``$FSR_DEVICE``, else cpu) and
    ``dtype`` ('float32', 'bfloat16', 'float16': autocast inference, float32 outputs; default
    ``$FSR_DTYPE``, else float32) are checked by :mod:`fsr.device`.
    """
    from fsr.assets import AssetError
    from fsr.device import DeviceError, parse_device, parse_dtype

    try:
        dev = parse_device(device)
        dtype = parse_dtype(dtype, dev)
    except DeviceError as err:
        raise MethodError(str(err)) from None

    from fsr.archs.pretrained import parametric_record

    spec, (name, _, user_path) = name, name.partition("@")
    records = _records()
    rec = records.get(name) or parametric_record(name)  # e.g. codeformer-w0.63
    if rec is None:
        raise MethodError(f"unknown method {name!r}; known: {', '.join(sorted(records))}")
    asset = _get(rec, "asset")
    if user_path:
        user_path, sha = _user_weights(spec, asset, user_path)
    else:
        try:
            sha = _weights_sha256(asset)
        except AssetError as err:
            raise MethodError(f"method {name}: {err}") from None
    rng = _get(rec, "input_range", (0.0, 1.0))
    return Method(
        name=name, task=_get(rec, "task", "sr"), scale=int(_get(rec, "scale", 1)),
        in_size=_get(rec, "in_size"), out_size=_get(rec, "out_size"),
        needs_prior=bool(_get(rec, "needs_prior", False)), weights_sha256=sha,
        input_range=(float(rng[0]), float(rng[1])),
        needs_coeffs=bool(_get(rec, "needs_coeffs", False)), asset=asset,
        description=str(_get(rec, "description", "") or ""),
        licence=str(_get(rec, "licence", "") or ""), oracle=oracle, device=str(dev),
        dtype=dtype, weights_path=user_path or None)


def available_methods(task: str | None = None, fetchable: bool = False) -> list[str]:
    """Records whose weights are on this machine (weight-free ones always); never downloads.

    ``task``: 'sr' or 'restore' to filter. A record's weights count as present when
    ``fsr.assets.status`` says so (cache or a user path via ``FSR_ASSET_<NAME>``).
    ``fetchable=True`` also counts weights a registry package provides (fetched on first use),
    so a suite lists the same methods on every machine; user-only weights still need the file.
    """
    from fsr.assets import ASSETS, offline, status

    names = []
    for name, rec in sorted(_records().items()):
        if task is not None and _get(rec, "task") != task:
            continue
        asset = _get(rec, "asset")
        can_fetch = fetchable and not offline() and asset in ASSETS and ASSETS[asset].offline_source
        if asset is None or can_fetch or status(asset).startswith("ok"):
            names.append(name)
    return names
