"""The metric table and the factory."""

import subprocess
import sys

import pytest

from fsr.metrics import METRICS, MetricError, MetricSpec, create_metric, get_spec, list_metrics


def test_table_is_complete_and_consistent():
    from fsr.assets import ASSETS

    expected = {"psnr", "psnr-y", "ssim", "ssim-y", "lpips", "lpips-vgg", "identity",
                "identity-deg", "niqe", "niqe-basicsr", "musiq", "clipiqa", "maniqa", "topiq-nr-face",
                "fid", "kid"}
    assert expected <= set(METRICS)
    for name, spec in METRICS.items():
        assert isinstance(spec, MetricSpec) and spec.name == name
        assert spec.mode in ("FR", "NR", "set")
        assert spec.value_range[0] < spec.value_range[1]
        assert spec.description and ":" in spec.factory
        assert set(spec.assets) <= set(ASSETS), f"{name}: unknown asset"
    assert list_metrics("set") == ["fid", "kid"]
    assert list_metrics("NR")[:2] == ["niqe", "niqe-basicsr"]
    assert get_spec("identity-deg").lower_better and not get_spec("identity").lower_better


def test_every_factory_resolves_to_a_class():
    import importlib

    for spec in METRICS.values():
        module, _, cls = spec.factory.partition(":")
        assert callable(getattr(importlib.import_module(module), cls))


def test_unknown_names_and_arguments():
    with pytest.raises(MetricError, match="unknown metric 'psnrr'.*psnr-y"):
        create_metric("psnrr")
    with pytest.raises(MetricError, match="psnr:.*unexpected keyword"):
        create_metric("psnr", no_such_option=1)
    with pytest.raises(MetricError, match="mode"):
        list_metrics("XX")


def test_listing_does_not_import_torch():
    code = ("import sys; sys.argv = ['-m']; import fsr.metrics as m; m.list_metrics(); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
