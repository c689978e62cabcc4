"""End to end: the app in a subprocess, driven by a real headless Chromium through Playwright."""

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from demo.browser import CHROMIUM, launch_browser, run_comparison, serve, wait_images

EXAMPLES = Path(__file__).resolve().parents[2] / "demo" / "examples"
PHOTO = EXAMPLES / "multi_face.jpg"  # five ~100 px faces: larger than the 32 px input
LARGE_FACE = EXAMPLES / "astronaut.png"  # one 170 px (aligned) face

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(480)]


def _need_browser():
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev group)")
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set FSR_CHROMIUM)")


def _fetch_request_assets():
    """The served app never downloads (FSR_OFFLINE=1): fetch what a photo request needs."""
    from fsr.assets import AssetError, resolve

    for name in ("mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet", "mediapipe-face-landmarker"):
        try:
            resolve(name)
        except AssetError as err:
            pytest.skip(f"asset unavailable: {err}")


def test_compare_two_methods_in_browser(tmp_path):
    _need_browser()
    _fetch_request_assets()
    from playwright.sync_api import sync_playwright

    with serve(log=tmp_path / "app.log") as url, sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            outside = []  # the page must not reach anything but the app itself
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith((url, "data:", "blob:")) else None)

            page.goto(url)
            page.wait_for_selector("#run")
            # missing peers: one short line; the how-to (cache paths, URLs) stays collapsed
            peers = page.inner_text("#peers")
            assert len(peers) < 250 and "/" not in peers, peers
            if "Not on this server" in peers:
                assert page.locator("#peers-details").count() == 1
                assert not page.get_by_text("python -m fsr assets fetch").first.is_visible()
            page.click("#run")  # nothing uploaded: a readable message, not a traceback
            page.wait_for_function(
                "() => document.querySelector('#status').innerText.includes('Error')")
            assert "no image" in page.inner_text("#status")
            half = tmp_path / "half.jpg"  # a truncated upload: read_image's message
            half.write_bytes(PHOTO.read_bytes()[:60000])
            page.set_input_files("#input-image input[type=file]", str(half))
            page.click("#run")
            page.wait_for_function(
                "() => document.querySelector('#status').innerText.includes('half.jpg')")
            assert "cannot decode image data" in page.inner_text("#status")

            # the default (auto) on faces larger than the input: the benchmark on this photo
            run_comparison(page, url, PHOTO, ["bicubic-x4", "lanczos-x4"])
            status = page.inner_text("#status")
            assert "Done: 5 faces, simulated capture, 2 method(s)" in status, status
            assert "Mode: simulated" in status.splitlines()[0]  # on the status line
            assert page.locator(".toast-body").count() == 0  # no toast over the result
            box = page.locator("#slider").bounding_box()  # the pair fits the screen
            assert box and box["height"] <= 520 and box["width"] >= 300, box
            assert page.locator("#slider img").count() == 2  # ground truth | method
            captions = page.locator("#grid").inner_text()
            assert page.locator("#grid img").count() == 4  # ground truth, input, two methods
            assert "ground truth (128 px" in captions and "input (32 px" in captions
            assert "bicubic-x4" in captions and "lanczos-x4" in captions
            table = page.locator("#table").inner_text()
            assert "lanczos-x4" in table and "psnr" in table and "lpips" in table
            assert "sr-x4" in table  # the benchmark task that made the input
            notes = page.inner_text("#face-notes")
            assert "face 1:" in notes and "simulated" in notes and "psnr" in notes, notes
            links = page.eval_on_selector_all("#files a", "as => as.map(a => a.href)")
            zips = [h for h in links if h.split("?")[0].endswith("fsr-results.zip")]
            assert zips and any(h.split("?")[0].endswith("results.csv") for h in links), links
            body = page.request.get(zips[0]).body()  # the download itself
            names = zipfile.ZipFile(io.BytesIO(body)).namelist()
            assert "results.csv" in names and "faces/face05_lanczos-x4.png" in names
            sizes = page.eval_on_selector_all(
                "#slider img", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
            assert sizes == [[384, 384], [384, 384]]  # 128 px enlarged 3x, pixel for pixel

            page.click("#face input")  # another face: the slider follows
            page.get_by_role("option").nth(4).click()
            page.wait_for_function(
                "() => document.querySelector('#face input').value.startsWith('face 5')")

            # the photo itself as input: a face larger than SAM3D's 32 px input is kept
            run_comparison(page, url, LARGE_FACE, ["sam3d-x4-samples"], mode="native")
            status = page.inner_text("#status")
            assert "Done: 1 face, your photo as input, 1 method(s)" in status, status
            notes = page.inner_text("#face-notes")
            assert "> 32 px input of sam3d-x4-samples: kept" in notes, notes
            assert "sam3d-x4-samples: kept" in page.locator("#grid").inner_text()
            assert page.locator("#photos img").count() == 1
            assert "kept" in page.locator("#table").inner_text()
            page.get_by_role("tab", name="Benchmark").click()
            wait_images(page, ("#yaw-plot",))  # the per-yaw plot, loaded
            assert page.eval_on_selector("#yaw-plot img", "i => i.naturalWidth") > 1000
            board = page.locator("#leaderboard").inner_text()
            assert "LEADERBOARD.md" in board or "leaderboard/make.py" in board
            assert outside == []
        finally:
            browser.close()
