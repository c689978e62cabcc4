#!/usr/bin/env python
"""Time one app request (demo.compare.compare) on a one-face and a five-face photo.

    python bench/demo_latency.py                                   # bicubic-x4 + lanczos-x4
    python bench/demo_latency.py --methods bicubic-x4 realesrgan-x4plus --repeats 5
    python bench/demo_latency.py --http                            # through the Gradio server

A request = read the photo, detect faces once, per method: align, restore, estimate pose,
paste back into the x4 photo; then write crops (PNG), photos (JPEG) the CSV and the zip.
One warm-up request first (imports, detector and network weights loading) is reported
apart; then ``--repeats`` timed requests per photo: median, min and max wall seconds.
``--http`` times the same request through a local app server with gradio_client (adds the
upload, the queue and Gradio's encoding of the outputs; no browser rendering).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHOTOS = {"1 face": ROOT / "demo" / "examples" / "astronaut.png",
          "5 faces": ROOT / "demo" / "examples" / "multi_face.jpg"}


def _direct(photo: Path, methods: list[str], mode: str = "auto") -> tuple[float, dict]:
    from demo.compare import compare

    t0 = time.perf_counter()
    res = compare(str(photo), methods, mode=mode)
    return time.perf_counter() - t0, res


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=["bicubic-x4", "lanczos-x4"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--http", action="store_true", help="through a local app server")
    p.add_argument("--mode", default="auto", choices=["auto", "simulate", "native"],
                   help="the app's input mode (auto: simulate when faces exceed the input)")
    args = p.parse_args(argv)

    import torch

    print(f"torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}; methods {', '.join(args.methods)}")
    if args.http:
        from gradio_client import Client, handle_file

        from demo.browser import serve

        with serve() as url:
            client = Client(url, verbose=False)

            def run(photo):
                t0 = time.perf_counter()
                out = client.predict(handle_file(str(photo)), False, args.methods, None, 0.5,
                                     args.mode, api_name="/on_run")
                return time.perf_counter() - t0, {"faces": out[0]}

            _report(run, args)
        return
    _report(lambda photo: _direct(photo, args.methods, args.mode), args)


def _report(run, args) -> None:
    warm, _ = run(PHOTOS["1 face"])
    print(f"warm-up request (imports, weights): {warm:.2f} s")
    for what, photo in PHOTOS.items():
        times, res = [], None
        for _ in range(args.repeats):
            seconds, res = run(photo)
            times.append(seconds)
        detail = ""
        if "seconds" in res:
            n = len(res["faces"])
            detail = (f"; mode {res.get('mode')}; {n} face(s) detected; per method (incl. detection the first time): "
                      + ", ".join(f"{m} {s:.2f} s" for m, s in res["seconds"].items()))
        print(f"{what} ({photo.name}): median {statistics.median(times):.2f} s, min "
              f"{min(times):.2f}, max {max(times):.2f} over {len(times)} requests{detail}")


if __name__ == "__main__":
    main()
