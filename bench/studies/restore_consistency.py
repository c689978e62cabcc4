"""Whole-photo consistency of `fsr.restore`: does the restored photo, scaled back to the input's
size, still show the input's faces?

    uv run python bench/studies/restore_consistency.py                      # the demo's photos
    uv run python bench/studies/restore_consistency.py a.jpg --methods sam3d-x4-samples

For each photo and method: ``restore(photo, method)`` -> output photo -> resized (antialiased
bicubic, fsr.data.degradations.resize) to the input's size -> PSNR against the input inside
each detected face box ("face") and over every pixel outside all boxes ("elsewhere"). A method
that shrank a face below its size in the photo cannot reproduce it: that face scores low.
Methods whose weights are not on this machine are listed as skipped. Prints one row per face.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = [ROOT / "demo" / "examples" / n for n in ("multi_face.jpg", "t1.jpg", "obama.jpg",
                                                     "astronaut.png")]
METHODS = ["bicubic-x4", "sam3d-x4-samples", "sam3d-x8-samples", "mmrb-sg2-128-samples",
           "realesrgan-x4plus", "gfpgan-v1.4"]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def back_to_input(out: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    from fsr.data.degradations import resize

    return (resize(out.astype(np.float32) / 255, shape[:2]) * 255).round().astype(np.uint8)


class DetectOnce:
    """One detection per photo for all methods (FacePipeline accepts a detector object)."""

    def __init__(self, name: str) -> None:
        from fsr.face.detectors import create_detector

        self.det = create_detector(name)
        self.name, self.default_threshold = self.det.name, self.det.default_threshold
        self._key, self._out = None, None

    def detect_faces(self, img_bgr, conf_threshold=None, **_):
        key = (img_bgr.shape, hash(img_bgr.tobytes()), conf_threshold)
        if key != self._key:
            self._key, self._out = key, self.det.detect_faces(img_bgr, conf_threshold)
        return self._out.copy()


def rows_for(photo: Path, method: str, detector, extra: dict) -> list[dict]:
    from fsr.imageio import read_image
    from fsr.restore import restore

    img = read_image(photo)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = restore(img, method, detector=detector, check=False, **extra)
    took = time.perf_counter() - t0
    back = back_to_input(res.image, img.shape)
    h, w = img.shape[:2]
    outside = np.ones((h, w), bool)
    boxes = []
    for f in res.faces:
        x1, y1 = max(int(np.floor(f.box[0])), 0), max(int(np.floor(f.box[1])), 0)
        x2, y2 = min(int(np.ceil(f.box[2])), w), min(int(np.ceil(f.box[3])), h)
        boxes.append((x1, y1, x2, y2))
        outside[y1:y2, x1:x2] = False
    rest = psnr(back[outside], img[outside])
    rows = []
    for i, (f, (x1, y1, x2, y2)) in enumerate(zip(res.faces, boxes, strict=True), 1):
        status = getattr(f, "status", "restored")
        rows.append({"photo": photo.name, "method": method, "face": i,
                     "face_px": int(round(min(x2 - x1, y2 - y1))),
                     "method_saw": f.input_crop.shape[0], "status": status,
                     "face_db": psnr(back[y1:y2, x1:x2], img[y1:y2, x1:x2]),
                     "elsewhere_db": rest, "out": f"{res.image.shape[1]}x{res.image.shape[0]}",
                     "seconds": took})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("photos", nargs="*", type=Path, default=PHOTOS)
    p.add_argument("--methods", nargs="+", default=METHODS)
    p.add_argument("--detector", default="auto")
    p.add_argument("--upscale", type=float, default=None)
    args = p.parse_args(argv)
    from fsr.methods import MethodError, load_method

    methods = []
    for name in args.methods:
        try:
            m = load_method(name)
            _ = m.net  # weights present?
            methods.append(name)
        except MethodError as err:
            print(f"skipped {name}: {str(err).splitlines()[0][:100]}")
    extra = {} if args.upscale is None else {"upscale": args.upscale}
    detector = DetectOnce(args.detector)
    print(f"{'photo':16} {'method':22} {'face':>4} {'face_px':>7} {'saw':>4} {'status':9} "
          f"{'face dB':>8} {'else dB':>8} {'output':>10} {'s':>6}")
    worst: dict[str, float] = {}
    for photo in args.photos:
        for name in methods:
            for r in rows_for(photo, name, detector, extra):
                worst[name] = min(worst.get(name, np.inf), r["face_db"])
                print(f"{r['photo'][:16]:16} {r['method'][:22]:22} {r['face']:>4} "
                      f"{r['face_px']:>7} {r['method_saw']:>4} {r['status'][:9]:9} "
                      f"{r['face_db']:8.2f} {r['elsewhere_db']:8.2f} {r['out']:>10} "
                      f"{r['seconds']:6.1f}", flush=True)
    print("worst face PSNR per method: " + ", ".join(f"{k} {v:.2f} dB" for k, v in worst.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
