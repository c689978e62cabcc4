"""One leaderboard from many runs: merge run folders whose protocols agree.

``leaderboard/make.py RUN [RUN ...]`` reads each run's tables and manifest.json (never images
or caches), and:

- refuses runs of different suites, and any dataset x task whose protocol parts differ between
  two runs, with one line naming it (``samples/sr-x4: run b's degradation differs from
  run a's``);
- takes each method's rows from the run that holds it; a method in several runs must give the
  same numbers there (to 1e-6, machine rounding), or the merge stops naming the first
  difference; the task's baseline is in every run, so this is checked on every merge;
- a method split across runs (shards: disjoint images) is recombined from the runs'
  per-image ``results.csv`` (summary and paired recomputed by :mod:`fsr.bench.report.tables` exactly
  as a single run does); its FID/KID, sweep and robustness rows need the image features and
  cache lines a run folder does not keep, so they are left out with a note
  (``bench/run.py --merge`` over the shards' caches gives them);
- writes the merged tables and a manifest listing every source run (commit, date, device, who
  ran it) into ``out``, a folder the leaderboard renders like any run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from fsr.bench import BenchError
from fsr.bench.inputs.protocol import difference

METHOD_TABLES = ("summary.csv", "paired.csv", "set_metrics.csv", "sweep.csv", "robustness.csv")
SHARED_TABLES = ("pipeline.csv", "identity_floor.csv")  # per dataset x task, not per method
RTOL = ATOL = 1e-6


class MergeError(BenchError):
    """Runs that cannot be merged; the message names what differs."""


@dataclass
class Run:
    dir: Path
    name: str
    manifest: dict
    tables: dict  # file name -> DataFrame (absent tables: empty)


def load_run(path: Path, name: str):
    import pandas as pd

    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except FileNotFoundError:
        raise MergeError(f"{path} has no manifest.json (run bench/run.py first)") from None
    except json.JSONDecodeError:
        raise MergeError(f"{path}/manifest.json is not valid JSON") from None
    if not manifest.get("protocol"):
        raise MergeError(f"{path}/manifest.json has no protocol fingerprint (a run from before "
                         "protocols were pinned): rerun it to merge it")
    tables = {}
    for name_ in (*METHOD_TABLES, *SHARED_TABLES, "results.csv"):
        f = path / name_
        tables[name_] = pd.read_csv(f, keep_default_na=False, na_values=[""]) \
            if f.is_file() else None
    if tables["summary.csv"] is None:
        raise MergeError(f"{path}/summary.csv is missing")
    return Run(path, name, manifest, tables)


def check_protocols(runs: list[Run]) -> dict:
    """The union of the runs' protocols; MergeError on the first disagreement."""
    merged: dict = {}
    owner: dict = {}
    for run in runs:
        for key, entry in run.manifest["protocol"].items():
            if key not in merged:
                merged[key], owner[key] = entry, run
                continue
            diff = difference(merged[key]["parts"], entry["parts"])
            if diff:
                raise MergeError(f"{key}: run {run.name}'s {diff} differs from run "
                                 f"{owner[key].name}'s")
    return merged


def _close(x, y) -> bool:
    x, y = float(x), float(y)
    if math.isnan(x) and math.isnan(y):
        return True
    return math.isclose(x, y, rel_tol=RTOL, abs_tol=ATOL)


def _same_numbers(a, b, key: tuple, names: tuple[str, str]) -> None:
    """Two runs' summary rows of one method: equal numbers or a MergeError naming one."""
    cols = ["metric", "bucket"]
    joined = a.merge(b, on=cols, suffixes=("_a", "_b"))
    for row in joined.itertuples():
        if not (_close(row.mean_a, row.mean_b) and int(row.n_a) == int(row.n_b)):
            ds, task, method = key
            raise MergeError(f"method {method} on {ds}/{task}: run {names[1]} gives "
                             f"{row.metric} {float(row.mean_b):.6g} (n={int(row.n_b)}) where run "
                             f"{names[0]} gives {float(row.mean_a):.6g} (n={int(row.n_a)}), "
                             f"bucket {row.bucket}; one method must give one set of numbers")


