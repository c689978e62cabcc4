"""FID / KID: calibrated against independent numpy computations on the same features."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fsr.metrics import MetricError, create_metric
from fsr.metrics.fid import (
    feature_stats,
    fid_from_features,
    frechet_distance,
    kid_from_features,
    load_stats,
    save_stats,
)
from fsr.metrics.inception import FIDInception, iter_batches, resize_tf_bilinear


def two_sets(dim: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two different correlated, non-negative feature clouds (like post-ReLU pool features)."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    a = np.abs(rng.normal(size=(m, dim)) @ mix)
    b = np.abs(rng.normal(0.2, 1.1, size=(m, dim)) @ mix)
    return a, b


def fid_by_eigenvalues(a: np.ndarray, b: np.ndarray) -> float:
    """Independent route: Tr sqrt(S1 S2) = sum sqrt(eigvals(S1 @ S2)) (real, >= 0 in exact math)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1 = (a - mu1).T @ (a - mu1) / (len(a) - 1)
    s2 = (b - mu2).T @ (b - mu2) / (len(b) - 1)
    eig = np.linalg.eigvals(s1 @ s2)
    tr_sqrt = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def kid_by_loops(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, pair by pair."""
    d, m, n = a.shape[1], len(a), len(b)

    def k(x, y):
        return (float(np.dot(x, y)) / d + 1.0) ** 3

    xx = sum(k(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(b[i], b[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(a[i], b[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_fid_matches_eigenvalue_route():
    a, b = two_sets(64, 500)
    ref = fid_by_eigenvalues(a, b)
    # measured: |sqrtm - eigvals| / fid ~ 1e-14, |eigh - eigvals| / fid ~ 1e-14
    assert abs(fid_from_features(a, b) - ref) < 1e-9 * ref
    assert abs(fid_from_features(a, b, method="eigh") - ref) < 1e-9 * ref
    assert ref > 1.0
    assert abs(fid_from_features(a, a)) < 1e-8 and abs(fid_from_features(a, a, "eigh")) < 1e-8


@pytest.mark.slow
def test_fid_matches_eigenvalue_route_768():
    # 2048-D (the Inception's size) is in bench/studies/metrics_calibration.py: minutes on 2 cores
    a, b = two_sets(768, 1000, seed=1)
    ref = fid_by_eigenvalues(a, b)
    assert abs(fid_from_features(a, b) - ref) < 1e-7 * ref


def test_fid_rank_deficient_statistics():
    # fewer images than dimensions (a small pose bucket): eigh stays real and finite
    a, b = two_sets(64, 20)
    val = fid_from_features(a, b, method="eigh")
    assert np.isfinite(val) and abs(val - fid_by_eigenvalues(a, b)) < 1e-6 * val
    trace = np.trace(np.cov(a, rowvar=False))
    assert abs(fid_from_features(a, a, method="eigh")) < 1e-6 * trace


def test_kid_matches_direct_mmd():
    a, b = two_sets(32, 200)
    a1, a2, b1 = a[:100], a[100:], b[:100]
    ref = kid_by_loops(a1, b1)
    mean, std = kid_from_features(a1, b1, num_subsets=3, subset_size=1000)
    # measured |ours - loops| / ref ~ 1e-15; with subsets >= set sizes every subset is the sets
    assert abs(mean - ref) < 1e-10 * ref and std < 1e-12 * ref
    assert ref > 0.1
    # two samples of one distribution: about zero (unbiased, so either sign)
    assert abs(kid_from_features(a1, a2)[0]) < 0.1 * ref
    # random subsets: deterministic per seed, an estimate of the same quantity
    sub = kid_from_features(a1, b1, num_subsets=50, subset_size=50, seed=3)
    assert sub == kid_from_features(a1, b1, num_subsets=50, subset_size=50, seed=3)
    assert abs(sub[0] - ref) < 3 * sub[1] / np.sqrt(50) + 0.1 * ref


def test_kid_bad_input():
    a, b = two_sets(8, 10)
    with pytest.raises(MetricError, match="feature sizes differ"):
        kid_from_features(a, b[:, :4])
    with pytest.raises(MetricError, match="subset_size"):
        kid_from_features(a, b, subset_size=1)
    kid = create_metric("kid", num_subsets=2, subset_size=5)
    assert kid(a, b) == kid_from_features(a, b, 2, 5)[0] and kid.last_std >= 0


def test_stats_roundtrip_and_metric_inputs(tmp_path):
    a, b = two_sets(2048 // 32, 300)
    path = save_stats(tmp_path / "ref", b, dataset="synthetic")
    assert path.suffix == ".npz"
    mu, sigma = load_stats(path)
    assert np.array_equal(mu, b.mean(0)) and np.allclose(sigma, np.cov(b, rowvar=False))
    with np.load(path) as data:
        assert str(data["dataset"]) == "synthetic" and int(data["count"]) == 300
    assert frechet_distance(*feature_stats(a), mu, sigma) == \
        fid_from_features(a, b, method="sqrtm")
    other = save_stats(tmp_path / "other.npz", stats=(mu, sigma), extractor="clean-fid")
    with pytest.raises(MetricError, match="extractor 'clean-fid'"):
        load_stats(other)
    assert np.array_equal(load_stats(other, extractor=None)[0], mu)


def test_fid_module_accepts_features_stats_and_files(tmp_path):
    fid = create_metric("fid", method="eigh")
    a, b = two_sets(64, 200)
    path = save_stats(tmp_path / "b.npz", b)
    direct = fid_from_features(a, b, method="eigh")
    assert fid(feature_stats(a), path) == direct and fid(feature_stats(a), feature_stats(b)) == direct
    # raw features go through feature_stats and must be the Inception's 2048-D
    rng = np.random.default_rng(0)
    big = np.abs(rng.normal(size=(30, 2048)))
    mu, sigma = fid._stats(big, "a")
    assert np.array_equal(mu, big.mean(0)) and np.allclose(sigma, np.cov(big, rowvar=False))
    assert not fid._inception  # no Inception loaded when features are given
    with pytest.raises(MetricError, match="2048-D"):
        fid(a, b)
    with pytest.raises(MetricError, match="M >= 2"):
        fid(big[:1], big)
    with pytest.raises(MetricError, match="method"):
        create_metric("fid", method="svd")
    with pytest.raises(MetricError, match="disagree in shape"):
        fid(feature_stats(a), feature_stats(b[:, :10]))
    # the default: two feature sets take the low-rank form, ready statistics the sqrtm route
    low = create_metric("fid")
    assert low(big[:15], big[15:]) == fid_from_features(big[:15], big[15:])
    assert low(feature_stats(a), path) == frechet_distance(*feature_stats(a), *feature_stats(b))


def test_resize_matches_affine_grid_formulation():
    # StyleGAN2-ADA / fid-helper resize with affine_grid + grid_sample (border), in float64
    x = torch.rand(2, 3, 37, 53, dtype=torch.float64) * 255
    h, w, oh, ow = 37, 53, 299, 299
    theta = torch.tensor([[[1, 0, 1 / w - 1 / ow], [0, 1, 1 / h - 1 / oh]]], dtype=torch.float64)
    grid = F.affine_grid(theta.expand(2, 2, 3), [2, 3, oh, ow], align_corners=False)
    ref = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    assert (resize_tf_bilinear(x, (oh, ow)) - ref).abs().max() < 1e-9
    assert resize_tf_bilinear(x, (37, 53)) is x


def test_iter_batches():
    items = [torch.rand(3, 8, 8), torch.rand(2, 3, 8, 8), np.zeros((8, 8, 3), np.uint8),
             torch.rand(3, 9, 9)]
    shapes = [tuple(b.shape) for b in iter_batches(items, batch_size=3)]
    assert shapes == [(3, 3, 8, 8), (1, 3, 8, 8), (1, 3, 9, 9)]
    with pytest.raises(MetricError, match="uint8"):
        list(iter_batches([np.zeros((8, 8, 3), np.float32)], 2))


@pytest.mark.slow
def test_inception_features_on_real_faces(portraits_128):
    fid = create_metric("fid", batch_size=3)
    faces = portraits_128
    feats = fid.features(faces + [f[:, ::-1] for f in faces])
    assert feats.shape == (8, 2048) and feats.dtype == np.float64
    assert np.isfinite(feats).all() and feats.min() >= 0 and feats.std() > 0.05  # post-ReLU pool
    single = fid.features([torch.from_numpy(faces[0].copy()).permute(2, 0, 1) / 255.0])
    assert np.abs(single[0] - feats[0]).max() < 1e-4  # batching does not change features
    # a set against itself: 0 up to rounding (measured 1.6e-4 both routes; trace(S) ~ 1e2)
    trace = np.trace(np.cov(feats, rowvar=False))
    assert abs(fid(feats, feats)) < 1e-5 * trace
    assert abs(create_metric("fid", method="eigh")(feats, feats)) < 1e-5 * trace
    assert fid_from_features(feats[:4], feats[4:], method="eigh") > 1.0


def test_fused_inception_matches_script(portraits_128):
    # batch norms folded into the convs, channels_last: the script's features to float32
    # rounding (measured max |diff| 6.7e-6 on these faces, features up to 3.7)
    fused, script = FIDInception(), FIDInception(fused=False)
    assert isinstance(script.net, torch.jit.ScriptModule)
    assert not isinstance(fused.net, torch.jit.ScriptModule)
    faces = torch.from_numpy(np.stack(portraits_128)).permute(0, 3, 1, 2).float() / 255.0
    a, b = fused(faces), script(faces)
    assert a.shape == (4, 2048) and a.dtype == torch.float32 and a.is_contiguous()
    assert (a - b).abs().max() < 1e-4 and b.abs().max() > 1.0
    x = torch.rand(2, 3, 299, 299, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        assert (fused.net(x) - script.net(x)).abs().max() < 1e-4
    with pytest.raises(MetricError, match="expects"):
        fused.net(x[:, :2])
