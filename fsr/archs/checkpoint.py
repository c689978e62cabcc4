"""The one checkpoint loader (and saver) of fsr.

Reads every layout the face-SR/restoration field ships weights in::

    raw state dict                      {'conv.weight': ..., ...}     (e.g. SAM3D authors)
    BasicSR / GFPGAN / Real-ESRGAN      {'params': ..., 'params_ema': ...}  (EMA preferred)
    rosinality StyleGAN2                {'g_ema': ..., 'g': ..., 'd': ...}
    Lightning / generic                 {'state_dict': ...}
    nn.DataParallel                     keys prefixed with 'module.'

Example::

    report = load_checkpoint(net, 'RealESRGAN_x4plus.pth')   # picks 'params_ema'
    report.key, report.num_loaded  # -> ('params_ema', 702)

Every failure is a :class:`CheckpointError` (a ``ValueError``) with a one-paragraph message.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from fsr.assets.resolver import sha256_of
from fsr.files import atomic_write

__all__ = ["CheckpointError", "LoadReport", "load_checkpoint", "read_state_dict", "save_checkpoint"]

# Top-level keys that hold a state dict, in order of preference (EMA weights are what the
# authors of GFPGAN/Real-ESRGAN/StyleGAN2 evaluate and release).
STATE_KEYS = ("params_ema", "params", "g_ema", "state_dict")
# Buffers that checkpoints from torch < 0.4.1 lack; BatchNorm works without them.
OPTIONAL_SUFFIXES = (".num_batches_tracked",)
_SHOW = 5  # how many names an error message lists


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or does not fit the model."""


@dataclass
class LoadReport:
    """What :func:`load_checkpoint` did.

    ``key`` is the top-level key the state dict came from (None for a raw state dict);
    ``missing``/``unexpected``/``mismatched`` are only non-empty with ``strict=False``.
    """

    source: str
    key: str | None
    num_loaded: int
    stripped_prefix: str | None = None
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)


