"""Golden Deg and LMD from the *reference scripts* (VQFR's metric_paper/), not from fsr.

Writes ``face_metric_golden.json``: for pairs of face images built from the committed sample
crops (:func:`make_pairs`), the per-pair values and summary that VQFR's own
``calculate_cos_dist.py`` (Deg) and ``calculate_landmark_distance.py`` (LMD) compute with
stand-in weights (:func:`standin_state_dict`: a fixed formula of each key's name and shape, so
the 67 MB / 96 MB stand-ins are rebuilt by the test instead of committed). The real weights
(``resnet18_110.pth``, ``alignment_WFLW_4HG.pth``) cannot be fetched here; with stand-ins the
test checks every step of fsr's pipeline (grey PNG read, resize, normalisation, network
layout, angle, under-1-degree rule; heatmap decoding, scaling, distance) against the scripts.

The reference code runs unmodified, imported by path, except what a CPU needs: ``.cuda()`` is
a no-op, ``torch.device('cuda')`` maps to the CPU, ``FAN.get_landmarks``' default device is
'cpu', and ``np.float`` (removed from numpy) is ``float``. The scripts' fixed weight paths
(``experiments/pretrained_models/metric_weights/...``) are created in a temporary working
directory holding the stand-ins.

Sources: github.com/TencentARC/VQFR at 239c77a78152473eca83270c40be083bb0ae0f4a and
github.com/ronghuaiyang/arcface-pytorch at 47ace80b128042cd8d2efd408f55c5a3e156b032 (the
repository VQFR's README clones as ``metric_paper/arcface``)::

    git -C VQFR archive HEAD metric_paper vqfr/archs/awing_arch.py | tar -x -C /tmp/vqfr
    git -C arcface-pytorch archive HEAD models config | tar -x -C /tmp/arcface
    .venv/bin/python tests/metrics/data/make_face_metric_fixtures.py /tmp/vqfr /tmp/arcface
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import standin  # beside this script (tests load it first: fixture_script)
import torch
from PIL import Image, ImageFilter
from standin import load_module, stub_package

OUT = Path(__file__).parent / "face_metric_golden.json"
REPO = Path(__file__).resolve().parents[3]
CROPS = ("0-f1-su-ph-0", "WolfgangLanger_Pexels-f00396", "cap12_edit-f01100",
         "franck_02888-0")  # samples/crops/<name>.png, 256 px aligned faces
SIZE = 256


def standin_state_dict(shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """:func:`standin.standin_state_dict` for the reference networks, which name their PReLUs
    ``prelu``."""
    return standin.standin_state_dict(shapes, is_prelu=lambda key: "prelu" in key)


def make_pairs(folder: Path) -> list[tuple[str, str]]:
    """Write ``gt/`` and ``restored/`` PNGs (SIZE px) from the sample crops and return the
    (restored, gt) file-name pairs: blur, JPEG, a 3-pixel shift, another person, an exact
    copy (under 1 degree: left out of Deg's mean)."""
    gt_dir, rs_dir = folder / "gt", folder / "restored"
    gt_dir.mkdir(parents=True, exist_ok=True)
    rs_dir.mkdir(parents=True, exist_ok=True)
    faces = [Image.open(REPO / "samples" / "crops" / f"{c}.png").convert("RGB")
             .resize((SIZE, SIZE), Image.BICUBIC) for c in CROPS]

    def jpeg(im: Image.Image) -> Image.Image:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=15)
        return Image.open(buf).convert("RGB")

    def shift(im: Image.Image) -> Image.Image:
        return Image.fromarray(np.roll(np.asarray(im), 3, axis=1))

    pairs = [(faces[0], faces[0].filter(ImageFilter.GaussianBlur(2))),
             (faces[1], jpeg(faces[1])),
             (faces[2], shift(faces[2])),
             (faces[3], faces[0]),
             (faces[1], faces[1].copy()),
             (faces[3], faces[3].filter(ImageFilter.GaussianBlur(4)))]
    for i, (gt, restored) in enumerate(pairs):
        gt.save(gt_dir / f"{i:02d}.png")
        restored.save(rs_dir / f"{i:02d}.png")
    return [(f"restored/{i:02d}.png", f"gt/{i:02d}.png") for i in range(len(pairs))]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cpu_only() -> None:
    torch.nn.Module.cuda = lambda self, *a, **k: self
    torch.Tensor.cuda = lambda self, *a, **k: self