def merge_runs(dirs: list[Path], out: Path, names: list[str] | None = None) -> dict:
    """Merge run folders into ``out`` (tables + manifest.json); returns the merged manifest."""
    import pandas as pd

    from fsr.bench.inputs.suite import parse_suite
    from fsr.bench.report.tables import RunInfo, paired, summarize

    names = names or [Path(d).name or str(d) for d in dirs]
    if len(set(names)) < len(names):
        names = [str(d) for d in dirs]
    runs = [load_run(d, n) for d, n in zip(dirs, names, strict=True)]
    suites = {r.manifest["suite"]["name"] for r in runs}
    if len(suites) > 1:
        raise MergeError(f"runs of different suites ({', '.join(sorted(suites))}): a "
                         "leaderboard merges runs of one suite")
    protocol = check_protocols(runs)
    key_cols = ["dataset", "task", "method"]
    holders: dict = {}
    for i, run in enumerate(runs):
        for key in run.tables["summary.csv"][key_cols].drop_duplicates().itertuples(index=False):
            holders.setdefault(tuple(key), []).append(i)
    split = set()
    for key, idx in holders.items():
        first = runs[idx[0]].tables["summary.csv"]
        rows_a = first[(first[key_cols] == pd.Series(key, index=key_cols)).all(axis=1)]
        for j in idx[1:]:
            other = runs[j].tables["summary.csv"]
            rows_b = other[(other[key_cols] == pd.Series(key, index=key_cols)).all(axis=1)]
            if _disjoint_images(runs[idx[0]], runs[j], key):
                split.add(key)
            else:
                _same_numbers(rows_a, rows_b, key, (runs[idx[0]].name, runs[j].name))
    tables: dict = {}
    notes = []
    for name in (*METHOD_TABLES, *SHARED_TABLES):
        parts = []
        for i, run in enumerate(runs):
            t = run.tables[name]
            if t is None or not len(t):
                continue
            if name in SHARED_TABLES:
                seen = set() if not parts else {tuple(r) for p in parts
                                                 for r in p[["dataset", "task"]].values.tolist()}
                t = t[[tuple(r) not in seen for r in t[["dataset", "task"]].values.tolist()]]
            else:
                own = [holders[k][0] == i and k not in split for k in
                       map(tuple, t[key_cols].values.tolist())]
                t = t[own]
            parts.append(t)
        tables[name] = pd.concat(parts, ignore_index=True) if parts else None
    manifest = dict(runs[0].manifest)
    methods: dict = {}
    for run in runs:
        for task, entries in run.manifest["methods"].items():
            have = {e["label"] for e in methods.setdefault(task, [])}
            methods[task] += [e for e in entries if e["label"] not in have]
    if split:
        missing = [r.name for r in runs if r.tables["results.csv"] is None]
        if missing:
            raise MergeError(f"method(s) {', '.join(sorted({k[2] for k in split}))} are split "
                             f"across runs (different images) and run(s) {', '.join(missing)} "
                             "have no results.csv to recombine them from")
        suite = parse_suite(manifest["suite"]["raw"], Path(manifest["suite"]["file"]))
        lower = {c: bool(d["lower_better"]) for c, d in manifest["metrics"].items()}
        info = RunInfo(suite, [], methods, lower_better=lower)
        results = _combined_results(runs)
        tables["results.csv"] = results
        summary = summarize(results, info)
        pairs = paired(results, info)
        keep = ~summary[key_cols].apply(tuple, axis=1).isin(split)
        tables["summary.csv"] = pd.concat([tables["summary.csv"], summary[~keep]],
                                          ignore_index=True)
        tables["paired.csv"] = pairs  # every comparison, recomputed from all images
        notes.append("recombined from per-image results (split across runs): "
                     + ", ".join(f"{d}/{t}/{m}" for d, t, m in sorted(split))
                     + "; their FID/KID, sweep and robustness rows need the runs' caches "
                     "(bench/run.py --merge) and are left out")
    tables["summary.csv"] = _ordered(tables["summary.csv"], manifest)
    manifest.update(methods=methods, protocol=protocol, merge_notes=notes,
                    sources=[_source(r) for r in runs], plots=[])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, t in tables.items():
        if t is not None and len(t):
            t.to_csv(out / name, index=False)
        else:
            (out / name).unlink(missing_ok=True)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _disjoint_images(a: Run, b: Run, key: tuple) -> bool:
    """True when both runs hold per-image results of ``key`` on no common image (shards)."""
    ra, rb = a.tables["results.csv"], b.tables["results.csv"]
    if ra is None or rb is None:
        return False
    ds, task, method = key
    ia = set(ra[(ra.dataset == ds) & (ra.task == task) & (ra.method == method)]["image_id"])
    ib = set(rb[(rb.dataset == ds) & (rb.task == task) & (rb.method == method)]["image_id"])
    return bool(ia) and bool(ib) and not (ia & ib)


def _combined_results(runs: list[Run]):
    import pandas as pd

    from fsr.bench.report.tables import RESULT_COLUMNS

    df = pd.concat([r.tables["results.csv"] for r in runs], ignore_index=True)
    key = ["dataset", "image_id", "task", "method", "metric"]
    dup = df[df.duplicated(key, keep=False)]
    for _, g in dup.groupby(key):
        if not all(_close(v, g["value"].iloc[0]) for v in g["value"]):
            k = dict(zip(key, g.iloc[0][key], strict=True))
            raise MergeError(f"method {k['method']} on {k['dataset']}/{k['task']}, image "
                             f"{k['image_id']}: two runs give {k['metric']} "
                             f"{', '.join(f'{v:.6g}' for v in g['value'])}")
    df = df.drop_duplicates(key).sort_values(["dataset", "task", "method", "metric", "image_id"],
                                             kind="stable")
    return df[RESULT_COLUMNS].reset_index(drop=True)


def _ordered(summary, manifest: dict):
    """Rows in task order, then method, metric, bucket as the single run writes them."""
    order = {t["name"]: i for i, t in enumerate(manifest["suite"]["tasks"])}
    metrics = {m: i for i, m in enumerate(manifest["metrics"])}
    s = summary.assign(_t=summary["task"].map(order), _m=summary["metric"].map(metrics),
                       _i=range(len(summary)))
    return s.sort_values(["dataset", "_t", "method", "_m", "_i"], kind="stable").drop(
        columns=["_t", "_m", "_i"]).reset_index(drop=True)


def _source(run: Run) -> dict:
    m = run.manifest
    device = m.get("inference", {}).get("gpu") or (m.get("device") or {}).get("processor") \
        or (m.get("device") or {}).get("machine")
    return {"run": run.name, "path": str(run.dir), "commit": (m.get("git") or {}).get("commit"),
            "dirty": (m.get("git") or {}).get("dirty"), "date": m.get("created"),
            "device": f"{(m.get('inference') or {}).get('device', 'cpu')} ({device})",
            "submitted_by": m.get("submitted_by"),
            "methods": sorted({e["label"] for es in m["methods"].values() for e in es})}
