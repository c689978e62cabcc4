"""Pretrained-model records (timm style): what to build, which weights, how to feed it.

One :class:`PretrainedRecord` per model fsr can load. ``create_model`` builds the architecture
from BasicSR's ``ARCH_REGISTRY`` and loads its weights through ``fsr.assets.resolve`` and
:func:`fsr.archs.checkpoint.load_checkpoint`::

    >>> from fsr.archs.pretrained import create_model, list_records
    >>> sorted(list_records(task='restore'))  # doctest: +NORMALIZE_WHITESPACE
    ['codeformer-w0.5', 'codeformer-w0.7', 'gfpgan-v1.3', 'gfpgan-v1.4',
     'mmrb-sg2-128-idloss-samples', 'mmrb-sg2-128-noattn-samples',
     'mmrb-sg2-128-noselfsup-samples', 'mmrb-sg2-128-plain-samples', 'mmrb-sg2-128-samples',
     'mmrb-sg2-128-samples-pw0.25']
    >>> net = create_model('bicubic-x4')                    # weight-free
    >>> type(net).__name__, net.scale
    ('Bicubic', 4)

A user's file for weights no source ships: ``create_model('sam3d-x8-authors',
weights='sam3d_x8.pth')``.

Records are plain frozen dataclasses; nothing is built or fetched until ``create_model``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

__all__ = ["PRETRAINED", "PretrainedRecord", "create_model", "get_record", "list_records",
           "parametric_record"]


@dataclass(frozen=True)
class PretrainedRecord:
    """How to build, load and call one pretrained model.

    in_size/out_size: the network's fixed input/output side in pixels (None: any size,
    output = input * scale). input_range: the pixel range the network expects, (0, 1) or
    (-1, 1); outputs come back in the same range. checkpoint_key: the top-level key of the
    official file (None: a raw state dict). state_filter: ``"module:function"`` taking
    ``(state_dict, model)`` and returning the state dict in this architecture's layout.
    needs_prior: forward takes ``(lr, render)`` (a 3D-prior render at LR size).
    """

    name: str
    arch: str
    arch_kwargs: Mapping = field(default_factory=dict)
    asset: str | None = None
    task: str = "sr"
    scale: int = 1
    in_size: int | None = None
    out_size: int | None = None
    input_range: tuple[float, float] = (0.0, 1.0)
    licence: str = ""
    checkpoint_key: str | None = None
    state_filter: str | None = None
    needs_prior: bool = False
    needs_coeffs: bool = False
    description: str = ""


def _interp(kind: str, scale: int) -> PretrainedRecord:
    how = {
        "Bicubic": "torch bicubic (a=-0.75, align_corners=False)",
        "Lanczos": "PIL-exact Lanczos-3",
    }[kind]
    return PretrainedRecord(
        name=f"{kind.lower()}-x{scale}", arch=kind, arch_kwargs={"scale": scale}, scale=scale,
        licence="none (no weights)", description=f"{how} x{scale} upsampling",
    )


# Official GFPGAN inference kwargs for the v1.3 / v1.4 "clean" checkpoints.
_GFPGAN_CLEAN = MappingProxyType(dict(
    out_size=512, num_style_feat=512, channel_multiplier=2, decoder_load_path=None,
    fix_decoder=False, num_mlp=8, input_is_latent=True, different_w=True, narrow=1, sft_half=True,
))
_RRDB_X4PLUS = MappingProxyType(dict(
    num_in_ch=3, num_out_ch=3, num_feat=64, num_block=23, num_grow_ch=32, scale=4,
))


def _gfpgan(version: str) -> PretrainedRecord:
    return PretrainedRecord(
        name=f"gfpgan-v{version}", arch="GFPGANv1Clean", arch_kwargs=_GFPGAN_CLEAN,
        asset=f"gfpgan-v{version}", task="restore", scale=1, in_size=512, out_size=512,
        input_range=(-1.0, 1.0), checkpoint_key="params_ema",
        licence="Apache-2.0 (GFPGAN release; StyleGAN2 parts under NVIDIA terms; trained on FFHQ)",
        description=f"GFPGAN v{version} blind face restoration (aligned 512x512 faces); "
        "forward returns (image, out_rgbs)",
    )


CODEFORMER_LICENCE = "S-Lab License 1.0 (non-commercial use only; CodeFormer release, trained on FFHQ)"


def _codeformer(w: float) -> PretrainedRecord:
    """CodeFormer at fidelity weight ``w`` (0 = the codebook's face, 1 = closest to the input)."""
    return PretrainedRecord(
        name=f"codeformer-w{w}", arch="CodeFormer", arch_kwargs={"w": w, "adain": True},
        asset="codeformer", task="restore", scale=1, in_size=512, out_size=512,
        input_range=(-1.0, 1.0), checkpoint_key="params_ema", licence=CODEFORMER_LICENCE,
        description=f"CodeFormer (NeurIPS 2022) blind face restoration at fidelity weight w={w} "
        "(aligned 512x512 faces; official inference: AdaIN on the codes); forward returns "
        "(image, logits, lq_feat)",
    )


def _sam3d(scale: int) -> PretrainedRecord:
    lr = 128 // scale
    return PretrainedRecord(
        name=f"sam3d-x{scale}-authors", arch="SAM3D", arch_kwargs={"scale": scale},
        asset=f"sam3d-x{scale}-authors", task="sr", scale=scale, in_size=lr, out_size=128,
        checkpoint_key=None, state_filter="fsr.archs.sam3d_arch:authors_state_dict_to_sam3d",
        needs_prior=True, licence="research use (authors' release)",
        description=f"SAM3D (ECCV 2020) x{scale}, the authors' checkpoint: {lr}->128, "
        f"forward(lr, render) with a {lr}x{lr} render of the 3D face prior",
    )


# The reduced SAM3D and small MMRB that fsr trains on the sample set (options/*_samples.yml).
_SAM3D_SAMPLES = MappingProxyType(dict(n_feats=32, n_resblocks=8, n_sft_blocks=6, residual=True))
_MMRB_SAMPLES = MappingProxyType(dict(
    out_size=128, num_style_feat=128, num_mlp=8, channel_multiplier=1, narrow=0.125,
    prior_narrow=0.125, enc_blocks=2, latent_channels=16, input_skip=True,
))


def _mmrb_samples(use_mmrb: bool, selfsup: bool = True, attention: bool = True) -> PretrainedRecord:
    tag = ("" if use_mmrb else "-plain") + ("" if selfsup else "-noselfsup") + \
        ("" if attention else "-noattn")
    name = f"mmrb-sg2-128{tag}-samples"
    ablation = ("" if use_mmrb else "; the plain-residual-block ablation (use_mmrb=False)") + \
        ("" if selfsup else "; the ablation without the self-supervised re-degradation term") + \
        ("" if attention else "; the ablation without MMRB path attention (paths averaged)")
    return PretrainedRecord(
        name=name, arch="MMRBStyleGAN2",
        arch_kwargs={**_MMRB_SAMPLES, **({} if use_mmrb else {"use_mmrb": False}),
                     **({} if attention else {"path_attention": False})},
        asset=name, task="restore", scale=1, in_size=128, out_size=128,
        input_range=(-1.0, 1.0), checkpoint_key="params_ema",
        licence="Apache-2.0 (fsr-trained on samples/)",
        description="MMRB + StyleGAN2 prior (small, 128 px, input skip) trained by fsr on the "
        f"sample set's train split{' with the self-supervised loss' if selfsup else ''}; "
        "forward returns (image, rgbs) (card: weights/" + name.replace("-", "_") + ".md)"
        + ablation,
    )


# the prior weight the default run carries as an ablation row, chosen on val (docs/mmrb.md)
PRIOR_WEIGHT_ABLATION = 0.25


def _mmrb_prior_weight(w: float) -> PretrainedRecord:
    """The bundled MMRB model with its prior's change to the input scaled by ``w`` (the
    ``prior_weight`` lever, docs/mmrb.md; 1 = as trained, 0 = the input)."""
    base = _mmrb_samples(use_mmrb=True)
    return dataclasses.replace(
        base, name=f"{base.name}-pw{w}", arch_kwargs={**base.arch_kwargs, "prior_weight": w},
        description=base.description + f"; prior_weight={w} (the prior's change to the input "
        "scaled at inference, same weights)")


def _mmrb_identity_loss() -> PretrainedRecord:
    """The bundled recipe plus dlib's identity loss (docs/mmrb.md, "The identity loss")."""
    base = _mmrb_samples(use_mmrb=True)
    name = "mmrb-sg2-128-idloss-samples"
    return dataclasses.replace(
        base, name=name, asset=name,
        description=base.description.replace(base.name.replace("-", "_"), name.replace("-", "_"))
        + "; trained with dlib's ResNet as an identity loss (weight 0.05), the network that "
        "also scores the benchmark's identity columns, so those are not independent for it")


def _sam3d_samples(scale: int, prior: bool) -> PretrainedRecord:
    lr, tag = 128 // scale, "" if prior else "-noprior"
    name = f"sam3d-x{scale}{tag}-samples"
    return PretrainedRecord(
        name=name, arch="SAM3D", arch_kwargs={"scale": scale, "use_prior": prior, **_SAM3D_SAMPLES},
        asset=name, task="sr", scale=scale, in_size=lr, out_size=128, checkpoint_key="params_ema",
        needs_prior=prior, licence="Apache-2.0 (fsr-trained on samples/)",
        description=f"SAM3D x{scale} trained by fsr on the sample set's train split (reduced, "
        "residual on bicubic; card: weights/" + name.replace("-", "_") + ".md)"
        + ("" if prior else "; the no-prior ablation"),
    )


_RECORDS = [
    _interp("Bicubic", 4),
    _interp("Bicubic", 8),
    _interp("Lanczos", 4),
    _interp("Lanczos", 8),
    PretrainedRecord(
        name="realesrgan-x4plus", arch="RRDBNet", arch_kwargs=_RRDB_X4PLUS,
        asset="realesrgan-x4plus", task="sr", scale=4, checkpoint_key="params_ema",
        licence="BSD-3-Clause",
        description="Real-ESRGAN x4plus (general-image 4x SR, GFPGAN's background upsampler); "
        "offline its weights come from the ncnn release (fsr.archs.rrdbnet_ncnn), equal to "
        "the official file up to float16 rounding",
    ),
    _gfpgan("1.3"),
    _gfpgan("1.4"),
    _codeformer(0.5),  # the official script's default fidelity
    _codeformer(0.7),
    _sam3d(4),
    _sam3d(8),
    _sam3d_samples(4, prior=True),
    _sam3d_samples(4, prior=False),
    _sam3d_samples(8, prior=True),
    _sam3d_samples(8, prior=False),
    _mmrb_samples(use_mmrb=True),
    _mmrb_samples(use_mmrb=False),
    _mmrb_samples(use_mmrb=True, selfsup=False),
    _mmrb_samples(use_mmrb=True, attention=False),
    _mmrb_prior_weight(PRIOR_WEIGHT_ABLATION),
    _mmrb_identity_loss(),
]
_RECORDS_BY_NAME: dict[str, PretrainedRecord] = {r.name: r for r in _RECORDS}
PRETRAINED: Mapping[str, PretrainedRecord] = MappingProxyType(_RECORDS_BY_NAME)  # read-only view


# Families of records named by a parameter: (name prefix, builder of the record at a weight);
# the builders are looked up when called, so a test can swap one for a small stand-in.
_PARAMETRIC = (("codeformer-w", lambda w: _codeformer(w)),
               ("mmrb-sg2-128-samples-pw", lambda w: _mmrb_prior_weight(w)))


def parametric_record(name: str) -> PretrainedRecord | None:
    """The record of a parametrised name outside the table, or None.

    A name is a family's prefix and a weight in [0, 1] written as Python prints the float
    (``0.63``, ``1.0``): ``codeformer-w<w>``, CodeFormer at that fidelity weight (the demo's
    slider), and ``mmrb-sg2-128-samples-pw<w>``, the bundled MMRB at that prior weight.

    >>> parametric_record('codeformer-w0.63').arch_kwargs['w'], parametric_record('codeformer-w2.0')
    (0.63, None)
    >>> parametric_record('mmrb-sg2-128-samples-pw0.5').arch_kwargs['prior_weight']
    0.5
    """
    for prefix, build in _PARAMETRIC:
        if not name.startswith(prefix):
            continue
        try:
            w = float(name[len(prefix):])
        except ValueError:
            return None
        return build(w) if 0.0 <= w <= 1.0 and name == f"{prefix}{w}" else None
    return None


def get_record(name: str) -> PretrainedRecord:
    """The record called ``name``; ValueError listing the known names otherwise."""
    try:
        return PRETRAINED[name]
    except KeyError:
        record = parametric_record(name)
        if record is not None:
            return record
        raise ValueError(
            f"unknown pretrained model {name!r}; known: {', '.join(sorted(PRETRAINED))}"
        ) from None


def list_records(task: str | None = None) -> dict[str, PretrainedRecord]:
    """All records, or those of ``task`` ('sr' or 'restore')."""
    if task not in (None, "sr", "restore"):
        raise ValueError(f"task must be 'sr', 'restore' or None, got {task!r}")
    return {n: r for n, r in PRETRAINED.items() if task is None or r.task == task}


def _import_function(spec: str):
    module, func = spec.split(":")
    return getattr(importlib.import_module(module), func)


def create_model(
    name: str, weights: str | os.PathLike | Mapping | None = None, device: str = "cpu"
) -> nn.Module:
    """Build record ``name`` and load its weights; returns the model in eval mode on ``device``.

    ``weights``: None resolves the record's asset (``fsr.assets.resolve``; its AssetError
    propagates unchanged), or a path / in-memory checkpoint of your own. The official file
    is read under ``checkpoint_key``; your own file may use any layout load_checkpoint knows
    (``params_ema`` preferred). A checkpoint that does not fit raises CheckpointError.
    """
    from basicsr.utils.registry import ARCH_REGISTRY

    import fsr.archs  # noqa: F401  (registers every architecture)
    from fsr.archs.checkpoint import load_checkpoint

    record = get_record(name)
    net = ARCH_REGISTRY.get(record.arch)(**dict(record.arch_kwargs))
    if record.asset is None:
        if weights is not None:
            raise ValueError(f"{name} has no weights to load (got weights={weights!r})")
    else:
        key = None
        if weights is None:
            from fsr.assets import resolve

            weights, key = resolve(record.asset), record.checkpoint_key
        state_filter = _import_function(record.state_filter) if record.state_filter else None
        load_checkpoint(net, weights, key=key, strict=True, state_filter=state_filter)
    return net.to(device).eval()
