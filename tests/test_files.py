"""fsr.files.atomic_write and fsr.imageio.to_uint8: the one temp-file writer and the one
float -> uint8 conversion."""

from __future__ import annotations

import os

import numpy as np
import pytest

from fsr.files import atomic_write
from fsr.imageio import to_uint8


def test_failure_leaves_no_half_file_and_the_old_one_intact(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="killed"), atomic_write(target) as tmp:
        tmp.write_text("half a ro")
        assert tmp.parent == tmp_path and tmp.name.startswith(".table.csv.")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temp left behind


def test_a_new_file_appears_whole_with_the_usual_mode(tmp_path):
    target = tmp_path / "sub" / "prior.npz"
    with atomic_write(target, fsync=True) as tmp:
        assert tmp.suffix == ".npz" and tmp.is_file()
        np.savez(tmp, a=np.arange(3))  # np.savez keeps a name that ends in .npz
    with np.load(target) as z:
        assert z["a"].tolist() == [0, 1, 2]
    assert sorted(p.name for p in target.parent.iterdir()) == ["prior.npz"]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_failure_before_any_file_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_write(tmp_path / "x.png"):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_to_uint8_clips_then_rounds_half_to_even():
    x = np.array([-1.0, 0.0, 0.5 / 255, 1.5 / 255, 2.5 / 255, 0.5, 1.0, 7.0], np.float32)
    ref = (np.clip(x, 0, 1) * 255.0).round().astype(np.uint8)  # the formula every caller had
    assert to_uint8(x).tolist() == ref.tolist() == [0, 0, 0, 2, 2, 128, 255, 255]
    grid = np.random.default_rng(0).uniform(-0.1, 1.1, (64, 64, 3)).astype(np.float32)
    out = to_uint8(grid[:, ::-1])
    assert out.flags.c_contiguous and np.array_equal(
        out, (np.clip(grid[:, ::-1], 0, 1) * 255).round().astype(np.uint8))
    u8 = np.arange(256, dtype=np.uint8)
    assert to_uint8(u8) is u8 or np.array_equal(to_uint8(u8), u8)