def _torch_load(path: Path) -> object:
    """torch.load with weights_only=True, every failure turned into a CheckpointError."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        text = str(err)
        found = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        if found:  # a valid pickle that references classes/functions, not garbage
            raise CheckpointError(
                f"{path} holds Python objects beyond tensors (it pickles {found.group(1)}), "
                "so it cannot be read with weights_only=True; if you trust its source, re-save "
                "just the weights: torch.save(model.state_dict(), ...)"
            ) from None
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint (truncated or corrupt?)"
        ) from None
    except (RuntimeError, EOFError, KeyError, ValueError, OSError, zipfile.BadZipFile) as err:
        first_line = (str(err).splitlines() or [""])[0][:100]
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint (truncated or corrupt?) "
            f"[{type(err).__name__}: {first_line}]"
        ) from None


def _is_state_dict(obj: object) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()
    )


def read_state_dict(
    path_or_state: str | os.PathLike | Mapping, key: str | None = None
) -> tuple[dict[str, Tensor], str | None, str | None]:
    """Return ``(state_dict, key_used, stripped_prefix)`` from a file or an in-memory checkpoint.

    ``key`` forces a top-level key; otherwise the first of ``STATE_KEYS`` present is used, or the
    object itself when it is a flat ``name -> Tensor`` mapping. A ``module.`` prefix is removed.

    >>> sd, key, prefix = read_state_dict({'params_ema': {'module.w': torch.ones(1)}})
    >>> list(sd), key, prefix
    (['w'], 'params_ema', 'module.')
    """
    if isinstance(path_or_state, Mapping):
        ckpt, source = path_or_state, "<state dict>"
    else:
        source = str(path_or_state)
        ckpt = _torch_load(Path(path_or_state))
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(f"{source} holds a {type(ckpt).__name__}, not a state dict")

    if key is not None:
        if key not in ckpt:
            raise CheckpointError(
                f"{source} has no key {key!r}; top-level keys: {sorted(map(str, ckpt))[:10]}"
            )
        state, used = ckpt[key], key
    else:
        used = next((k for k in STATE_KEYS if k in ckpt and isinstance(ckpt[k], Mapping)), None)
        state = ckpt[used] if used is not None else ckpt
    if not _is_state_dict(state):
        where = f"under {used!r} " if used else ""
        raise CheckpointError(
            f"{source} {where}is not a name -> tensor state dict; "
            f"top-level keys: {sorted(map(str, ckpt))[:10]} (expected one of {list(STATE_KEYS)} "
            "or a flat state dict)"
        )

    prefix = None
    if any(k.startswith("module.") for k in state):
        prefix = "module."
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return dict(state), used, prefix


def _names(names: list[str]) -> str:
    more = f", ... (+{len(names) - _SHOW} more)" if len(names) > _SHOW else ""
    return ", ".join(names[:_SHOW]) + more


def load_checkpoint(
    model: nn.Module,
    path_or_state: str | os.PathLike | Mapping,
    key: str | None = None,
    strict: bool = True,
    *,
    state_filter: Callable[[dict[str, Tensor], nn.Module], dict[str, Tensor]] | None = None,
) -> LoadReport:
    """Load weights into ``model`` in place; see the module docstring for accepted layouts.

    With ``strict=True`` any missing or unexpected key or shape mismatch raises one
    :class:`CheckpointError` that lists them all; with ``strict=False`` the matching tensors are
    loaded and the rest are reported in the returned :class:`LoadReport`. ``state_filter``
    adapts a foreign layout first: ``state_filter(state_dict, model) -> state_dict`` (error
    messages still name the file).

    >>> net = torch.nn.Conv2d(3, 8, 3)
    >>> load_checkpoint(net, {'params': net.state_dict()}).key
    'params'
    """
    state, used, prefix = read_state_dict(path_or_state, key)
    if state_filter is not None:
        state = dict(state_filter(state, model))
    source = "<state dict>" if isinstance(path_or_state, Mapping) else str(path_or_state)
    own = model.state_dict()

    missing = [k for k in own if k not in state and not k.endswith(OPTIONAL_SUFFIXES)]
    unexpected = [k for k in state if k not in own]
    mismatched = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in state.items()
        if k in own and v.shape != own[k].shape
    ]
    if strict and (missing or unexpected or mismatched):
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): {_names(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {_names(unexpected)}")
        if mismatched:
            parts.append(f"{len(mismatched)} shape mismatch(es): {_names(mismatched)}")
        raise CheckpointError(
            f"{source}{f' [{used}]' if used else ''} does not fit {type(model).__name__}: "
            + "; ".join(parts)
        )

    bad = {m.split(":")[0] for m in mismatched}
    loadable = {k: v for k, v in state.items() if k in own and k not in bad}
    model.load_state_dict(loadable, strict=False)
    return LoadReport(
        source=source,
        key=used,
        num_loaded=len(loadable),
        stripped_prefix=prefix,
        missing=missing if not strict else [],
        unexpected=unexpected if not strict else [],
        mismatched=mismatched if not strict else [],
    )


def _as_cpu_state(params: Mapping | nn.Module) -> dict[str, Tensor]:
    state = params.state_dict() if isinstance(params, nn.Module) else params
    if not _is_state_dict(state):
        raise CheckpointError("save_checkpoint expects an nn.Module or a name -> tensor mapping")
    return {k: v.detach().cpu() for k, v in state.items()}


def atomic_torch_save(obj: object, path: str | os.PathLike) -> Path:
    """``torch.save`` through :func:`fsr.files.atomic_write`, fsync'ed (no half files, even
    after a power cut)."""
    path = Path(path)
    # to a file object: given a path, torch names the zip's inner folder after the file, and
    # the temp name is random, so two saves of the same weights would differ in their bytes
    with atomic_write(path, fsync=True) as tmp, open(tmp, "wb") as fh:
        torch.save(obj, fh)
    return path


def save_checkpoint(
    path: str | os.PathLike,
    params: Mapping | nn.Module,
    params_ema: Mapping | nn.Module | None = None,
    add_sha256_suffix: bool = False,
) -> Path:
    """Write a BasicSR-style ``{'params', 'params_ema'}`` checkpoint atomically; return its path.

    With ``add_sha256_suffix`` the file is renamed ``<stem>-<sha256[:8]><suffix>``, the
    convention of BasicSR/torchvision release files (``torch.hub`` checks that prefix).

    save_checkpoint('out/net.pth', net, add_sha256_suffix=True)  # -> PosixPath('out/net-1a2b3c4d.pth')
    """
    ckpt = {"params": _as_cpu_state(params)}
    if params_ema is not None:
        ckpt["params_ema"] = _as_cpu_state(params_ema)
    path = atomic_torch_save(ckpt, path)
    if not add_sha256_suffix:
        return path
    final = path.with_name(f"{path.stem}-{sha256_of(path)[:8]}{path.suffix}")
    os.replace(path, final)
    return final
