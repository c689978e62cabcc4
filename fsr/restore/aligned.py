"""Aligned mode of :func:`fsr.restore.restore`: each image is one FFHQ-aligned face crop, resized
to the method's input when it differs (the benchmark's protocol), ``n`` crops per method call."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from fsr.restore.common import (
    RestoredFace,
    RestoreResult,
    face_sizes,
    pose_angles,
    read_input,
    resize_uint8,
    run_each,
)

if TYPE_CHECKING:
    from fsr.methods import Method


def aligned_stream(m: Method, images: Iterable, n: int
                   ) -> Iterator[tuple[int, RestoreResult | ValueError]]:
    """Aligned crops, ``n`` images per method call (each resized to the method's input)."""
    in_side, _ = face_sizes(m)
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []  # (index, image, method input)

    def flush() -> Iterator[tuple[int, RestoreResult | ValueError]]:
        outs = run_each(m, [crop for _, _, crop in pending], n)
        for (i, img, crop), out in zip(pending, outs, strict=True):
            if isinstance(out, ValueError):
                yield i, out
                continue
            face = RestoredFace(np.array([0, 0, img.shape[1], img.shape[0]], float), 1.0,
                                np.zeros((5, 2)), crop, out, *pose_angles(img),
                                native_px=img.shape[0],
                                note=f"aligned crop {img.shape[0]} px -> {in_side} px input")
            yield i, RestoreResult(out, m.label, [face], upscale=out.shape[0] / img.shape[0])
        pending.clear()

    for i, image in enumerate(images):
        try:
            img = read_input(image)
        except ValueError as err:  # ImageReadError, RestoreError: this image only
            yield i, err
            continue
        same = img.shape[:2] == (in_side, in_side)
        pending.append((i, img, img if same else resize_uint8(img, (in_side, in_side))))
        if len(pending) == n:
            yield from flush()
    yield from flush()
