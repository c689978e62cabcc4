"""`--batch-size` of `python -m fsr restore` and fsr.restore.restore_many: outputs do not
depend on the batch, bad values are one line, resume and per-file failures still work.

Inputs are real: the sample crops in samples/crops (256 px, some resized here to make mixed
sizes) and demo/examples/multi_face.jpg; methods: interpolation and the bundled networks."""

from pathlib import Path

import numpy as np
import pytest

from fsr.__main__ import main
from fsr.imageio import read_image, write_image
from fsr.restore import RestoreError, restore_many
from fsr.restore.common import resize_uint8, run_crops, run_each

ROOT = Path(__file__).resolve().parents[1]
CROPS = ROOT / "samples" / "crops"
NAMES = ["lenna-0.png", "biden-0.png", "SeanConnery-0.png", "0-f1-su-ph-0.png",
         "45-m7-di-ph-0.png"]
GROUP = ROOT / "demo" / "examples" / "multi_face.jpg"  # real, five ~100 px faces


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """Five real aligned crops at 256, 128, 64, 256 and 96x80 px (one folder, one subfolder)."""
    src = tmp_path_factory.mktemp("crops")
    sizes = [(256, 256), (128, 128), (64, 64), (256, 256), (96, 80)]
    for i, (name, size) in enumerate(zip(NAMES, sizes, strict=True)):
        img = read_image(CROPS / name)
        img = img if img.shape[:2] == size else resize_uint8(img, size)
        write_image(src / ("sub" if i == 4 else "") / name, img)
    return src


def _cli(capsys, *args) -> tuple[int, str]:
    code = main(["restore", *map(str, args)])
    got = capsys.readouterr()
    return code, got.out + got.err


def _outputs(folder: Path) -> dict[str, np.ndarray]:
    return {str(p.relative_to(folder)): read_image(p) for p in sorted(folder.rglob("*.png"))}


@pytest.mark.parametrize("method", ["bicubic-x4", "sam3d-x4-samples", "mmrb-sg2-128-samples"])
def test_batch_1_and_4_write_the_same_images(method, mixed, tmp_path, capsys):
    """Mixed-size crops through the command at --batch-size 1 and 4: the same files, pixel
    for pixel within 1/255 (float rounding); MMRB draws StyleGAN2 noise and must be exact
    (each image runs alone with its fixed seed)."""
    outs = {}
    for b in (1, 4):
        code, text = _cli(capsys, mixed, tmp_path / f"b{b}", "--method", method, "--aligned",
                          "--batch-size", b)
        assert code == 0, text
        outs[b] = _outputs(tmp_path / f"b{b}")
    assert sorted(outs[1]) == sorted(outs[4]) and len(outs[1]) == 5
    for name, one in outs[1].items():
        assert one.shape == outs[4][name].shape == (128, 128, 3)
        diff = np.abs(one.astype(int) - outs[4][name].astype(int)).max()
        assert diff == 0 if method.startswith("mmrb") else diff <= 1, (name, diff)


@pytest.mark.parametrize("value", ["0", "-1", "2.5", "eight"])
def test_bad_batch_size_is_one_line(value, tmp_path, capsys):
    code, text = _cli(capsys, CROPS / NAMES[0], tmp_path / "o.png", "--aligned",
                      f"--batch-size={value}")
    assert code == 2 and text.strip().count("\n") == 0, text
    assert f"--batch-size must be a whole number >= 1, got '{value}'" in text
    assert not (tmp_path / "o.png").exists()
    with pytest.raises(RestoreError, match="--batch-size"):
        restore_many([CROPS / NAMES[0]], "bicubic-x4", aligned=True, batch_size=0)


def test_run_groups_crops_by_size_and_keeps_their_order():
    """An any-size method gets one call per size (and per `batch` crops of it); every output
    is the crop's own, as if it had run alone."""
    from fsr.methods import load_method

    m = load_method("bicubic-x4")
    calls = []
    counted = _Wrapped(m, lambda lq: calls.append(tuple(lq.shape)))
    img = read_image(CROPS / NAMES[0])
    sides = [32, 16, 32, 24, 32, 16, 32]
    crops = [resize_uint8(np.roll(img, 7 * i, axis=1), (s, s)) for i, s in enumerate(sides)]
    outs = run_crops(counted, crops, batch=3)
    assert sorted(calls) == sorted([(3, 3, 32, 32), (1, 3, 32, 32), (2, 3, 16, 16),
                                    (1, 3, 24, 24)])
    for crop, out in zip(crops, outs, strict=True):
        (alone,) = run_crops(m, [crop], batch=1)
        assert out.shape == (crop.shape[0] * 4, crop.shape[1] * 4, 3)
        assert np.abs(out.astype(int) - alone.astype(int)).max() <= 1


