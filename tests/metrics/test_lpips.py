"""LPIPS: the `lpips` package, with its trunk loaded from the same converted weights, is the
reference (lpips==0.1.4, `LPIPS(net=..., pnet_rand=True)` so it downloads nothing)."""

import pytest
import torch

from fsr.assets import resolve
from fsr.metrics import MetricError, create_metric
from fsr.metrics.lpips_model import LPIPS, NETS, lpips_head_file

# Measured max |ours - lpips package| on the 12 real pairs: 0.0 (alex) and 0.0 (vgg).
TOL = 1e-6
# the lpips package builds torchvision nets with the old `pretrained=` argument
pytestmark = pytest.mark.filterwarnings("ignore:.*since 0.13:UserWarning")


def reference(net: str):
    import lpips

    ref = lpips.LPIPS(net=net, pnet_rand=True, verbose=False).eval()
    taps = NETS[net][3]
    state = torch.load(resolve(f"lpips-{net}"), map_location="cpu", weights_only=True)
    # lpips keeps torchvision's `features` split into slice1..5 with the original indices
    sliced = {}
    for key, value in state.items():
        index = int(key.split(".")[1])
        part = next(i + 1 for i, end in enumerate(taps) if index < end)
        sliced[f"slice{part}.{index}.{key.split('.')[2]}"] = value
    ref.net.load_state_dict(sliced)
    return ref


@pytest.fixture(scope="module")
def alex():
    return create_metric("lpips")


def test_matches_lpips_package_alex(alex, real_pairs):
    pred, gt = real_pairs[0].float(), real_pairs[1].float()
    with torch.no_grad():
        ours = alex(pred, gt)
        ref = reference("alex")(pred, gt, normalize=True).flatten()
    assert ours.shape == (len(pred),) and ours.dtype == torch.float32
    assert (ours - ref).abs().max() < TOL
    assert 0.05 < ours.min() and ours.max() < 0.6  # real degradations give real distances


@pytest.mark.slow
def test_matches_lpips_package_vgg(real_pairs):
    pred, gt = real_pairs[0][:4].float(), real_pairs[1][:4].float()
    with torch.no_grad():
        ours = create_metric("lpips-vgg")(pred, gt)
        ref = reference("vgg")(pred, gt, normalize=True).flatten()
    assert (ours - ref).abs().max() < TOL


def test_ranks_degradations_and_identity(alex, real_pairs):
    gt = real_pairs[1].float()
    with torch.no_grad():
        assert torch.equal(alex(gt[:2], gt[:2]), torch.zeros(2))
        mild = (gt[:2] + 0.02 * torch.randn_like(gt[:2])).clamp(0, 1)
        strong = (gt[:2] + 0.2 * torch.randn_like(gt[:2])).clamp(0, 1)
        assert (alex(mild, gt[:2]) < alex(strong, gt[:2])).all()


def test_gradients_reach_the_input_only(alex):
    gt = torch.rand(2, 3, 64, 64)
    pred = torch.rand(2, 3, 64, 64, requires_grad=True)
    alex(pred, gt).sum().backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in alex.parameters())


def test_heads_come_from_the_lpips_package():
    path = lpips_head_file("vgg")
    assert path.is_file() and path.parts[-4:] == ("lpips", "weights", "v0.1", "vgg.pth")


def test_bad_weights(tmp_path):
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 11, 11)}, bad)
    with pytest.raises(MetricError, match="missing"):
        LPIPS("alex", backbone_weights=bad)
    with pytest.raises(MetricError, match="net must be"):
        LPIPS("squeezenet")
    heads = tmp_path / "heads.pth"
    torch.save({"lin0.model.1.weight": torch.zeros(1, 3, 1, 1)}, heads)
    with pytest.raises(MetricError, match="head"):
        LPIPS("alex", head_weights=heads)


def test_bad_input(alex):
    with pytest.raises(MetricError, match="differ in shape"):
        alex(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 32, 32))