class _CpuTorch(types.ModuleType):
    """The ``torch`` a script sees: everything of torch, but ``torch.device('cuda')`` is the
    CPU (the Deg script moves its model and data to a hard-coded 'cuda')."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def device(spec, *args):
        return torch.device("cpu" if str(spec).startswith("cuda") else spec, *args)


def run_deg(vqfr: Path, arcface: Path, work: Path) -> dict:
    stub_package("arcface")
    stub_package("arcface.config")
    stub_package("arcface.models")
    load_module("arcface.config.config", arcface / "config" / "config.py")
    resnet = load_module("arcface.models.resnet", arcface / "models" / "resnet.py")
    stub_package("vqfr")
    sys.modules["vqfr.utils"] = types.SimpleNamespace(img2tensor=None)  # load_image_torch only
    script = load_module("vqfr_cos_dist", vqfr / "metric_paper" / "calculate_cos_dist.py")
    script.torch = _CpuTorch("torch")
    net = torch.nn.DataParallel(resnet.resnet_face18(False))
    shapes = {k[len("module."):]: tuple(v.shape) for k, v in net.state_dict().items()}
    net.load_state_dict({"module." + k: v for k, v in standin_state_dict(shapes).items()})
    weights = work / "experiments" / "pretrained_models" / "metric_weights" / "resnet18_110.pth"
    weights.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), weights)
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(work)
    try:
        with contextlib.redirect_stdout(out):
            script.calculate_cos_dist(types.SimpleNamespace(restored_folder="restored",
                                                            gt_folder="gt"))
    finally:
        os.chdir(cwd)
    text = out.getvalue()
    per_pair = [float(m) for m in re.findall(r"^\d+ - (\S+) o :", text, re.M)]
    return {"per_pair_degrees": per_pair,
            "result_dist": float(re.search(r"Result dist: (\S+)", text)[1]),
            "identical_count": int(re.search(r"identical count: (\d+)", text)[1]),
            "stdout": text}


def run_lmd(vqfr: Path, work: Path) -> dict:
    np.float = float  # the reference's calculate_points uses the alias numpy 1.24 removed

    class Registry:
        def register(self, obj=None):
            return (lambda o: o) if obj is None else obj

    stub_package("vqfr.utils.registry", ARCH_REGISTRY=Registry())
    awing = load_module("vqfr_awing_arch", vqfr / "vqfr" / "archs" / "awing_arch.py")
    awing.FAN.get_landmarks.__wrapped__.__defaults__ = ("cpu",)  # under @torch.no_grad()
    net = awing.FAN()  # VQFR's defaults: 4 hourglasses, 98 points
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    weights = work / "experiments" / "pretrained_models" / "metric_weights" / \
        "alignment_WFLW_4HG.pth"
    torch.save({"state_dict": standin_state_dict(shapes)}, weights)

    def init_alignment_model(model_name="FAN", device="cuda"):  # vqfr/archs/__init__.py's
        model = awing.FAN()
        model.load_state_dict(torch.load(weights, map_location="cpu")["state_dict"], strict=True)
        model.eval()
        return model

    stub_package("vqfr.archs", init_alignment_model=init_alignment_model)
    sys.modules["tqdm"] = types.SimpleNamespace(tqdm=lambda x: x)
    script = load_module("vqfr_lmd", vqfr / "metric_paper" / "calculate_landmark_distance.py")
    per_pair, landmarks = [], []
    distance = script.get_landmark_distance

    def record(gt, pred):
        landmarks.append({"gt": gt.tolist(), "restored": pred.tolist()})
        per_pair.append(float(distance(gt, pred)))
        return per_pair[-1]

    script.get_landmark_distance = record
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(work)
    try:
        with contextlib.redirect_stdout(out):
            script.calculate_landmark_distance(types.SimpleNamespace(restored_folder="restored",
                                                                     gt_folder="gt"))
    finally:
        os.chdir(cwd)
    text = out.getvalue()
    return {"per_pair": per_pair, "landmarks": landmarks,
            "average": float(re.search(r"Landmark L2: (\S+)", text)[1]), "stdout": text}


def main(vqfr: str, arcface: str) -> None:
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pairs = make_pairs(work)
        inputs = {name: sha256(work / name) for pair in pairs for name in pair}
        _cpu_only()
        deg = run_deg(Path(vqfr), Path(arcface), work)
        lmd = run_lmd(Path(vqfr), work)
    golden = {"vqfr_commit": "239c77a78152473eca83270c40be083bb0ae0f4a",
              "arcface_pytorch_commit": "47ace80b128042cd8d2efd408f55c5a3e156b032",
              "size": SIZE, "pairs": pairs, "inputs_sha256": inputs, "deg": deg, "lmd": lmd,
              "versions": {"torch": torch.__version__, "numpy": np.__version__,
                           "opencv": __import__("cv2").__version__}}
    OUT.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {OUT}: Deg per pair {[round(d, 4) for d in deg['per_pair_degrees']]}, "
          f"mean {deg['result_dist']:.6f}, identical {deg['identical_count']}; "
          f"LMD per pair {[round(v, 4) for v in lmd['per_pair']]}, mean {lmd['average']:.6f}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