def test_a_crop_the_method_rejects_fails_alone():
    from fsr.methods import MethodError, load_method

    m = load_method("bicubic-x4")
    crops = [resize_uint8(read_image(CROPS / n), (32, 32)) for n in NAMES[:4]]

    def reject(lq):  # one real crop is refused, as a network refusing an input would
        if any(np.array_equal(crops[2], c) for c in _uint8(lq)):
            raise MethodError("that face is not accepted")

    picky = _Wrapped(m, reject)
    outs = run_each(picky, crops, 4)
    assert [type(o).__name__ for o in outs] == ["ndarray", "ndarray", "MethodError", "ndarray"]


class _Wrapped:
    """A method that calls ``before(lq)`` first (to count or refuse batches)."""

    def __init__(self, method, before) -> None:
        self.method, self.before = method, before

    def __getattr__(self, name):
        return getattr(self.method, name)

    def __call__(self, lq, prior=None):
        self.before(lq)
        return self.method(lq, prior)


def _uint8(t) -> list[np.ndarray]:
    return [(x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for x in t]


def test_skip_existing_and_a_broken_file_with_batches(mixed, tmp_path, capsys):
    """A broken file in a batch fails alone (the others are written); --skip-existing then
    keeps what is there and writes only what is missing."""
    src = tmp_path / "in"
    for p in mixed.rglob("*.png"):
        (src / p.relative_to(mixed)).parent.mkdir(parents=True, exist_ok=True)
        (src / p.relative_to(mixed)).write_bytes(p.read_bytes())
    (src / "broken.png").write_bytes((CROPS / NAMES[0]).read_bytes()[:300])
    dst = tmp_path / "out"
    code, text = _cli(capsys, src, dst, "--aligned", "--batch-size", "4")
    assert code == 1 and "broken.png" in text and "1 of 6 image(s) failed" in text
    assert len(_outputs(dst)) == 5 and not (dst / "broken.png").exists()
    (dst / NAMES[0]).unlink()
    marker = np.zeros((8, 8, 3), np.uint8)
    write_image(dst / NAMES[1], marker)  # an existing result: must be left as it is
    (src / "broken.png").unlink()
    code, text = _cli(capsys, src, dst, "--aligned", "--batch-size", "4", "--skip-existing")
    assert code == 0, text
    assert read_image(dst / NAMES[0]).shape == (128, 128, 3)
    assert read_image(dst / NAMES[1]).shape == (8, 8, 3)
    assert text.count("face(s))") == 1  # only the missing file was restored


@pytest.mark.slow
def test_whole_photos_batch_faces_across_photos(tmp_path):
    """Two real photos with five small faces each (multi_face.jpg shrunk 6x and its mirror
    image): SAM3D x4 restores all ten faces, and batch 8 (the first call holds the five faces
    of the first photo and three of the second) gives batch 1's photos within 1/255."""
    from fsr.face.detectors import create_detector

    src = read_image(GROUP)
    small = resize_uint8(src, (round(src.shape[0] / 6), round(src.shape[1] / 6)))
    photos = [small, np.ascontiguousarray(small[:, ::-1])]
    det = create_detector("mtcnn", min_face=12)  # finds the ~17 px faces
    res = {b: [r for _, r in restore_many(photos, "sam3d-x4-samples", batch_size=b,
                                          detector=det, check=False)]
           for b in (1, 8)}
    for one, eight in zip(res[1], res[8], strict=True):
        assert not isinstance(one, Exception) and not isinstance(eight, Exception)
        assert [f.status for f in one.faces] == [f.status for f in eight.faces]
        # every face went through the method: blended, or kept for lying outside val's range
        # (fsr.restore.routes.outside_val; one of the five faces at this size)
        assert all(f.status == "blended" or "kept, not blend: " in f.note for f in one.faces)
        assert sum(f.status == "blended" for f in one.faces) >= 4
        assert np.abs(one.image.astype(int) - eight.image.astype(int)).max() <= 1
