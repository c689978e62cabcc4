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
