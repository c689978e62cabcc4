"""The dependency files agree: requirements.txt (for pip users and Spaces) is uv.lock exported."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {_norm(p["name"]): p["version"] for p in lock["package"] if "version" in p}


def test_requirements_pins_equal_the_lock():
    locked = _locked_versions()
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[_norm(match[1])] = match[2]
    assert len(pins) > 50
    wrong = {name: (v, locked.get(name)) for name, v in pins.items() if locked.get(name) != v}
    assert not wrong, f"requirements.txt disagrees with uv.lock (re-export, see README): {wrong}"


def test_every_direct_dependency_is_locked_and_required():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = _locked_versions()
    reqs = (ROOT / "requirements.txt").read_text()
    for dep in project["dependencies"]:
        name = _norm(re.split(r"[=<>!~\[ ;]", dep, maxsplit=1)[0])
        assert name in locked, f"{name} is not in uv.lock"
        assert re.search(rf"^{re.escape(name)}==", reqs, re.M | re.I) or re.search(
            rf"^{re.escape(name).replace('-', '[-_]')}==", reqs, re.M | re.I
        ), f"{name} is not in requirements.txt"


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
def test_requirements_is_exactly_the_uv_export():
    out = subprocess.run(
        ["uv", "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and not line.startswith("#")]
    assert body(out) == body((ROOT / "requirements.txt").read_text())


def test_every_fsr_package_is_packaged():
    """pyproject lists the packages (setuptools finds no mapped ones): the list is the tree's."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.relative_to(ROOT).parent.parts) for p in (ROOT / "fsr").rglob("__init__.py")}
    mapped = set(tool["package-dir"])
    assert set(tool["packages"]) == found | mapped
    assert {k: ROOT / v for k, v in tool["package-dir"].items()} == {
        "fsr.weights": ROOT / "weights", "fsr.samples": ROOT / "samples"}


def test_bundled_data_comes_through_importlib_resources(monkeypatch):
    from importlib import resources

    from fsr.assets.resolver import bundled_dir
    from fsr.data.samples import samples_dir

    monkeypatch.delenv("FSR_BUNDLED_DIR", raising=False)
    monkeypatch.delenv("FSR_SAMPLES_DIR", raising=False)
    assert bundled_dir() == Path(str(resources.files("fsr.weights"))) == ROOT / "weights"
    assert samples_dir() == Path(str(resources.files("fsr.samples"))) == ROOT / "samples"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
def test_wheel_ships_the_weights_and_the_sample_set(tmp_path):
    """The wheel `pip install .` would install holds every committed weight, model card and
    sample crop (so an installed fsr lists the bundled methods)."""
    import zipfile

    proc = subprocess.run(["uv", "build", "--wheel", "--out-dir", str(tmp_path), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("fsr-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    committed = subprocess.run(["git", "ls-files", "weights", "samples"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split()
    assert len(committed) > 200
    missing = [f for f in committed if "fsr/" + f not in names]
    assert not missing, f"not in the wheel: {missing[:5]}"


def test_face_synthesis_sits_above_pose_and_priors():
    """fsr.synth imports fsr.pose and fsr.priors; neither imports it back (no upward import)."""
    below = [p for d in ("pose", "priors") for p in (ROOT / "fsr" / d).rglob("*.py")]
    upward = [str(p.relative_to(ROOT)) for p in below
              if re.search(r"^\s*(from|import)\s+fsr\.synth\b", p.read_text(), re.M)]
    assert not upward, f"fsr.pose / fsr.priors import fsr.synth: {upward}"
    assert not (ROOT / "fsr" / "pose" / "profile.py").exists()
