"""FID against a reference: a folder, an .npz (mu, sigma) or VQFR's .pth, with its fingerprint;
fsr's folder FID equals torch-fidelity's and clean-fid's on the same folders
(tests/metrics/data/make_fid_fixtures.py ran them)."""

import hashlib
import importlib.util
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from fsr.metrics import MetricError
from fsr.metrics.fid import (
    MIN_STABLE_FID_IMAGES,
    fid_from_stats,
    load_reference,
    save_stats,
    small_sample_warning,
)

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "fid_golden.json").read_text())


def _stats(seed, n=300, d=16):
    x = np.random.default_rng(seed).normal(size=(n, d))
    return x.mean(0), np.cov(x, rowvar=False)


def test_npz_and_vqfr_pth_give_the_same_stats_and_fingerprints(tmp_path):
    mu, sigma = _stats(0)
    npz = save_stats(tmp_path / "ref.npz", stats=(mu, sigma), count=300)
    pth = tmp_path / "inception_FFHQ_512.pth"  # VQFR's inception_stat.py layout
    torch.save({"name": "FFHQ", "size": 512, "mean": mu, "cov": sigma}, pth)
    m1, s1, fp1 = load_reference(npz)
    m2, s2, fp2 = load_reference(pth)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(s1, s2)
    assert fp1["kind"] == "npz" and fp1["n_images"] == 300 and fp1["extractor"].startswith("fid-")
    assert fp2["kind"] == "vqfr-pth" and fp2["n_images"] is None and "pytorch-fid" in fp2["extractor"]
    assert fp2["sha256"] == hashlib.sha256(pth.read_bytes()).hexdigest()
    other = _stats(1)
    assert fid_from_stats(m1, s1, *other) == pytest.approx(fid_from_stats(m2, s2, *other))


def test_a_pth_written_under_numpy_1_loads(tmp_path):
    """VQFR's 2022 file pickles numpy.core.multiarray._reconstruct (numpy 2: numpy._core)."""
    mu, sigma = _stats(2, d=4)
    new = tmp_path / "new.pth"
    torch.save({"mean": mu, "cov": sigma}, new)
    old = tmp_path / "old.pth"
    with zipfile.ZipFile(new) as zin, zipfile.ZipFile(old, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("data.pkl"):
                data = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
            zout.writestr(item, data)
    np.testing.assert_array_equal(load_reference(old)[0], mu)


def test_bad_references_are_one_line_errors(tmp_path):
    with pytest.raises(MetricError, match="does not exist"):
        load_reference(tmp_path / "absent.npz")
    bad = tmp_path / "x.pth"
    torch.save({"weights": torch.zeros(2)}, bad)
    with pytest.raises(MetricError, match="'mean' and 'cov'"):
        load_reference(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(MetricError, match="no images"):
        load_reference(tmp_path / "empty")


def test_small_sample_warning():
    assert small_sample_warning(MIN_STABLE_FID_IMAGES) is None
    line = small_sample_warning(83)
    assert "83 images" in line and "2048" in line and "\n" not in line


@pytest.mark.slow
def test_folder_fid_equals_torch_fidelity_and_clean_fid(tmp_path):
    spec = importlib.util.spec_from_file_location("make_fid_fixtures",
                                                  DATA / "make_fid_fixtures.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    a, b = gen.make_folders(tmp_path)
    files = {f"{d.name}/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
             for d in (a, b) for p in sorted(d.iterdir())}
    assert files == GOLDEN["files_sha256"]
    mu_a, s_a, fp_a = load_reference(a, cache=tmp_path / "cache")
    mu_b, s_b, fp_b = load_reference(b, cache=tmp_path / "cache")
    assert fp_a["kind"] == "folder" and fp_a["n_images"] == GOLDEN["n_per_set"]
    value = fid_from_stats(mu_a, s_a, mu_b, s_b)
    for lib in ("torch_fidelity", "clean_fid"):
        assert value == pytest.approx(GOLDEN[lib]["fid"], rel=1e-3), lib
    # the second call reads the statistics cached by the folder's content
    again = load_reference(a, cache=tmp_path / "cache")
    assert again[2] == fp_a and np.array_equal(again[0], mu_a)


def test_features_against_stats_is_the_frechet_distance():
    from fsr.metrics.fid import feature_stats, fid_features_vs_stats, frechet_distance

    rng = np.random.default_rng(3)
    x, r = rng.normal(size=(300, 64)), rng.normal(size=(400, 64)) + 0.3
    mu, sigma = feature_stats(r)
    assert fid_features_vs_stats(x, mu, sigma) == pytest.approx(
        frechet_distance(*feature_stats(x), mu, sigma), rel=1e-12)
    few = x[:20]  # fewer images than dimensions: still the exact value
    assert fid_features_vs_stats(few, mu, sigma) == pytest.approx(
        frechet_distance(*feature_stats(few), mu, sigma, method="eigh"), rel=1e-6)


def test_suite_fid_reference_rows_name_their_reference(tmp_path, monkeypatch, capsys):
    """The bench's fid-<name> rows: against the suite's reference, fingerprint beside them;
    without the reference, one line and no rows."""
    from fsr.bench.inputs.suite import parse_suite
    from fsr.bench.report.tables import RunInfo, paper_reference_fid

    raw = {"datasets": [{"type": "celeba-test"}], "tasks": [{"name": "r", "kind": "restore"}],
           "set_metrics": ["fid"], "fid_reference": {"name": "ffhq", "env": "FSR_TEST_FIDREF"}}
    suite = parse_suite(raw, tmp_path / "s.yml")
    info = RunInfo(suite=suite, image_keys=[], methods={})
    rng = np.random.default_rng(4)
    feats = {("d", "r", "m"): {f"k{i}": (rng.normal(size=2048), "0-15") for i in range(6)}}
    monkeypatch.delenv("FSR_TEST_FIDREF", raising=False)
    assert paper_reference_fid(info, feats) == []
    assert "fid-ffhq dropped: set FSR_TEST_FIDREF" in capsys.readouterr().err
    ref = rng.normal(size=(50, 2048))
    npz = save_stats(tmp_path / "ffhq.npz", ref, dataset="stand-in")
    monkeypatch.setenv("FSR_TEST_FIDREF", str(npz))
    rows = paper_reference_fid(info, feats)
    assert {r["bucket"] for r in rows} == {"all", "0-15"} and rows[0]["metric"] == "fid-ffhq"
    assert "sha256" in rows[0]["reference"] and "n=50" in rows[0]["reference"]
    assert "2048" in rows[0]["warning"]
    with pytest.raises(Exception, match="fid_reference needs a name"):
        parse_suite({**raw, "fid_reference": {"path": "x"}}, tmp_path / "s.yml")
