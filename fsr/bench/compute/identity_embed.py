"""Ground-truth identity embeddings for ``identity_floor.csv``, computed with the run and cached.

An identity number means little without its scale: dlib's cosine of two different people is
~0.83 on the sample set. For every dataset whose run images all carry identity labels (at least
two people; the sample set) and every identity column of the suite scored against the ground
truth, each image's ground truth at each task's size is embedded once per identity model, as
part of the image's chunk (the ground truth is already loaded there). The embedding is cached
like a result (``{"type": "embed", "key": store.embed_key(...), "emb": ...}``), so the report
(:mod:`fsr.bench.report.identity_floor`) computes the floor from the cache alone, a resumed run
embeds nothing twice, and a merged shard run gets the floor a single run gets.
"""

from __future__ import annotations

from fsr.bench.compute.store import embed_key, encode_feat, image_key

IDENTITY_METRICS = ("identity", "identity-deg", "identity-deg-dlib", "identity-dist",
                    "identity-match")


def floor_specs(suite) -> list:
    """The suite's identity columns scored against the ground truth (those a floor explains)."""
    return [s for s in suite.metrics if s.name in IDENTITY_METRICS and s.against == "gt"]


def labelled(items) -> bool:
    """Whether a dataset's run images all carry an identity label, of at least two people."""
    names = [it.identity for it in items]
    return bool(names) and all(names) and len(set(names)) >= 2


def embedding_lines(metrics, msig: dict, wanted: list[tuple]) -> list[dict]:
    """Cache lines for ``wanted`` = [(item, spec, size, gt float HxWx3), ...], in that order.

    ``metrics``: the run's :class:`~fsr.bench.compute.lib.Metrics` (each metric built once;
    called after the chunk's methods are scored, so dlib's embedder hands back the ground-truth
    descriptors that scoring cached instead of describing them in another batch);
    images of one identity model and size are embedded in one batch, shared by the statistics
    of that model (distance and match both use dlib's embedding).
    """
    import torch

    from fsr.bench.compute.lib import to_tensor

    groups: dict[tuple, list[int]] = {}
    for i, (_, spec, size, _) in enumerate(wanted):
        groups.setdefault((metrics.get(spec.name).model_name, size), []).append(i)
    lines: list[dict | None] = [None] * len(wanted)
    with torch.inference_mode():
        for idx in groups.values():
            first = metrics.get(wanted[idx[0]][1].name)
            batch = torch.cat([to_tensor(wanted[i][3]) for i in idx])
            emb = first.embed(batch).detach().cpu().float().numpy()
            for i, e in zip(idx, emb, strict=True):
                item, spec, size, _ = wanted[i]
                metric = metrics.get(spec.name)
                lines[i] = {"type": "embed", "key": embed_key(image_key(item), spec.name, size),
                            "dataset": item.dataset, "id": item.id, "size": size,
                            "metric": spec.name, "column": spec.column,
                            "model": metric.model_name, "statistic": metric.statistic,
                            "msig": msig[spec.column], "emb": encode_feat(e)}
    return lines
