"""StyleGAN2-style discriminator (pure PyTorch): shapes, gradients, registry, bad input."""

import pytest
import torch
from basicsr.utils.registry import ARCH_REGISTRY

import fsr.archs  # noqa: F401  (registers the archs)
from fsr.archs.stylegan2_blocks import ArchConfigError
from fsr.archs.stylegan2_disc_arch import DownResBlock, StyleGAN2DiscriminatorClean


def test_down_block_halves():
    assert DownResBlock(8, 16)(torch.randn(2, 8, 16, 16)).shape == (2, 16, 8, 8)


@pytest.mark.parametrize("batch", [1, 3, 4, 8])
def test_logits_and_gradients(batch):
    torch.manual_seed(0)
    d = ARCH_REGISTRY.get("StyleGAN2DiscriminatorClean")(out_size=64, narrow=0.0625)
    x = torch.randn(batch, 3, 64, 64, requires_grad=True)
    out = d(x)
    assert out.shape == (batch, 1) and out.dtype == torch.float32 and torch.isfinite(out).all()
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in d.parameters())


def test_minibatch_stddev_sees_the_batch():
    torch.manual_seed(0)
    d = StyleGAN2DiscriminatorClean(out_size=32, narrow=0.0625).eval()
    x = torch.randn(4, 3, 32, 32)
    same = x[:1].repeat(4, 1, 1, 1)
    # identical samples have zero feature std: their logits differ from a varied batch's
    assert not torch.allclose(d(same)[0], d(torch.cat([x[:1], x[1:]]))[0])


def test_small_config_size():
    d = StyleGAN2DiscriminatorClean(out_size=128, narrow=0.125)
    assert sum(p.numel() for p in d.parameters()) < 1_000_000


def test_bad_input_and_config():
    d = StyleGAN2DiscriminatorClean(out_size=32, narrow=0.0625)
    with pytest.raises(ArchConfigError, match="32x32"):
        d(torch.randn(1, 3, 64, 64))
    with pytest.raises(ArchConfigError):
        d(torch.randn(1, 1, 32, 32))
    with pytest.raises(ArchConfigError, match="out_size"):
        StyleGAN2DiscriminatorClean(out_size=100)
    with pytest.raises(ArchConfigError, match="no channels"):
        StyleGAN2DiscriminatorClean(out_size=32, narrow=0.001)
