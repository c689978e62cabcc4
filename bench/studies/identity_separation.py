#!/usr/bin/env python
"""How well each identity statistic separates people on the sample set (docs/metrics.md).

Embeds the test split's crops at 128x128 with dlib's ResNet (the offline identity model) and
prints, over all pairs, each statistic for same- and different-identity pairs (mean and 95 %
bootstrap interval over pairs) and the ROC AUC of the distance.

    python bench/studies/identity_separation.py [--split test] [--size 128]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--split", default="test")
    p.add_argument("--size", type=int, default=128)
    args = p.parse_args()
    import torch
    from PIL import Image

    from fsr.metrics import create_metric
    from fsr.metrics.identity import different_identity_floor, pair_statistic

    with open(REPO / "samples" / "manifest.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == args.split]
    arr = np.stack([np.asarray(Image.open(REPO / "samples" / r["file"]).convert("RGB").resize(
        (args.size, args.size), Image.BICUBIC)) for r in rows])
    emb = create_metric("identity-dist").embed(torch.from_numpy(arr).permute(0, 3, 1, 2) / 255.0)
    labels = [r["identity"] for r in rows]
    print(f"{len(rows)} crops, {len(set(labels))} identities, {args.size}px, dlib-resnet")
    for stat in ("distance", "match", "cosine"):
        fl = different_identity_floor(emb, labels, stat, "dlib-resnet")
        print(f"{stat:9s} different ({fl['n_different']} pairs) {fl['different'][0]:.4f} "
              f"[{fl['different'][1]:.4f}, {fl['different'][2]:.4f}]  same ({fl['n_same']}) "
              f"{fl['same'][0]:.4f} [{fl['same'][1]:.4f}, {fl['same'][2]:.4f}]")
    i, j = torch.triu_indices(len(rows), len(rows), offset=1)
    d = pair_statistic(emb[i], emb[j], "distance", "dlib-resnet").numpy()
    same = np.array([labels[a] == labels[b] for a, b in zip(i.tolist(), j.tolist(), strict=True)])
    pos, neg = -d[same], -d[~same]
    auc = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (
        len(pos) * len(neg))
    print(f"ROC AUC (distance, same vs different): {auc:.6f}")


if __name__ == "__main__":
    main()
