"""Contact sheet of face crops next to their prior renders, labelled with yaw (for docs/).

    sheet = contact_sheet(crops, [p.render for p in priors], [p.pose.yaw for p in priors])
    sheet.dtype, sheet.ndim  # -> (dtype('uint8'), 3)
"""

from __future__ import annotations

import math

import numpy as np


def _to_uint8_tile(img: np.ndarray, tile: int) -> np.ndarray:
    import cv2

    a = np.asarray(img)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected HxW or HxWx3 images, got shape {a.shape}")
    if a.shape[2] != 3:
        a = np.repeat(a[:, :, :1], 3, axis=2) if a.shape[2] == 1 else a[:, :, :3]
    if a.dtype != np.uint8:
        # +0.5 then truncate (half up), not fsr.imageio.to_uint8's half to even: kept so the
        # documented contact sheets (docs/img) redraw the same; a display tile, never scored
        a = (np.clip(a.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    interp = cv2.INTER_AREA if a.shape[0] > tile else cv2.INTER_NEAREST
    return cv2.resize(a, (tile, tile), interpolation=interp)


def contact_sheet(crops, renders, yaws=None, tile: int = 96, cols: int = 4,
                  gap: int = 4) -> np.ndarray:
    """RGB uint8 grid of (crop | render) pairs; ``yaws`` (degrees, nan = none) label each pair.

    Crops may be uint8 or float in [0, 1]; renders float in [0, 1] or uint8.
    """
    import cv2

    crops, renders = list(crops), list(renders)
    if len(crops) != len(renders) or not crops:
        raise ValueError(f"need as many crops as renders (>0), got {len(crops)} and {len(renders)}")
    yaws = [float("nan")] * len(crops) if yaws is None else [float(y) for y in yaws]
    if len(yaws) != len(crops):
        raise ValueError(f"need one yaw per crop, got {len(yaws)} for {len(crops)}")
    cols = max(1, min(cols, len(crops)))
    rows = math.ceil(len(crops) / cols)
    cell_w, cell_h = 2 * tile + gap, tile + 16
    sheet = np.full((rows * (cell_h + gap) + gap, cols * (cell_w + gap) + gap, 3), 255, np.uint8)
    for k, (c, r, y) in enumerate(zip(crops, renders, yaws, strict=True)):
        i, j = divmod(k, cols)
        y0, x0 = gap + i * (cell_h + gap), gap + j * (cell_w + gap)
        sheet[y0 : y0 + tile, x0 : x0 + tile] = _to_uint8_tile(c, tile)
        sheet[y0 : y0 + tile, x0 + tile + gap : x0 + cell_w] = _to_uint8_tile(r, tile)
        label = "yaw n/a" if not math.isfinite(y) else f"yaw {y:+.0f}"
        cv2.putText(sheet, label, (x0 + 2, y0 + tile + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return sheet
