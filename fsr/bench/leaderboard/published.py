"""Published rows beside a run's numbers: the papers' own tables for the run's benchmark
(:mod:`fsr.metrics.published`), each marked "published, not measured here", in the papers'
column order (Deg, LMD, LPIPS, PSNR, SSIM, FID, NIQE, MUSIQ as the paper has them, then its
other columns), with the paper, its table's source and its protocol.

A run gets them when its suite's name, or one of its datasets' names or types (``-`` read as
``_``), is a key of :data:`fsr.metrics.published.TABLES` (``celeba_test``). They are rendered,
never mixed into the run's tables or rankings.

    >>> lines = published_block({'suite': {'name': 'celeba_test'}, 'datasets': {}})
    >>> lines[0]
    '#### Published CelebA-Test tables: published, not measured here'
    >>> published_block({'suite': {'name': 'ffhq'}, 'datasets': {'ffhq': {'type': 'folder'}}})
    []
"""

from __future__ import annotations

from fsr.bench.leaderboard.tables import arrow
from fsr.metrics.published import LABEL, TABLES, PublishedTable
from fsr.metrics.table import METRICS

# the papers' column order and headers; columns not listed follow in the table's own order
ORDER = ("identity-deg", "lmd", "lpips-vgg", "lpips", "psnr", "ssim", "fid", "fid-hq", "kid",
         "niqe-basicsr", "niqe", "musiq", "dists", "precision")
HEADERS = {"identity-deg": "Deg", "lmd": "LMD", "lpips-vgg": "LPIPS", "lpips": "LPIPS",
           "psnr": "PSNR", "ssim": "SSIM", "fid": "FID", "fid-hq": "FID (HQ)", "kid": "KID",
           "niqe-basicsr": "NIQE", "niqe": "NIQE", "musiq": "MUSIQ", "dists": "DISTS",
           "precision": "Precision"}
# columns with no fsr metric row: which way is better, as their papers state
LOWER_BETTER = {"fid-hq": True, "dists": True, "precision": False}
NAMES = {"celeba_test": "CelebA-Test"}


def published_tables(manifest: dict) -> tuple[str, tuple[PublishedTable, ...]] | None:
    """(key, tables) of the first published benchmark the run matches, else None."""
    suite = manifest.get("suite") or {}
    keys = [suite.get("name") or ""]
    for name, d in (manifest.get("datasets") or {}).items():
        keys += [name, str((d or {}).get("type") or "")]
    for key in keys:
        key = key.replace("-", "_")
        if key in TABLES:
            return key, TABLES[key]
    return None


def _lower_better(col: str) -> bool:
    return METRICS[col].lower_better if col in METRICS else LOWER_BETTER.get(col, True)


def _decimals(values) -> int:
    """Decimals of the longest-printed value: a column keeps the paper's precision (0.1600
    beside 0.6877, where the stored float lost the trailing zeros)."""
    return max((len(repr(float(v)).split(".")[1]) if "e" not in repr(float(v)) else 4
                for v in values if v is not None), default=0)


def _value(v: float | None, decimals: int) -> str:
    return "-" if v is None else f"{v:.{decimals}f}"


def table_lines(t: PublishedTable) -> list[str]:
    """One paper's table: a row per method, the paper's numbers as printed."""
    cols = sorted(t.columns, key=lambda c: ORDER.index(c) if c in ORDER else len(ORDER))
    head = [f"{HEADERS.get(c, c)} {arrow(_lower_better(c))}" for c in cols]
    out = [f"**{t.paper}** ({t.label}). Source: {t.source}. Protocol: {t.protocol}.", "",
           "| method | " + " | ".join(head) + " |", "|---|" + "---:|" * len(cols)]
    dec = {c: _decimals(r.get(c) for r in t.rows.values()) for c in cols}
    for method, row in t.rows.items():
        out.append(f"| {method} | " + " | ".join(_value(row.get(c), dec[c]) for c in cols)
                   + " |")
    how = [f"{HEADERS.get(c, c)}: {t.columns[c] or 'as the paper states'} -> "
           + (f"fsr `{c}`" if c in METRICS else "no fsr row") for c in cols]
    return [*out, "", "Columns: " + "; ".join(how) + ".", ""]


def published_block(manifest: dict) -> list[str]:
    """The published tables for the run's benchmark (Markdown lines), or [] when none match."""
    found = published_tables(manifest)
    if found is None:
        return []
    key, tables = found
    out = [f"#### Published {NAMES.get(key, key)} tables: {LABEL}", "",
           f"These rows are **{LABEL}**: copied from the papers, each under its own protocol "
           "(its low-quality set, FID reference, identity and landmark weights). They compare "
           "with the run's table above only where the run used the same protocol and the "
           "column's definition is the paper's (see the protocol table's 'whose' column), and "
           "the papers' tables do not compare with each other.", ""]
    for t in tables:
        out += table_lines(t)
    return out


__all__ = ["ORDER", "published_block", "published_tables", "table_lines"]
