"""Drive the app in a headless Chromium (Playwright): used by the end-to-end test and to make
the screenshot in docs/demo.png.

    python -m demo.browser docs/demo.png --photo demo/examples/t1.jpg \\
        --methods bicubic-x4 realesrgan-x4plus

Starts the app (``python -m demo.app``) on a free loopback port in a subprocess, uploads the photo, ticks
exactly the given methods, presses Compare and waits for the slider and the gallery.
Chromium is the system one (``FSR_CHROMIUM``, default /usr/bin/chromium), never downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("FSR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(port: int | None = None, timeout: float = 300.0, log: str | os.PathLike | None = None,
          env: dict[str, str] | None = None):
    """Run the app (``python -m demo.app``) in a subprocess on 127.0.0.1 with ``env`` added to
    the environment; yields its URL, stops it afterwards."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/"
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "demo.app", "--port", str(port)],
                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with code {proc.returncode} before serving")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the app did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def select_methods(page, methods: list[str]) -> None:
    """Tick exactly ``methods`` in the Methods checkbox group."""
    labels = page.locator("#methods label")
    for i in range(labels.count()):
        label = labels.nth(i)
        box = label.locator("input")
        if box.is_checked() != (label.inner_text().strip() in methods):
            box.click()


def wait_images(page, selectors=("#slider", "#grid"), timeout_s: float = 30.0) -> None:
    """Wait until every <img> under ``selectors`` exists and has finished loading."""
    page.wait_for_function(
        """sels => sels.every(s => {
            const imgs = [...document.querySelectorAll(s + ' img')];
            return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
        })""", arg=list(selectors), timeout=timeout_s * 1000)


MODE_LABELS = {"auto": "Auto", "simulate": "Simulate a", "native": "My photo is the"}


def run_comparison(page, url: str, photo: str | os.PathLike, methods: list[str],
                   timeout_s: float = 240.0, mode: str | None = None) -> float:
    """Load the page, upload ``photo``, choose ``methods`` (and the input ``mode``: 'auto',
    'simulate', 'native'), press Compare; seconds until the slider and the gallery show images."""
    page.goto(url)
    page.wait_for_selector("#run")
    page.set_input_files("#input-image input[type=file]", str(photo))
    page.wait_for_selector("#input-image img")
    select_methods(page, methods)
    if mode is not None:
        page.locator("#mode label", has_text=MODE_LABELS[mode]).click()
    start = time.monotonic()
    page.click("#run")
    for sel in ("#slider img", "#grid img"):
        # attached first: the images are lazy, and a long status can push them below the fold
        page.wait_for_selector(sel, state="attached", timeout=timeout_s * 1000)
        page.locator(sel).first.scroll_into_view_if_needed()
        page.wait_for_selector(sel, timeout=timeout_s * 1000)
    wait_images(page)
    return time.monotonic() - start


def main(argv: list[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description="screenshot of the app on a real photo")
    p.add_argument("out", help="PNG to write, e.g. docs/demo.png")
    p.add_argument("--photo", default=str(ROOT / "demo" / "examples" / "t1.jpg"))
    p.add_argument("--methods", nargs="+", default=["bicubic-x4", "realesrgan-x4plus"])
    p.add_argument("--face", type=int, default=1, help="face shown in the slider and gallery")
    p.add_argument("--show", help="method shown in the slider (default: the first)")
    p.add_argument("--mode", choices=sorted(MODE_LABELS), default=None,
                   help="input mode (default: the page's, auto)")
    args = p.parse_args(argv)
    with serve() as url, sync_playwright() as pw:
        browser = launch_browser(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        seconds = run_comparison(page, url, args.photo, args.methods, mode=args.mode)
        if args.face != 1:
            page.click("#face input")
            page.get_by_role("option").nth(args.face - 1).click()
            page.wait_for_function(  # the dropdown shows the chosen face
                "n => document.querySelector('#face input').value.startsWith('face ' + n)",
                arg=args.face)
        if args.show:
            page.click("#shown input")
            page.get_by_role("option", name=args.show, exact=True).click()
        page.wait_for_timeout(1500)
        wait_images(page, ("#slider", "#grid", "#annotated")
                    + (("#photos",) if page.locator("#photos img").count() else ()))
        page.screenshot(path=args.out, full_page=True)
        browser.close()
    print(f"{args.out}: {Path(args.photo).name} with {', '.join(args.methods)}; "
          f"Compare -> slider and gallery shown in {seconds:.1f} s")


if __name__ == "__main__":
    main()
