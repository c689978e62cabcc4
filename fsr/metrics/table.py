"""The metric table: the single source of truth for every metric fsr reports.

One row per name: its mode ('FR' full-reference (pred, gt) -> (N,), 'NR' no-reference
img -> (N,), 'set' feature sets -> float), whether lower is better, its value range, the
``fsr.assets`` names its weights come from, a description, and the class that implements it
(``"module:Class"``, imported only when the metric is built) with fixed keyword arguments.
Two columns say what a number is: ``definition`` ('paper: <reference script>' when the row
computes exactly what a published evaluation script computes, 'fsr: ...' for fsr's own
statistics and offline stand-ins, which never share a name with a paper's) and ``licence``
(engine + weights, short form: a user who needs a permissive install reads it here).
Importing this module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

INF = float("inf")


@dataclass(frozen=True)
class MetricSpec:
    """One metric. ``kwargs`` are passed to ``factory``; callers may override them."""

    name: str
    mode: Literal["FR", "NR", "set"]
    lower_better: bool
    value_range: tuple[float, float]
    assets: tuple[str, ...]
    description: str
    factory: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    engine: str = "fsr"  # who computes it: 'fsr' (fsr's own code) or 'pyiqa' (pyiqa 0.1.16)
    definition: str = "fsr"  # 'paper: <reference script>' or 'fsr: <what fsr's own row is>'
    licence: str = "Apache-2.0 (fsr)"  # engine + weights, short form

    @property
    def is_paper(self) -> bool:
        """True when the row is a published evaluation script's definition, exactly."""
        return self.definition.startswith("paper")


_PSNR_SSIM = ("BasicSR calculate_psnr/calculate_ssim conventions: RGB on [0, 255], crop_border 0, "
              "float64")
_ID = ("ArcFace ResNet-18 (GFPGAN's arcface_resnet18.pth, grey 128x128 whole crop) when "
       "'arcface-resnet18' resolves, else dlib's ResNet (HOG box + 5-point alignment); the metric's "
       ".model_name says which, never compare across models")

_PYIQA = "fsr.metrics.pyiqa_engine:PyiqaMetric"
# pyiqa 0.1.16's own licence (its wheel's License-Expression; S-Lab for parts). Every number a
# pyiqa row gives is computed by that code.
PYIQA_ENGINE_LICENCE = "PolyForm-Noncommercial-1.0.0 + NTU S-Lab (pyiqa 0.1.16 engine)"
_FSR = "Apache-2.0 (fsr)"
_DLIB = "dlib models CC0/Boost"
_BASICSR = "paper: BasicSR calculate_psnr/calculate_ssim (GFPGAN/VQFR/CodeFormer/PMRF tables)"


def _pyiqa(name: str, weights: dict[str, str], min_size: int = 1,
           options: dict | None = None) -> dict[str, Any]:
    """kwargs of a pyiqa row: its pyiqa name and where each asset goes under torch hub's dir."""
    return {"pyiqa_name": name, "mode": "NR", "weights": weights, "min_size": min_size,
            "options": options or {}}


