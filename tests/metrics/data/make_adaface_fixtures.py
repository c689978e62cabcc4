"""Golden AdaFace identity from the *reference code* (AdaFace's ``net.py`` and mtcnn_pytorch's
``align_trans.py``, as the NTIRE 2025 Real-World Face Restoration challenge uses them), not fsr.

Writes ``adaface_golden.json``: for (restored, input) pairs built from the committed sample crops
(:func:`make_pairs`, 512 px), the 112x112 warp matrices, the embeddings and the cosines that the
challenge's ``inference_face`` computes, with stand-in weights (:func:`standin_state_dict`, a
fixed formula of each key's name and shape, so the 174 MB stand-in is rebuilt by the test instead
of committed). The real ``adaface_ir50_ms1mv2.ckpt`` cannot be fetched here; with stand-ins the
test checks every step of fsr's pipeline (5-point similarity fit and its reflective-fit choice,
``cv2.warpAffine``, BGR normalisation, IR-50 layout, normalised embedding, dot product).

The reference code runs unmodified, imported by path: ``net.build_model('ir_50')`` and
``align_trans.get_reference_facial_points`` / ``warp_and_crop_face`` (whose
``from mtcnn_pytorch.src.matlab_cp2tform import ...`` is served by loading that file under that
name). ``inference_face``'s own lines (read RGB, warp both images by the input's points,
``to_input``, ``lq_feature @ pred_feature.T``) are restated in :func:`challenge_cosine`:
that module imports pandas and the challenge's CSVs at call time, and the challenge repository
is too large to fetch here. Its ``to_input`` equals AdaFace's ``inference.to_input``.

Sources: github.com/mk-minchul/AdaFace at c60eaa7 (``net.py``,
``face_alignment/mtcnn_pytorch/src/{align_trans,matlab_cp2tform}.py``) and
github.com/zhengchen1999/NTIRE2025_RealWorld_Face_Restoration at 3b1903d
(``face_alignment/inference.py``, ``eval.py``)::

    git -C AdaFace archive HEAD net.py face_alignment/mtcnn_pytorch/src | tar -x -C /tmp/adaface
    .venv/bin/python tests/metrics/data/make_adaface_fixtures.py /tmp/adaface
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import standin  # beside this script (tests load it first: fixture_script)
import torch
from PIL import Image, ImageFilter
from standin import load_module, stub_package

OUT = Path(__file__).parent / "adaface_golden.json"
REPO = Path(__file__).resolve().parents[3]
CROPS = ("0-f1-su-ph-0", "SeanConnery-0", "WolfgangLanger_Pexels-f00000")  # samples/crops
SIZE = 512
# facexlib's FFHQ 5-point template at 512 (what fsr uses when no points are given), and a
# per-image perturbation of it (points as a detector might give them)
TEMPLATE_512 = np.array([[192.98138, 239.94708], [318.90277, 240.1936], [256.63416, 314.01935],
                         [201.26117, 371.41043], [313.08905, 371.15118]])
OFFSETS = np.array([[3.0, -2.0], [-4.0, 1.5], [2.5, 3.0], [-1.0, -2.5], [1.5, 2.0]])


def standin_state_dict(shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """:func:`standin.standin_state_dict` for AdaFace's layout, whose PReLUs are
    ``input_layer.2`` and ``res_layer.3``."""
    return standin.standin_state_dict(
        shapes, is_prelu=lambda key: key.endswith(("input_layer.2.weight", "res_layer.3.weight")))


def make_pairs(folder: Path) -> list[dict]:
    """Write ``input/`` and ``restored/`` 512 px PNGs from the sample crops; return the pairs
    with the 5 points of each input: a JPEG'd input vs its clean face (template points), a
    blurred input vs its face (perturbed points), another person (template points)."""
    (folder / "input").mkdir(parents=True, exist_ok=True)
    (folder / "restored").mkdir(parents=True, exist_ok=True)
    faces = [Image.open(REPO / "samples" / "crops" / f"{c}.png").convert("RGB")
             .resize((SIZE, SIZE), Image.BICUBIC) for c in CROPS]

    def jpeg(im: Image.Image) -> Image.Image:
        buf = io.BytesIO()
        im.resize((128, 128), Image.BICUBIC).resize((SIZE, SIZE), Image.BICUBIC) \
            .save(buf, "JPEG", quality=20)
        return Image.open(buf).convert("RGB")

    specs = [(jpeg(faces[0]), faces[0], TEMPLATE_512),
             (faces[1].filter(ImageFilter.GaussianBlur(3)), faces[1], TEMPLATE_512 + OFFSETS),
             (jpeg(faces[2]), faces[0], TEMPLATE_512)]
    pairs = []
    for i, (inp, restored, pts) in enumerate(specs):
        inp.save(folder / "input" / f"{i:02d}.png")
        restored.save(folder / "restored" / f"{i:02d}.png")
        pairs.append({"restored": f"restored/{i:02d}.png", "input": f"input/{i:02d}.png",
                      "points": pts.tolist()})
    return pairs


def challenge_cosine(model, align_trans, lq_path: Path, pred_path: Path, points) -> dict:
    """NTIRE's ``inference_face`` for one pair, its lines in order (``crop_size=(112, 112)``)."""
    crop_size = (112, 112)
    refrence = align_trans.get_reference_facial_points(default_square=crop_size[0] == crop_size[1])
    lq_img = Image.open(lq_path).convert("RGB")
    pred_img = Image.open(pred_path).convert("RGB")
    lq_aligned = align_trans.warp_and_crop_face(np.array(lq_img), points, refrence,
                                                crop_size=crop_size)
    pred_aligned = align_trans.warp_and_crop_face(np.array(pred_img), points, refrence,
                                                  crop_size=crop_size)

    def to_input(pil_rgb_image):  # inference.py's to_input
        np_img = np.array(pil_rgb_image)
        brg_img = ((np_img[:, :, ::-1] / 255.) - 0.5) / 0.5
        return torch.tensor(brg_img.transpose(2, 0, 1)).unsqueeze(0).float()

    with torch.no_grad():
        lq_feature, _ = model(to_input(lq_aligned))
        pred_feature, _ = model(to_input(pred_aligned))
    similarity = (lq_feature @ pred_feature.T).item()
    tfm = align_trans.get_similarity_transform_for_cv2(np.float32(points), np.float32(refrence))
    return {"cosine": similarity, "matrix": np.asarray(tfm, np.float64).tolist(),
            "input_embedding": lq_feature[0].tolist(),
            "restored_embedding": pred_feature[0].tolist(),
            "aligned_input_sha256": hashlib.sha256(lq_aligned.tobytes()).hexdigest()}


