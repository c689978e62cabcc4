"""Regenerate the CodeFormer fixtures from the *official* implementation (not from fsr).

- ``codeformer_512_keys.json``: the key -> shape table of CodeFormer's ``CodeFormer`` built as
  its ``inference_codeformer.py`` builds it (dim_embd=512, codebook_size=1024, n_head=8,
  n_layers=9, connect_list=['32', '64', '128', '256']): the layout of the released
  ``codeformer.pth`` (``params_ema``).
- ``codeformer_tiny_golden.pt``: weights, input and outputs of a tiny official ``CodeFormer``
  for a numeric parity test (tests/archs/test_codeformer.py).

The official class fixes its VQGAN (512 px, nf=64, GroupNorm(32)), which is 75 M parameters
on its own. The tiny model keeps the official structure (512 px input, six levels, two res
blocks, attention at 16 px, 16x16 latent of 256-d codes, the same fusion points) and only
narrows it: the VQGAN base width ``nf`` passed to ``VQAutoEncoder.__init__`` becomes 4, the
module-level ``normalize`` uses 2 groups instead of 32, and the fusion blocks are rebuilt
with the official ``Fuse_sft_block`` at the narrowed widths (the official ``channels`` table
is written for nf=64). Every forward line runs unmodified. The weights are rounded to
float16 before the run and stored as float16, so the fixture stays small and exact.

Run it in its own process with CodeFormer's two arch files (S-Lab License 1.0), e.g. from
https://github.com/sczhou/CodeFormer at b33cc7d639d6545bfcccc7e0bc6ae51f24e79c2b::

    mkdir -p /tmp/cfref && git -C CodeFormer archive HEAD basicsr/archs | tar -x -C /tmp/cfref
    .venv/bin/python tests/archs/data/make_codeformer_fixtures.py /tmp/cfref/basicsr/archs

Only those two files are imported (by path), under a stand-in ``basicsr`` package that
provides the registry and logger they import; the installed basicsr is not touched.
"""

import importlib.util
import json
import logging
import sys
import types
from pathlib import Path

import torch
from torch import nn

OUT_DIR = Path(__file__).parent
OFFICIAL_KWARGS = dict(dim_embd=512, codebook_size=1024, n_head=8, n_layers=9,
                       connect_list=["32", "64", "128", "256"])
TINY = dict(nf=4, norm_groups=2, dim_embd=32, n_head=4, n_layers=2, codebook_size=64,
            connect_list=["32", "64", "128", "256"])
CH_MULT = (1, 2, 2, 4, 4, 8)
# (w, adain, subsampling stride of the stored image): fusion off, the default, full fidelity
RUNS = ((0.0, False, 8), (0.5, True, 4), (1.0, True, 8))


def _shim_basicsr() -> None:
    """A stand-in ``basicsr`` with just what the two official files import."""
    class Registry:
        def register(self, obj=None):
            return (lambda o: o) if obj is None else obj

    for name in ("basicsr", "basicsr.archs", "basicsr.utils", "basicsr.utils.registry"):
        module = types.ModuleType(name)
        module.__path__ = []
        sys.modules[name] = module
    sys.modules["basicsr.utils"].get_root_logger = lambda *a, **k: logging.getLogger("cfref")
    sys.modules["basicsr.utils.registry"].ARCH_REGISTRY = Registry()


def _load_by_path(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _dump_keys(model: nn.Module, filename: str, source: str) -> None:
    table = {k: list(v.shape) for k, v in model.state_dict().items()}
    rows = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in table.items())
    num_params = sum(p.numel() for p in model.parameters())
    text = (f'{{"_source": {json.dumps(source)},\n "num_keys": {len(table)},\n '
            f'"num_params": {num_params},\n "keys": {{\n{rows}\n}}}}\n')
    json.loads(text)  # fail here, not in the tests, if the format breaks
    (OUT_DIR / filename).write_text(text)
    print(f"{filename}: {len(table)} keys, {num_params} parameters")


def _tiny_official(vqgan, cf):
    """The official CodeFormer, narrowed as the module docstring says."""
    original_init = vqgan.VQAutoEncoder.__init__

    def narrowed_init(self, img_size, nf, *args, **kwargs):
        original_init(self, img_size, TINY["nf"], *args, **kwargs)

    vqgan.VQAutoEncoder.__init__ = narrowed_init
    vqgan.normalize = lambda ch: nn.GroupNorm(TINY["norm_groups"], ch, eps=1e-6, affine=True)
    try:
        net = cf.CodeFormer(dim_embd=TINY["dim_embd"], n_head=TINY["n_head"],
                            n_layers=TINY["n_layers"], codebook_size=TINY["codebook_size"],
                            connect_list=TINY["connect_list"], fix_modules=None)
    finally:
        vqgan.VQAutoEncoder.__init__ = original_init
    widths = {str(512 // 2**i): TINY["nf"] * m for i, m in enumerate(CH_MULT)}
    net.channels = widths
    net.fuse_convs_dict = nn.ModuleDict(
        {s: cf.Fuse_sft_block(widths[s], widths[s]) for s in TINY["connect_list"]})
    return net


def main(archs_dir: str) -> None:
    archs = Path(archs_dir)
    _shim_basicsr()
    vqgan = _load_by_path("basicsr.archs.vqgan_arch", archs / "vqgan_arch.py")
    cf = _load_by_path("basicsr.archs.codeformer_arch", archs / "codeformer_arch.py")

    _dump_keys(
        cf.CodeFormer(**OFFICIAL_KWARGS), "codeformer_512_keys.json",
        "sczhou/CodeFormer@b33cc7d basicsr/archs/codeformer_arch.py CodeFormer with the "
        "inference_codeformer.py kwargs (dim_embd=512, codebook_size=1024, n_head=8, "
        "n_layers=9, connect_list=['32','64','128','256'])",
    )

    torch.manual_seed(0)
    tiny = _tiny_official(vqgan, cf).eval()
    with torch.no_grad():  # non-zero everything (position_emb starts at 0), float16-exact
        for p in tiny.parameters():
            p.add_(torch.randn_like(p) * 0.05)
            p.copy_(p.half().float())
    # a blocky 512 px input: 128 px of random bytes, each repeated 4x4 (exact to rebuild)
    pixels = torch.randint(0, 256, (1, 3, 128, 128), dtype=torch.uint8)
    x = pixels.repeat_interleave(4, 2).repeat_interleave(4, 3).float() / 127.5 - 1
    fixture = {"tiny": TINY, "params": {k: v.half() for k, v in tiny.state_dict().items()},
               "pixels": pixels, "runs": []}
    with torch.no_grad():
        for w, adain, stride in RUNS:
            image, logits, lq_feat = tiny(x.clone(), w=w, adain=adain)
            fixture["runs"].append({
                "w": w, "adain": adain, "stride": stride,
                "image": image[..., ::stride, ::stride].clone(),
                "image_mean": image.mean((2, 3)), "top_idx": logits.argmax(2)})
        fixture["logits"] = logits
        fixture["lq_feat_mean"] = lq_feat.mean((2, 3))
    torch.save(fixture, OUT_DIR / "codeformer_tiny_golden.pt")
    print("codeformer_tiny_golden.pt:", sum(p.numel() for p in tiny.parameters()), "params;",
          "codes used:", fixture["runs"][0]["top_idx"].unique().numel())


if __name__ == "__main__":
    main(sys.argv[1])
