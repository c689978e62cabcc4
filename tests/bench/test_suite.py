"""Suite validation: one name per concept, and an older spelling is one line naming today's."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsr.bench import BenchError
from fsr.bench.inputs.suite import PRIOR_SOURCES, SCORES, SuiteMetric, load_suite, parse_suite

RAW = {"name": "s", "datasets": [{"name": "f", "type": "folder", "path": "faces"}],
       "tasks": [{"name": "sr-x4", "kind": "sr", "scale": 4, "size": 128,
                  "degradation": {"type": "bicubic", "scale": 4}}],
       "metrics": ["psnr", {"name": "identity", "against": "input"}]}


def _parse(**extra):
    return parse_suite(RAW | extra, Path("s.yml"))


def test_prior_uses_trainings_names():
    from fsr.data.pair_base import PRIOR_SOURCES as TRAINING

    assert PRIOR_SOURCES == tuple(TRAINING)
    assert not _parse().oracle_prior and not _parse(prior="degraded").oracle_prior
    assert _parse(prior="oracle").oracle_prior
    assert _parse().to_dict()["prior"] == "degraded"


@pytest.mark.parametrize("extra, needle", [
    ({"prior": "degraded-input"}, "prior 'degraded-input' is now called 'degraded'"),
    ({"prior": "gt"}, "prior must be one of degraded, oracle, got 'gt'"),
    ({"score": "ntire2024"}, "score must be one of ntire2025 (or absent), got 'ntire2024'"),
])
def test_bad_or_old_values_are_one_line(extra, needle):
    with pytest.raises(BenchError, match="^suite s.yml: ") as err:
        _parse(**extra)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_the_old_dataset_key_is_one_line():
    raw = {k: v for k, v in RAW.items() if k != "datasets"} | {"dataset": RAW["datasets"][0]}
    with pytest.raises(BenchError, match=r"`dataset:` is now `datasets:` \(a list\)"):
        parse_suite(raw, Path("s.yml"))


def test_score_is_a_validated_field():
    assert _parse().score is None
    assert _parse(score="ntire2025").score == "ntire2025" and SCORES == ("ntire2025",)
    assert load_suite("ntire-realworld").score == "ntire2025"
    assert load_suite("pose").score is None


def test_suite_metrics_name_their_column():
    suite = _parse()
    assert suite.metrics == [SuiteMetric("psnr"), SuiteMetric("identity", "input")]
    assert [m.column for m in suite.metrics] == ["psnr", "identity-vs-input"]
