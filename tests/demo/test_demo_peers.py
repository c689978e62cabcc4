"""The demo's peers (GFPGAN v1.4, CodeFormer, RetinaFace, ParseNet): fetched at start when
online, reported with how to add them when not; never fetched offline. And the fidelity slider."""

import pytest

import fsr.assets
from demo import peers
from demo.peers import PEERS, fetch_peers, peers_line, peers_markdown, with_fidelity


@pytest.fixture
def empty_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FSR_HOME", str(tmp_path / "home"))
    for asset, _ in PEERS:
        monkeypatch.delenv(fsr.assets.env_var(asset), raising=False)
    return tmp_path


def _no_download(name, path=None):
    raise AssertionError(f"offline start tried to resolve {name}")


def test_offline_start_downloads_nothing_and_says_how_to_add(empty_home, monkeypatch):
    monkeypatch.setenv("FSR_OFFLINE", "1")
    monkeypatch.setattr(fsr.assets, "resolve", _no_download)
    user = empty_home / "my_codeformer.pth"
    user.write_bytes(b"a user's copy")
    monkeypatch.setenv("FSR_ASSET_CODEFORMER", str(user))
    report = {p.asset: p for p in fetch_peers()}
    assert set(report) == {"gfpgan-v1.4", "codeformer", "retinaface-resnet50", "parsenet"}
    assert report["codeformer"].ok and report["codeformer"].detail == "ok (user path)"
    gfpgan = report["gfpgan-v1.4"]
    assert not gfpgan.ok and gfpgan.detail.startswith("offline: download https://github.com/")
    assert str(empty_home / "home" / "assets" / "GFPGANv1.4.pth") in gfpgan.detail
    assert "FSR_ASSET_GFPGAN_V1_4" in gfpgan.detail
    text = peers_markdown(list(report.values()))
    assert text.startswith("**Missing peers:**") and "GFPGAN v1.4" in text
    assert "`codeformer`" not in text and "`parsenet`" in text
    assert "python -m fsr assets fetch retinaface-resnet50" in text
    line = peers_line(list(report.values()))  # the page's first screen: one short line
    assert line.count("\n") == 0 and len(line) < 250 and "/" not in line
    assert "GFPGAN v1.4, RetinaFace, ParseNet" in line and "CodeFormer" not in line
    assert peers_line([p for p in report.values() if p.ok]) == ""


def test_online_start_resolves_each_missing_peer_and_survives_failures(empty_home, monkeypatch):
    monkeypatch.delenv("FSR_OFFLINE", raising=False)
    asked = []

    def fake_resolve(name, path=None):
        asked.append(name)
        if name == "codeformer":
            raise fsr.assets.AssetError("asset 'codeformer' (codeformer.pth, sha256 1009e5) is "
                                        "not available [url: HTTPError 404]: put it at X")
        return empty_home / name

    monkeypatch.setattr(fsr.assets, "resolve", fake_resolve)
    report = {p.asset: p for p in fetch_peers()}
    assert asked == [a for a, _ in PEERS]  # through fsr.assets: official URL + sha256 check
    assert report["gfpgan-v1.4"].ok and report["gfpgan-v1.4"].detail.startswith("fetched to ")
    assert not report["codeformer"].ok and "could not be fetched" in report["codeformer"].detail
    assert "`codeformer`" in peers_markdown(list(report.values()))
    assert peers_markdown([p for p in report.values() if p.ok]) == ""


def test_peer_assets_are_official_rows():
    rows = {a: fsr.assets.ASSETS[a] for a, _ in PEERS}
    assert all(r.urls and r.urls[0].startswith("https://github.com/") for r in rows.values())
    assert rows["codeformer"].sha256 and len(rows["codeformer"].sha256) == 64


def test_with_fidelity():
    assert with_fidelity(["codeformer-w0.5", "gfpgan-v1.4"], 0.3) == ["codeformer-w0.3", "gfpgan-v1.4"]
    assert with_fidelity(["codeformer-w0.5"], 1.7) == ["codeformer-w1.0"]
    assert with_fidelity(["codeformer-w0.5"], 0) == ["codeformer-w0.0"]
    assert with_fidelity(["bicubic-x4"], 0.3) == ["bicubic-x4"]
    assert peers.CODEFORMER_PREFIX == "codeformer-w"


@pytest.mark.slow
def test_page_has_the_slider_and_the_missing_peers(empty_home, monkeypatch):
    monkeypatch.setenv("FSR_OFFLINE", "1")
    from demo import app

    report = fetch_peers()
    demo = app.build_demo(report)
    blocks = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
    slider = blocks["fidelity"]
    assert (slider.minimum, slider.maximum, slider.value) == (0, 1, 0.5)
    assert "Not on this server" in blocks["peers"].value  # one line; the list is collapsed
    assert "Missing peers" in blocks["peers-details"].children[0].value
    # a CodeFormer method is run at the slider's w: the compare call gets codeformer-w<w>
    seen = {}

    def fake_compare(image, methods, *args, **kwargs):
        seen["methods"] = methods
        raise app.DemoError("stop here")

    monkeypatch.setattr(app, "compare", fake_compare)
    status = app.on_run(None, True, ["codeformer-w0.5", "bicubic-x4"], None, 0.85)[0]
    assert seen["methods"] == ["codeformer-w0.85", "bicubic-x4"] and "stop here" in status