def main(adaface: str) -> None:
    root = Path(adaface)
    src = root / "face_alignment" / "mtcnn_pytorch" / "src"
    for pkg in ("mtcnn_pytorch", "mtcnn_pytorch.src"):
        stub_package(pkg)
    load_module("mtcnn_pytorch.src.matlab_cp2tform", src / "matlab_cp2tform.py")
    align_trans = load_module("mtcnn_pytorch.src.align_trans", src / "align_trans.py")
    net = load_module("adaface_net", root / "net.py")
    model = net.build_model("ir_50")
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(standin_state_dict(shapes), strict=True)
    model.eval()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pairs = make_pairs(folder)
        for p in pairs:
            p.update(challenge_cosine(model, align_trans, folder / p["input"],
                                      folder / p["restored"], p["points"]))
        digests = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
                   for p in pairs for name in (p["input"], p["restored"])}
    golden = {"source": "AdaFace c60eaa7 net.py + mtcnn_pytorch align_trans.py; NTIRE2025 "
                        "face_alignment/inference.py inference_face",
              "size": SIZE, "inputs_sha256": digests, "pairs": pairs}
    OUT.write_text(json.dumps(golden, indent=1) + "\n")
    print("\n".join(f"{p['input']} vs {p['restored']}: cosine {p['cosine']:.6f}" for p in pairs))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_adaface_fixtures.py ADAFACE_DIR (git archive of mk-minchul/AdaFace)")
    main(sys.argv[1])
