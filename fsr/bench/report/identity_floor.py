"""``identity_floor.csv``: each identity statistic over pairs of *different* people of a set.

The statistic is computed over all pairs of images of different identities ('different': the
floor a swap would score) and of the same identity ('same': for scale), per |yaw| bucket (pairs
with both images in the bucket) and overall, with a 95 % percentile bootstrap over pairs (pairs
share images, so the interval is narrower than an image-level one; it is there for scale, not
for tests). The ground-truth embeddings come from the run's cache
(:mod:`fsr.bench.compute.identity_embed` computed them with the images); nothing is loaded or
embedded here.
"""

from __future__ import annotations

from fsr.bench import BenchError
from fsr.bench.compute.identity_embed import floor_specs
from fsr.bench.compute.store import decode_feat, embed_key
from fsr.bench.inputs.suite import bucket_order

COLUMNS = ["dataset", "task", "metric", "model", "bucket", "pairs", "mean", "ci_lo", "ci_hi",
           "n_pairs", "n_images"]


def identity_floor(info, df, store):
    """The floor table (a DataFrame, possibly empty) for the run described by ``info``/``df``,
    from the embeddings in ``store``."""
    import numpy as np
    import pandas as pd
    import torch

    from fsr.metrics.identity import different_identity_floor

    suite = info.suite
    specs = floor_specs(suite)
    rows = []
    if not specs or df.empty:
        return pd.DataFrame(rows, columns=COLUMNS)
    boot = suite.bootstrap
    keys = {}  # (dataset, id) -> image key
    for ikey in info.image_keys:
        img = store.records.get(ikey)
        if img is not None:
            keys[(img["dataset"], img["id"])] = ikey
    for cfg in suite.datasets:
        scored = df[df["dataset"] == cfg["name"]]
        labels = scored.drop_duplicates("image_id").set_index("image_id").sort_index()
        if labels.empty or labels["identity"].fillna("").eq("").any() or \
                labels["identity"].nunique() < 2:
            continue
        ids = list(labels.index)
        for task in suite.tasks_for(cfg["name"]):
            for spec in specs:
                recs = [store.records.get(embed_key(keys.get((cfg["name"], i), ""), spec.name,
                                                    task.size)) for i in ids]
                if all(r is None for r in recs):
                    continue  # the compute floor did not count this set as labelled
                if any(r is None for r in recs):
                    raise BenchError(f"identity floor: {sum(r is None for r in recs)} cached "
                                     f"embedding(s) of {cfg['name']}/{task.name} "
                                     f"{spec.column} are missing; rerun bench/run.py on this "
                                     "--out to compute them")
                emb = torch.from_numpy(np.stack([decode_feat(r["emb"]) for r in recs]))
                model, statistic = recs[0]["model"], recs[0]["statistic"]
                for b in bucket_order(suite.edges):
                    keep = [k for k, i in enumerate(ids) if b == "all" or
                            labels.loc[i, "bucket"] == b]
                    names = [str(labels.loc[ids[k], "identity"]) for k in keep]
                    if len(keep) < 2 or len(set(names)) < 2:
                        continue
                    floor = different_identity_floor(emb[keep], names, statistic, model,
                                                     n_boot=int(boot["n"]),
                                                     seed=int(boot["seed"]))
                    for pairs in ("different", "same"):
                        if floor[pairs] is None:
                            continue
                        mean, lo, hi = floor[pairs]
                        rows.append({"dataset": cfg["name"], "task": task.name,
                                     "metric": spec.column, "model": model,
                                     "bucket": b, "pairs": pairs, "mean": mean, "ci_lo": lo,
                                     "ci_hi": hi, "n_pairs": floor[f"n_{pairs}"],
                                     "n_images": len(keep)})
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out if out.empty else out.astype({"n_pairs": int, "n_images": int})


def write_identity_floor(info, df, store, out_dir):
    """Write ``identity_floor.csv`` when the run has identity columns on a labelled set."""
    table = identity_floor(info, df, store)
    path = out_dir / "identity_floor.csv"
    if len(table):
        table.to_csv(path, index=False, float_format="%.6g")
    elif path.exists():
        path.unlink()
    return table
