"""``identity_floor.csv``: each identity statistic over pairs of *different* people of a set.

An identity number means little without its scale: dlib's cosine of two different people is
~0.83 on the sample set. For every dataset whose images carry identity labels (the sample set)
and every identity column of the suite scored against the ground truth, the ground-truth faces
at each task's size are embedded once with that metric's model, and the statistic is computed
over all pairs of images of different identities ('different': the floor a swap would score)
and of the same identity ('same': for scale), per |yaw| bucket (pairs with both images in the
bucket) and overall, with a 95 % percentile bootstrap over pairs (pairs share images, so the
interval is narrower than an image-level one; it is there for scale, not for tests).
"""

from __future__ import annotations

COLUMNS = ["dataset", "task", "metric", "model", "bucket", "pairs", "mean", "ci_lo", "ci_hi",
           "n_pairs", "n_images"]
IDENTITY_METRICS = ("identity", "identity-deg", "identity-deg-dlib", "identity-dist",
                    "identity-match")


def identity_floor(info, df):
    """The floor table (a DataFrame, possibly empty) for the run described by ``info``/``df``."""
    import pandas as pd
    import torch

    from fsr.bench.compute.lib import to_tensor
    from fsr.bench.inputs.datasets import open_dataset
    from fsr.bench.inputs.suite import bucket_order
    from fsr.metrics import create_metric
    from fsr.metrics.identity import different_identity_floor

    suite = info.suite
    specs = [s for s in suite.metrics if s.name in IDENTITY_METRICS and s.against == "gt"]
    rows = []
    if not specs or df.empty:
        return pd.DataFrame(rows, columns=COLUMNS)
    boot = suite.bootstrap
    metrics = {}  # one per statistic for the whole table: a dlib embedder loads in ~2 s
    for cfg in suite.datasets:
        scored = df[df["dataset"] == cfg["name"]]
        labels = scored.drop_duplicates("image_id").set_index("image_id")
        if labels.empty or labels["identity"].fillna("").eq("").any() or \
                labels["identity"].nunique() < 2:
            continue
        ds = open_dataset(dict(cfg))
        items = [it for it in ds.items if it.id in labels.index]
        embedded: dict = {}  # (model, size) -> embeddings, shared by the statistics of a model
        for task in suite.tasks_for(cfg["name"]):
            for spec in specs:
                if spec.name not in metrics:
                    metrics[spec.name] = create_metric(spec.name)
                metric = metrics[spec.name]
                key = (metric.model_name, task.size)
                if key not in embedded:
                    batch = torch.cat([to_tensor(ds.load_gt(it, task.size)) for it in items])
                    embedded[key] = metric.embed(batch).detach().cpu()
                emb = embedded[key]
                ids = [it.id for it in items]
                for b in bucket_order(suite.edges):
                    keep = [i for i, k in enumerate(ids) if b == "all" or
                            labels.loc[k, "bucket"] == b]
                    names = [str(labels.loc[ids[i], "identity"]) for i in keep]
                    if len(keep) < 2 or len(set(names)) < 2:
                        continue
                    floor = different_identity_floor(emb[keep], names, metric.statistic,
                                                     metric.model_name, n_boot=int(boot["n"]),
                                                     seed=int(boot["seed"]))
                    for pairs in ("different", "same"):
                        if floor[pairs] is None:
                            continue
                        mean, lo, hi = floor[pairs]
                        rows.append({"dataset": cfg["name"], "task": task.name,
                                     "metric": spec.column, "model": metric.model_name,
                                     "bucket": b, "pairs": pairs, "mean": mean, "ci_lo": lo,
                                     "ci_hi": hi, "n_pairs": floor[f"n_{pairs}"],
                                     "n_images": len(keep)})
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out if out.empty else out.astype({"n_pairs": int, "n_images": int})


def write_identity_floor(info, df, out_dir):
    """Write ``identity_floor.csv`` when the run has identity columns on a labelled set."""
    table = identity_floor(info, df)
    path = out_dir / "identity_floor.csv"
    if len(table):
        table.to_csv(path, index=False, float_format="%.6g")
    elif path.exists():
        path.unlink()
    return table
