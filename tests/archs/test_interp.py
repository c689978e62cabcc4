"""Bicubic / Lanczos baselines against OpenCV and PIL references.

Tolerances: float references (cv2 float32, PIL mode 'F') 1e-5; PIL 8-bit (fixed-point
coefficients, rounding) at most 1 grey level after rounding our output to uint8.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from basicsr.utils.registry import ARCH_REGISTRY
from PIL import Image

import fsr.archs  # noqa: F401  (registers the archs)
from fsr.archs.interp_arch import Bicubic, Lanczos, lanczos_weights, resize_bicubic, resize_lanczos

# A real face committed with the sample set (provenance: samples/PROVENANCE.md).
FACE = Path(__file__).resolve().parents[2] / "samples" / "crops" / "astronaut-0.png"


def _pil_float(x: np.ndarray, size_hw: tuple[int, int], method) -> np.ndarray:
    """Resize a (C, H, W) float array per channel with PIL in mode 'F' (float32, no rounding)."""
    return np.stack(
        [np.asarray(Image.fromarray(c, mode="F").resize(size_hw[::-1], method)) for c in x]
    )


@pytest.fixture(scope="module")
def rand_img() -> np.ndarray:
    return np.random.default_rng(0).random((3, 13, 17)).astype(np.float32)


def test_registered_and_built_from_yaml_kwargs():
    for name, cls in [("Bicubic", Bicubic), ("Lanczos", Lanczos)]:
        net = ARCH_REGISTRY.get(name)(scale=8)
        assert isinstance(net, cls) and net.scale == 8
        assert sum(p.numel() for p in net.parameters()) == 0


@pytest.mark.parametrize("scale", [4, 8])
def test_bicubic_upsampling_equals_opencv_inter_cubic(rand_img, scale):
    c, h, w = rand_img.shape
    ref = cv2.resize(rand_img.transpose(1, 2, 0), (w * scale, h * scale), interpolation=cv2.INTER_CUBIC)
    out = resize_bicubic(torch.from_numpy(rand_img)[None], scale=scale)[0].permute(1, 2, 0).numpy()
    assert out.shape == ref.shape
    assert np.abs(out - ref).max() < 1e-5


@pytest.mark.parametrize("size", [(32, 32), (16, 16), (33, 21)])
def test_bicubic_downsampling_is_antialiased_like_pil(size):
    x = np.random.default_rng(1).random((3, 128, 128)).astype(np.float32)
    ref = _pil_float(x, size, Image.BICUBIC)
    out = resize_bicubic(torch.from_numpy(x)[None], size=size)[0].numpy()
    assert np.abs(out - ref).max() < 1e-5
    # and it is not plain (aliasing) bicubic
    plain = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=size, mode="bicubic")
    assert np.abs(plain[0].numpy() - ref).max() > 1e-2


@pytest.mark.parametrize(
    "src, dst", [((13, 17), (52, 68)), ((16, 16), (128, 128)), ((128, 128), (16, 16)), ((100, 77), (33, 21)), ((5, 3), (40, 24))]
)
def test_lanczos_equals_pil_float(src, dst):
    x = np.random.default_rng(2).random((3, *src)).astype(np.float32)
    ref = _pil_float(x, dst, Image.LANCZOS)
    out = resize_lanczos(torch.from_numpy(x)[None].double(), size=dst)[0].numpy()
    assert np.abs(out - ref).max() < 1e-5


@pytest.mark.parametrize("scale", [4, 8])
def test_lanczos_on_a_real_face_matches_pil_uint8(scale):
    face = Image.open(FACE).convert("RGB").resize((128 // scale,) * 2, Image.BICUBIC)
    # PIL also clips to [0, 255] between its two 1-D passes; keep the face's levels in
    # [40, 215] so Lanczos overshoot never reaches the clip and only rounding differs.
    face = face.point(lambda v: 40 + v * 175 // 255)
    ref = np.asarray(face.resize((128, 128), Image.LANCZOS)).astype(np.int16)
    x = torch.from_numpy(np.array(face)).permute(2, 0, 1)[None].double() / 255
    out = Lanczos(scale=scale)(x)[0].permute(1, 2, 0).mul(255).round().numpy().astype(np.int16)
    assert out.shape == (128, 128, 3)
    assert np.abs(out - ref).max() <= 1
    # PIL rounds to uint8 after each 1-D pass, so +-1 level differences are expected
    assert np.abs(out - ref).mean() < 0.35


def test_lanczos_differs_from_bicubic_and_preserves_constants():
    x = torch.rand(1, 3, 16, 16)
    assert (Lanczos(scale=4)(x) - Bicubic(scale=4)(x)).abs().max() > 1e-3
    const = torch.full((1, 3, 9, 11), 0.3)
    assert torch.allclose(Lanczos(scale=4)(const), const.new_full((1, 3, 36, 44), 0.3), atol=1e-6)
    assert torch.allclose(Bicubic(scale=4)(const), const.new_full((1, 3, 36, 44), 0.3), atol=1e-6)
    assert torch.allclose(lanczos_weights(7, 50).sum(1), torch.ones(50), atol=1e-6)


@pytest.mark.parametrize("cls", [Bicubic, Lanczos])
def test_shape_dtype_range_and_gradients(cls):
    x = torch.rand(2, 3, 16, 12, requires_grad=True)
    y = cls(scale=8)(x)
    assert y.shape == (2, 3, 128, 96) and y.dtype == torch.float32
    assert y.min() >= 0 and y.max() <= 1  # ringing overshoot is clamped
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert cls(scale=4)(x.detach().double()).dtype == torch.float64
    assert cls(scale=0.25)(torch.rand(1, 3, 128, 128)).shape == (1, 3, 32, 32)


@pytest.mark.parametrize("cls", [Bicubic, Lanczos])
def test_bad_input(cls):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        cls(scale=4)(torch.rand(3, 16, 16))
    with pytest.raises(ValueError, match="float"):
        cls(scale=4)(torch.zeros(1, 3, 16, 16, dtype=torch.uint8))
    for bad in (0, -2, float("nan"), "4"):
        with pytest.raises(ValueError, match="scale"):
            cls(scale=bad)
    with pytest.raises(ValueError, match="at least 1x1"):
        cls(scale=0.01)(torch.rand(1, 3, 16, 16))
