"""The peers the public demo compares fsr's methods with: GFPGAN v1.4 and CodeFormer.

At start (the root ``app.py``, before the page lists its methods) :func:`fetch_peers` gets
their weights and the photo pipeline's (RetinaFace, ParseNet) through ``fsr.assets``: the
official URL, checked against the table's sha256 where the table pins one. Offline
(``FSR_OFFLINE=1``) or when a download fails it fetches nothing and says, per missing peer,
where to put the file. Requests never download: the app serves with ``FSR_OFFLINE=1``.

CodeFormer's fidelity weight is a slider on the page; :func:`with_fidelity` turns the chosen
CodeFormer methods into the one at that weight (``codeformer-w<w>``, see fsr.archs.pretrained).

    >>> with_fidelity(["bicubic-x4", "codeformer-w0.5", "codeformer-w0.7"], 0.63)
    ['bicubic-x4', 'codeformer-w0.63']
    >>> with_fidelity(["codeformer-w0.7"], None)
    ['codeformer-w0.7']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("fsr.demo")

# (asset, what it is for): the two peer methods, then what whole-photo mode needs
PEERS = (
    ("gfpgan-v1.4", "GFPGAN v1.4 (peer method)"),
    ("codeformer", "CodeFormer (peer method; S-Lab licence, non-commercial)"),
    ("retinaface-resnet50", "RetinaFace (face detector of whole-photo mode)"),
    ("parsenet", "ParseNet (face mask for pasting faces back)"),
)
CODEFORMER_PREFIX = "codeformer-w"


@dataclass(frozen=True)
class PeerStatus:
    asset: str
    what: str
    ok: bool
    detail: str  # where the file is, or why it is missing and how to add it


def _how_to_add(asset: str) -> str:
    from fsr.assets import ASSETS, cache_dir, env_var

    row = ASSETS[asset]
    url = f"download {row.urls[0]} and " if row.urls else ""
    return (f"{url}put it at {cache_dir() / row.filename} or point {env_var(asset)} at it "
            f"(`python -m fsr assets fetch {asset}` does both when online)")


def fetch_peers(download: bool | None = None) -> list[PeerStatus]:
    """Resolve every peer's weights; download only when ``download`` (default: not offline).

    Never raises: a peer that cannot be had is reported as missing with how to add it.
    """
    from fsr.assets import AssetError, offline, resolve, status

    if download is None:
        download = not offline()
    report = []
    for asset, what in PEERS:
        state = status(asset)
        if state.startswith("ok"):
            report.append(PeerStatus(asset, what, True, state))
            continue
        if not download:
            why = "offline" if state == "missing" else state
            report.append(PeerStatus(asset, what, False, f"{why}: {_how_to_add(asset)}"))
            continue
        try:
            path = resolve(asset)
            report.append(PeerStatus(asset, what, True, f"fetched to {path}"))
        except AssetError as err:  # the sources tried and why each failed, in brackets
            text = str(err)
            tried = text.split(" [", 1)[1].split("]: ", 1)[0] if " [" in text else text
            report.append(PeerStatus(asset, what, False, f"could not be fetched ({tried[:200]}): "
                                                         f"{_how_to_add(asset)}"))
    for p in report:
        (log.info if p.ok else log.warning)("peer %s: %s", p.asset, p.detail)
    return report


def _missing(report: list[PeerStatus] | None) -> list[PeerStatus]:
    from fsr.assets import status

    if report is None:  # what is on this machine now, without fetching
        report = [PeerStatus(a, w, status(a).startswith("ok"), "") for a, w in PEERS]
    return [p for p in report if not p.ok]


def peers_line(report: list[PeerStatus] | None = None) -> str:
    """One short line for the top of the page: which peers this server lacks ('' if none)."""
    missing = _missing(report)
    if not missing:
        return ""
    names = ", ".join(p.what.split(" (")[0] for p in missing)
    return (f"*Not on this server: {names}; their methods are not offered "
            "(how to add them: below the Compare button).*")


def peers_markdown(report: list[PeerStatus] | None = None) -> str:
    """The list for a collapsed section: each missing peer and how to add it ('' if none)."""
    missing = _missing(report)
    if not missing:
        return ""
    lines = ["**Missing peers:** this server lacks the weights of "
             + ", ".join(p.what for p in missing) + ". To add one:"]
    lines += [f"- `{p.asset}`: {_how_to_add(p.asset)}" for p in missing]
    return "\n".join(lines)


def with_fidelity(methods: list[str], w: float | None) -> list[str]:
    """``methods`` with every CodeFormer entry replaced by CodeFormer at fidelity ``w``."""
    if w is None or not any(m.startswith(CODEFORMER_PREFIX) for m in methods):
        return list(methods)
    w = min(max(float(round(float(w), 2)), 0.0), 1.0)
    chosen = f"{CODEFORMER_PREFIX}{w}"
    return list(dict.fromkeys(chosen if m.startswith(CODEFORMER_PREFIX) else m for m in methods))
