"""One leaderboard from many runs (fsr.bench.report.runs, leaderboard/make.py RUN [RUN ...]): shards
merge into the single run, a changed protocol is refused with one line naming the part, and
one method with two sets of numbers is an error."""

from __future__ import annotations

import json
import shutil

import pytest
from bench_testing import REPO, load_script, run_bench, write_face_suite
from test_bench_run import FACES
from test_bench_run import SUITE as TINY

SUITE = TINY + "face_pipeline: false\n"  # the tiny suite of test_bench_run, no detector


def make(*args: str) -> int:
    return load_script("leaderboard_make", REPO / "leaderboard" / "make.py").main(list(args))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("merge")
    faces = {n: REPO / "samples" / "crops" / f"{n}-0.png" for n in FACES}
    suite = write_face_suite(root, SUITE, faces, 96)
    out = {"suite": suite}
    for name, extra in (("one", ()), ("a", ("--shard", "1/2")), ("b", ("--shard", "2/2")),
                        ("x4", ("--methods", "bicubic-x4,lanczos-x4")),
                        ("x8", ("--methods", "bicubic-x8,lanczos-x8", "--by", "a tester"))):
        out[name] = root / name
        assert run_bench("--suite", str(suite), "--out", str(out[name]), *extra) == 0
    return out


def test_two_shards_merge_into_the_single_run(runs, tmp_path):
    from fsr.bench.report.runs import merge_runs

    merged = merge_runs([runs["a"], runs["b"]], tmp_path / "m")
    for name in ("results.csv", "summary.csv"):
        assert (tmp_path / "m" / name).read_bytes() == (runs["one"] / name).read_bytes(), name
    assert [s["run"] for s in merged["sources"]] == ["a", "b"]
    assert "recombined from per-image results" in merged["merge_notes"][0]


def test_runs_of_different_methods_merge_with_their_sources(runs, tmp_path, capsys):
    out = tmp_path / "LEADERBOARD.md"
    assert make(str(runs["x4"]), str(runs["x8"]), "-o", str(out),
                "--tables", str(tmp_path / "t")) == 0
    page = out.read_text()
    one = (runs["one"] / "summary.csv").read_text().splitlines()
    merged = (tmp_path / "t" / "summary.csv").read_text().splitlines()
    assert sorted(one) == sorted(merged)  # every method's rows, each from its run
    assert "a tester" in page and "Source runs" in page
    proto = json.loads((runs["x4"] / "manifest.json").read_text())["protocol"]
    assert proto["faces/sr-x4"]["fingerprint"] in page


def test_changed_degradation_is_refused_in_one_line(runs, tmp_path, capsys):
    changed = tmp_path / "changed.yml"
    changed.write_text(runs["suite"].read_text().replace("{type: bicubic, scale: 8}",
                                                         "{type: bicubic, scale: 8, blur: 1}"))
    other = tmp_path / "changed"
    assert run_bench("--suite", str(changed), "--out", str(other),
                     "--methods", "bicubic-x8,lanczos-x8") == 0
    capsys.readouterr()
    assert make(str(runs["x8"]), str(other), "-o", str(tmp_path / "L.md")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["leaderboard: error: faces/sr-x8: run changed's degradation differs from "
                   "run x8's"]


def test_one_method_two_sets_of_numbers_is_an_error(runs, tmp_path, capsys):
    import pandas as pd

    other = tmp_path / "edited"
    shutil.copytree(runs["x4"], other)
    s = pd.read_csv(other / "summary.csv")
    s.loc[(s.method == "lanczos-x4") & (s.metric == "psnr"), "mean"] += 0.01
    s.to_csv(other / "summary.csv", index=False)
    capsys.readouterr()
    assert make(str(runs["x4"]), str(other), "-o", str(tmp_path / "L.md")) == 2
    err = capsys.readouterr().err.strip()
    assert "method lanczos-x4 on faces/sr-x4: run edited gives psnr" in err
    assert len(err.splitlines()) == 1


def test_run_without_protocol_is_refused(runs, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(runs["x4"], old)
    man = json.loads((old / "manifest.json").read_text())
    del man["protocol"]
    (old / "manifest.json").write_text(json.dumps(man))
    capsys.readouterr()
    assert make(str(runs["x8"]), str(old)) == 2
    assert "no protocol fingerprint" in capsys.readouterr().err
