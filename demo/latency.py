"""Time the app: one request (demo.compare.compare) on a one-face and a five-face photo, or many
visitors at once through the Gradio server.

    python -m demo.latency                                         # bicubic-x4 + lanczos-x4
    python -m demo.latency --methods bicubic-x4 sam3d-x4-samples --repeats 5
    python -m demo.latency --http                                  # through the Gradio server
    python -m demo.latency --concurrent 20 --methods bicubic-x4 sam3d-x4-samples

A request = read the photo, detect faces once, per method: align, restore, estimate pose,
paste back into the x4 photo; then write crops (PNG), photos (JPEG) the CSV and the zip.
One warm-up request first (imports, detector and network weights loading) is reported
apart; then ``--repeats`` timed requests per photo: median, min and max wall seconds.
``--http`` times the same request through a local app server with gradio_client (adds the
upload, the queue and Gradio's encoding of the outputs; no browser rendering).
``--concurrent N``: after one warm-up request, N clients send the five-face photo at the same
moment to a local server (its queue as the app configures it, or ``--queue-size`` /
``--concurrency-limit``); prints how many were served and rejected, p50/p95 latency of the
served ones, and whether any answer carried a traceback. The machine's load average is
printed before and after: on shared cores the numbers are upper bounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
ROOT = Path(__file__).resolve().parents[1]

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
    p.add_argument("--concurrent", type=int, default=0, metavar="N",
                   help="N visitors at once through a local server (five-face photo)")
    p.add_argument("--queue-size", type=int, help="the server's queue size (default: the app's)")
    p.add_argument("--concurrency-limit", type=int,
                   help="requests the server runs at once (default: the app's)")
    args = p.parse_args(argv)
    if args.concurrent < 0 or args.repeats < 1:
        p.error("--concurrent must be >= 0 and --repeats >= 1")

    import torch

    print(f"torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}; methods {', '.join(args.methods)}")
    if args.concurrent:
        _concurrent(args)
        return
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


def _concurrent(args) -> None:
    """N clients (N sessions, as N visitors) submit the five-face photo at the same moment."""
    import threading

    from gradio_client import Client, handle_file

    from demo.browser import serve

    env = {}
    if args.queue_size is not None:
        env["FSR_DEMO_QUEUE_SIZE"] = str(args.queue_size)
    if args.concurrency_limit is not None:
        env["FSR_DEMO_CONCURRENCY"] = str(args.concurrency_limit)
    photo = PHOTOS["5 faces"]
    call = (False, args.methods, None, 0.5, args.mode)
    with serve(env=env) as url:
        first = Client(url, verbose=False)
        t0 = time.perf_counter()
        first.predict(handle_file(str(photo)), *call, api_name="/on_run")
        print(f"warm-up request: {time.perf_counter() - t0:.1f} s", flush=True)
        clients = [Client(url, verbose=False) for _ in range(args.concurrent)]
        results: list[tuple[str, float, str]] = [("", 0.0, "")] * args.concurrent
        start = threading.Barrier(args.concurrent)

        def visit(i: int) -> None:
            start.wait()
            t = time.perf_counter()
            try:
                out = clients[i].predict(handle_file(str(photo)), *call, api_name="/on_run")
                status = str(out[0])
                kind = "served" if status.startswith("**Done") else "error"
                results[i] = (kind, time.perf_counter() - t, status[:200])
            except Exception as err:  # noqa: BLE001 - what the visitor got, counted below
                kind = "rejected" if "queue is full" in str(err).lower() else "failed"
                results[i] = (kind, time.perf_counter() - t, f"{type(err).__name__}: {err}"[:300])

        load0 = os.getloadavg()[0]
        t = time.perf_counter()
        threads = [threading.Thread(target=visit, args=(i,)) for i in range(args.concurrent)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t
    served = sorted(s for k, s, _ in results if k == "served")
    counts = {k: sum(r[0] == k for r in results) for k in ("served", "rejected", "error", "failed")}
    traceback = sum("Traceback" in text for _, _, text in results)
    p50 = statistics.median(served) if served else float("nan")
    p95 = served[min(len(served) - 1, int(round(0.95 * (len(served) - 1))))] if served else float("nan")
    print(f"{args.concurrent} visitors at once ({photo.name}, {', '.join(args.methods)}, mode "
          f"{args.mode}): served {counts['served']}, rejected (queue full) {counts['rejected']}, "
          f"page error {counts['error']}, failed {counts['failed']}; latency of the served: p50 "
          f"{p50:.1f} s, p95 {p95:.1f} s, max {max(served, default=float('nan')):.1f} s; all done "
          f"in {wall:.1f} s; answers with a traceback: {traceback}; load average {load0:.1f} -> "
          f"{os.getloadavg()[0]:.1f}")
    for kind, _, text in results:
        if kind in ("error", "failed"):
            print(f"  {kind}: {text}")


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
