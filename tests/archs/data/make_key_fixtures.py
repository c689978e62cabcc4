"""Regenerate the key->shape fixtures from the *reference* implementations (not from fsr).

The fixtures pin the state-dict layouts fsr must stay compatible with:

- ``stylegan2_clean_512_c1_keys.json``: GFPGAN's ``StyleGAN2GeneratorClean(512, 512, 8,
  channel_multiplier=1, narrow=1)`` (gfpgan/archs/stylegan2_clean_arch.py).
- ``gfpganv1_clean_512_c2_keys.json``: GFPGAN's ``GFPGANv1Clean`` with the official v1.3/v1.4
  inference kwargs (gfpgan/utils.py: out_size=512, channel_multiplier=2, different_w=True,
  input_is_latent=True, sft_half=True).
- ``gfpganv1_clean_tiny_golden.pt``: weights, input and outputs of a tiny reference
  ``GFPGANv1Clean`` (out_size 32), for a numeric parity test (fixed noise maps).
- ``stylegan2_basicsr_512_c1_keys.json``: BasicSR's ``StyleGAN2Generator(512, 512, 8,
  channel_multiplier=1)``, the layout of the public ``StyleGAN2_512_Cmul1_FFHQ_B12G4_scratch_800k.pth``
  (GFPGAN's original, non-clean training config loads it there as ``decoder_load_path``).

Run it in its own process, since GFPGAN registers the same arch names as fsr::

    python -m pip download --no-deps gfpgan==1.3.8 -d /tmp/gfpref
    unzip -q /tmp/gfpref/gfpgan-1.3.8-py3-none-any.whl -d /tmp/gfpref/src
    .venv/bin/python tests/archs/data/make_key_fixtures.py /tmp/gfpref/src/gfpgan/archs

Only the two pure-PyTorch arch files are imported (by path), so GFPGAN's own package
imports are not needed. Constructing BasicSR's StyleGAN2Generator needs no compiled op.
"""

import importlib.util
import json
import sys
from pathlib import Path

import torch

OUT_DIR = Path(__file__).parent
TINY_KWARGS = dict(out_size=32, num_style_feat=8, channel_multiplier=1, decoder_load_path=None,
                   fix_decoder=False, num_mlp=1, input_is_latent=True, different_w=True,
                   narrow=1 / 32, sft_half=True)


def _load_by_path(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _dump(model, filename: str, source: str) -> None:
    table = {k: list(v.shape) for k, v in model.state_dict().items()}
    # one key per line keeps the fixture small and diff-friendly
    rows = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in table.items())
    text = f'{{"_source": {json.dumps(source)},\n "num_keys": {len(table)},\n "keys": {{\n{rows}\n}}}}\n'
    json.loads(text)  # fail here, not in the tests, if the format breaks
    (OUT_DIR / filename).write_text(text)
    print(f"{filename}: {len(table)} keys")


def main(gfpgan_archs: str) -> None:
    archs = Path(gfpgan_archs)
    # gfpganv1_clean_arch imports `.stylegan2_clean_arch`: expose both under a fake package.
    pkg = "gfpref_archs"
    spec = importlib.util.spec_from_loader(pkg, loader=None, is_package=True)
    sys.modules[pkg] = importlib.util.module_from_spec(spec)
    sys.modules[pkg].__path__ = [str(archs)]
    sg2 = _load_by_path(f"{pkg}.stylegan2_clean_arch", archs / "stylegan2_clean_arch.py")
    gfp = _load_by_path(f"{pkg}.gfpganv1_clean_arch", archs / "gfpganv1_clean_arch.py")

    _dump(
        sg2.StyleGAN2GeneratorClean(512, num_style_feat=512, num_mlp=8, channel_multiplier=1, narrow=1),
        "stylegan2_clean_512_c1_keys.json",
        "gfpgan==1.3.8 gfpgan/archs/stylegan2_clean_arch.py StyleGAN2GeneratorClean(512, 512, 8, channel_multiplier=1, narrow=1)",
    )
    _dump(
        gfp.GFPGANv1Clean(
            out_size=512, num_style_feat=512, channel_multiplier=2, decoder_load_path=None,
            fix_decoder=False, num_mlp=8, input_is_latent=True, different_w=True, narrow=1,
            sft_half=True,
        ),
        "gfpganv1_clean_512_c2_keys.json",
        "gfpgan==1.3.8 gfpgan/archs/gfpganv1_clean_arch.py GFPGANv1Clean with gfpgan/utils.py inference kwargs (v1.3/v1.4)",
    )
    torch.manual_seed(0)
    tiny = gfp.GFPGANv1Clean(**TINY_KWARGS)
    with torch.no_grad():  # non-zero biases / noise strengths, so every parameter matters
        for p in tiny.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        image, rgbs = tiny(x.clone(), randomize_noise=False)
    torch.save({"kwargs": TINY_KWARGS, "params": tiny.state_dict(), "input": x, "image": image,
                "out_rgbs": rgbs}, OUT_DIR / "gfpganv1_clean_tiny_golden.pt")
    print("gfpganv1_clean_tiny_golden.pt:", sum(p.numel() for p in tiny.parameters()), "params")

    from basicsr.archs.stylegan2_arch import StyleGAN2Generator

    _dump(
        StyleGAN2Generator(512, num_style_feat=512, num_mlp=8, channel_multiplier=1),
        "stylegan2_basicsr_512_c1_keys.json",
        "basicsr 1.4.x basicsr/archs/stylegan2_arch.py StyleGAN2Generator(512, 512, 8, channel_multiplier=1)",
    )


if __name__ == "__main__":
    main(sys.argv[1])
