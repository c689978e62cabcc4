"""The metric table and the factory."""

import subprocess
import sys

import pytest

from fsr.metrics import METRICS, MetricError, MetricSpec, create_metric, get_spec, list_metrics


def test_table_is_complete_and_consistent():
    from fsr.assets import ASSETS

    expected = {"psnr", "psnr-y", "ssim", "ssim-y", "lpips", "lpips-vgg", "identity",
                "identity-deg", "identity-deg-dlib", "lmd", "lmd-dlib68", "niqe", "niqe-basicsr", "musiq", "clipiqa", "maniqa", "topiq-nr-face",
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


def test_every_row_says_its_definition_and_licence():
    for name, spec in METRICS.items():
        assert spec.definition.startswith(("paper: ", "fsr: ")), name
        assert spec.licence, name
        if spec.engine == "pyiqa":
            assert "PolyForm-Noncommercial-1.0.0" in spec.licence, name
    # one name, one definition: the papers' Deg and LMD, and fsr's own stand-ins beside them
    assert get_spec("identity-deg").is_paper and get_spec("lmd").is_paper
    assert not get_spec("identity-deg-dlib").is_paper and not get_spec("lmd-dlib68").is_paper
    assert get_spec("identity-deg").assets == ("arcface-resnet18-110",)


def test_a_pyiqa_row_without_pyiqa_is_one_line(monkeypatch):
    from fsr.metrics import MetricUnavailable

    monkeypatch.setitem(sys.modules, "pyiqa", None)  # what an install without the extra has
    with pytest.raises(MetricUnavailable) as info:
        create_metric("musiq")
    line = str(info.value)
    assert "\n" not in line and line.startswith("musiq: needs pyiqa") and "fsr[iqa]" in line
    assert isinstance(info.value, MetricError) and isinstance(info.value, ValueError)
    create_metric("psnr")  # the default metrics do not need it


def test_published_rows_name_fsr_metrics_and_their_source():
    from fsr.metrics.published import LABEL, published_rows

    tables = published_rows("celeba_test")
    assert len(tables) == 2 and published_rows("pose") == ()
    for table in tables:
        assert table.label == LABEL == "published, not measured here"
        assert "@" in table.source and table.source.split()[-1].endswith(".png")
        for method, row in table.rows.items():
            assert set(row) == set(table.columns), (table.paper, method)
        named = [c for c, how in table.columns.items() if how is not None and c in METRICS]
        assert {"identity-deg", "lmd", "fid"} <= set(named)


def test_metrics_command_prints_definition_and_licence(capsys):
    from fsr.__main__ import main

    assert main(["metrics"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("musiq "))
    assert "paper" in line and "PolyForm-Noncommercial-1.0.0" in line
    assert "fsr" in next(x for x in out.splitlines() if x.startswith("lmd-dlib68 "))