_ROWS = [
    MetricSpec("psnr", "FR", False, (0.0, INF), (),
               f"PSNR in dB, {_PSNR_SSIM}; identical images give +inf (max_db=... clips)",
               "fsr.metrics.psnr_ssim:PSNR", definition=_BASICSR, licence=_FSR),
    MetricSpec("psnr-y", "FR", False, (0.0, INF), (),
               f"PSNR in dB on the Y of BT.601 YCbCr (16..235), {_PSNR_SSIM}",
               "fsr.metrics.psnr_ssim:PSNR", {"test_y_channel": True},
               definition=_BASICSR + ", test_y_channel=True", licence=_FSR),
    MetricSpec("ssim", "FR", False, (-1.0, 1.0), (),
               f"SSIM, 11x11 Gaussian window sigma 1.5, 'valid', per channel then mean; {_PSNR_SSIM}",
               "fsr.metrics.psnr_ssim:SSIM", definition=_BASICSR, licence=_FSR),
    MetricSpec("ssim-y", "FR", False, (-1.0, 1.0), (),
               f"SSIM on the Y of BT.601 YCbCr; {_PSNR_SSIM}",
               "fsr.metrics.psnr_ssim:SSIM", {"test_y_channel": True},
               definition=_BASICSR + ", test_y_channel=True", licence=_FSR),
    MetricSpec("lpips", "FR", True, (0.0, INF), ("lpips-alex",),
               "LPIPS v0.1, AlexNet trunk (pyiqa's default); heads from the lpips package",
               "fsr.metrics.lpips_model:LPIPS", {"net": "alex"},
               definition="paper: lpips 0.1.4 LPIPS(net='alex'), inputs in [-1, 1]",
               licence=f"{_FSR}; LPIPS heads BSD-2-Clause, AlexNet BSD-3-Clause"),
    MetricSpec("lpips-vgg", "FR", True, (0.0, INF), ("lpips-vgg",),
               "LPIPS v0.1, VGG16 trunk (what most face-restoration papers report)",
               "fsr.metrics.lpips_model:LPIPS", {"net": "vgg"},
               definition="paper: lpips 0.1.4 LPIPS(net='vgg') (VQFR metric_paper/"
               "calculate_lpips.py)",
               licence=f"{_FSR}; LPIPS heads BSD-2-Clause, VGG16 BSD-3-Clause"),
    MetricSpec("identity", "FR", False, (-1.0, 1.0),
               ("arcface-resnet18", "dlib-resnet", "dlib-sp5"),
               f"cosine similarity of face embeddings of pred and gt: {_ID}",
               "fsr.metrics.identity:IdentitySimilarity",
               definition="fsr: embedding cosine (model per .model_name)",
               licence=f"{_FSR}; GFPGAN ArcFace Apache-2.0 or {_DLIB}"),
    MetricSpec("identity-deg", "FR", True, (0.0, 180.0), ("arcface-resnet18-110",),
               "'Deg': arccos of the ArcFace resnet_face18 (resnet18_110.pth) cosine in degrees "
               "of pred and gt read as 8-bit grey PNG, resized to 128x128 (cv2 bilinear), "
               "(x-127.5)/127.5; pairs under 1 degree are NaN (left out of the mean, the "
               "script's identical_count)",
               "fsr.metrics.deg:VQFRDeg",
               definition="paper: VQFR metric_paper/calculate_cos_dist.py (copied by PMRF, "
               "bfrxlib)",
               licence=f"{_FSR}; resnet18_110.pth: no licence stated"),
    MetricSpec("identity-adaface", "FR", False, (-1.0, 1.0),
               ("adaface-ir50", "mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet"),
               "AdaFace IR-50 (adaface_ir50_ms1mv2.ckpt) cosine of the restored face and its "
               "input, both warped to 112x112 by the same 5 points (similarity to ArcFace's "
               "reference points, cv2 bilinear), BGR (x/255-0.5)/0.5; the challenge's "
               "thresholds: 0.3 Wider/WebPhoto, 0.5 CelebA, 0.6 LFW/CelebChild. Points: MTCNN's "
               "on the input at AdaFace's settings (the FFHQ template where none is found); "
               "the challenge reads per-image points from its CSV",
               "fsr.metrics.adaface:AdaFaceIdentity",
               definition="paper: NTIRE 2025 RealWorld eval (AdaFace IR-50 cosine)",
               licence=f"{_FSR}; AdaFace code and weights MIT (trained on MS1MV2); MTCNN "
               "weights MIT (facenet-pytorch)"),
    MetricSpec("identity-deg-dlib", "FR", True, (0.0, 180.0), ("dlib-resnet", "dlib-sp5"),
               "angle in degrees between dlib ResNet descriptors of pred and gt (HOG box + "
               "5-point alignment). fsr's own: not the papers' Deg, dlib's angles are small "
               "(its cosine of different people is 0.78-0.97, 14-39 degrees)",
               "fsr.metrics.identity:IdentitySimilarity",
               {"backend": "dlib", "statistic": "degrees", "share_embedder": True},
               definition="fsr: dlib descriptor angle (offline stand-in for Deg)",
               licence=f"{_FSR}; {_DLIB}"),
    MetricSpec("identity-dist", "FR", True, (0.0, 2.0), ("dlib-resnet", "dlib-sp5"),
               "Euclidean distance of dlib ResNet face descriptors of pred and gt (HOG box + "
               "5-point alignment), the statistic dlib is calibrated on: same person < 0.6. "
               "dlib's cosine cannot separate people (different people 0.78-0.97)",
               "fsr.metrics.identity:IdentitySimilarity",
               {"backend": "dlib", "statistic": "distance", "share_embedder": True},
               definition="fsr: dlib descriptor distance", licence=f"{_FSR}; {_DLIB}"),
    MetricSpec("identity-match", "FR", False, (0.0, 1.0), ("dlib-resnet", "dlib-sp5"),
               "1 when dlib calls pred and gt the same person (descriptor distance < 0.6, "
               "dlib's threshold), else 0; its mean is the same-person rate",
               "fsr.metrics.identity:IdentitySimilarity",
               {"backend": "dlib", "statistic": "match", "share_embedder": True},
               definition="fsr: dlib same-person rate at 0.6", licence=f"{_FSR}; {_DLIB}"),
    MetricSpec("lmd", "FR", True, (0.0, INF), ("awing-fan-wflw",),
               "'LMD': mean Euclidean distance of the 98 WFLW landmarks of pred and gt from "
               "facexlib's AWing FAN (alignment_WFLW_4HG.pth) on the whole image, pixels of a "
               "512 frame, no normalisation",
               "fsr.metrics.landmarks:LandmarkDistance", {"backend": "awing"},
               definition="paper: VQFR metric_paper/calculate_landmark_distance.py",
               licence=f"{_FSR}; facexlib FAN MIT; weights facexlib release (WFLW)"),
    MetricSpec("lmd-dlib68", "FR", True, (0.0, INF), ("dlib-sp68",),
               "mean Euclidean distance of dlib's 68 landmarks of pred and gt (HOG box, else "
               "the partner's, else the whole image), pixels of a 512 frame. fsr's offline "
               "stand-in for LMD: other points, other detector, never the papers' number",
               "fsr.metrics.landmarks:LandmarkDistance", {"backend": "dlib68"},
               definition="fsr: dlib 68-point landmark distance (offline stand-in for LMD)",
               licence=f"{_FSR}; dlib sp68 (iBUG 300-W: research use only)"),
    MetricSpec("niqe", "NR", True, (0.0, INF), ("pyiqa-niqe",),
               "NIQE as pyiqa (and the NTIRE 2025 face challenge) computes it: Y of YIQ, "
               "MATLAB-style imresize, the MATLAB release's pristine params (converted from "
               "BasicSR's copy when pyiqa's .mat is not reachable)",
               _PYIQA, _pyiqa("niqe", {"pyiqa-niqe": "pyiqa/niqe_modelparameters.mat"}, 192),
               engine="pyiqa", definition="paper: pyiqa 0.1.16 niqe (NTIRE 2025 face challenge)",
               licence=PYIQA_ENGINE_LICENCE),
    MetricSpec("niqe-basicsr", "NR", True, (0.0, INF), (),
               "NIQE via BasicSR calculate_niqe (its bundled pristine params; Y of BT.601 "
               "YCbCr, 96x96 blocks; needs two blocks); pyiqa's niqe with color_space='ycbcr' "
               "agrees (tests/metrics/test_pyiqa_crosscheck.py)",
               "fsr.metrics.niqe:NIQE",
               definition="paper: BasicSR calculate_niqe (VQFR metric_paper/calculate_niqe.py)",
               licence=f"{_FSR}; BasicSR params Apache-2.0"),
    MetricSpec("musiq", "NR", False, (0.0, 100.0), ("pyiqa-musiq-koniq",),
               "MUSIQ (KonIQ-10k), multi-scale transformer, MOS-like 0..100",
               _PYIQA, _pyiqa("musiq", {"pyiqa-musiq-koniq":
                                        "pyiqa/musiq_koniq_ckpt-e95806b9.pth"}), engine="pyiqa",
               definition="paper: pyiqa 0.1.16 musiq (OSDFace/NTIRE tables)",
               licence=PYIQA_ENGINE_LICENCE),
    MetricSpec("clipiqa", "NR", False, (0.0, 1.0), ("clip-rn50",),
               "CLIP-IQA: CLIP RN50 with antonym prompt pairs (pyiqa's ensemble of 5 pairs)",
               _PYIQA, _pyiqa("clipiqa", {"clip-rn50": "clip/RN50.pt"}), engine="pyiqa",
               definition="paper: pyiqa 0.1.16 clipiqa", licence=PYIQA_ENGINE_LICENCE +
               "; CLIP MIT"),
    MetricSpec("maniqa", "NR", False, (0.0, 1.0), ("pyiqa-maniqa-koniq",),
               "MANIQA (KonIQ-10k), ViT-B/8 + transposed attention; pyiqa's 8 random 224 crops",
               _PYIQA, _pyiqa("maniqa", {"pyiqa-maniqa-koniq": "pyiqa/ckpt_koniq10k.pt"}),
               engine="pyiqa", definition="paper: pyiqa 0.1.16 maniqa",
               licence=PYIQA_ENGINE_LICENCE),
    MetricSpec("topiq-nr-face", "NR", False, (0.0, 1.0),
               ("pyiqa-topiq-nr-face", "retinaface-resnet50", "parsenet"),
               "TOPIQ-NR ResNet-50 trained on CGFIQA face quality; pyiqa aligns the face with "
               "facexlib RetinaFace + ParseNet at 512; fails when it finds no face (pyiqa #202)",
               _PYIQA, _pyiqa("topiq_nr-face", {
                   "pyiqa-topiq-nr-face": "pyiqa/topiq_nr_cgfiqa_res50-0a8b8e4f.pth",
                   "retinaface-resnet50": "pyiqa/detection_Resnet50_Final.pth",
                   "parsenet": "pyiqa/parsing_parsenet.pth"}, options={"backbone_pretrain": False}),
               engine="pyiqa", definition="paper: pyiqa 0.1.16 topiq_nr-face",
               licence=PYIQA_ENGINE_LICENCE + "; facexlib weights MIT"),
    MetricSpec("fid", "set", True, (0.0, INF), ("fid-inception",),
               "Frechet Inception Distance on TF-FID Inception-v3 pool features (299x299 TF "
               "bilinear, (x-128)/128); "
               "between feature sets the exact low-rank form (nuclear norm of A B^T, equal to "
               "the pytorch-fid/BasicSR sqrtm route up to rounding); against cached (mu, sigma) "
               ".npz stats the sqrtm route. The reference set is named beside every number",
               "fsr.metrics.fid:FID",
               definition="fsr: FID on the TF Inception with TF bilinear resize (clean-fid's "
               "legacy_tensorflow extractor); VQFR/PMRF use pytorch-fid's extractor",
               licence=f"{_FSR}; TF Inception Apache-2.0"),
    MetricSpec("kid", "set", True, (-INF, INF), ("fid-inception",),
               "KID: unbiased MMD^2, cubic polynomial kernel, mean over 100 subsets of <= 1000 "
               "(StyleGAN2-ADA / clean-fid; once on all pairs when both sets fit one subset); "
               "unbiased, so small negatives happen",
               "fsr.metrics.fid:KID",
               definition="fsr: KID (clean-fid/StyleGAN2-ADA estimator) on fsr's FID features",
               licence=f"{_FSR}; TF Inception Apache-2.0"),
]

METRICS: dict[str, MetricSpec] = {row.name: row for row in _ROWS}
