#!/usr/bin/env python
"""Markdown leaderboard from a bench output folder (summary.csv, paired.csv, set_metrics.csv,
pipeline.csv, manifest.json); also the README's blocks and the model cards' benchmark part,
so every number in them is rendered from one run (the library: ``fsr.bench.leaderboard``).

    python leaderboard/make.py results/pose                  # prints Markdown
    python leaderboard/make.py results/pose -o LEADERBOARD.md
    python leaderboard/make.py results/pose results/mine -o LEADERBOARD.md  # runs merged
    python leaderboard/make.py leaderboard/pose --readme README.md   # README's table, docs/results.md
    python leaderboard/make.py leaderboard/pose --cards weights      # model cards' benchmark part

Exit codes: 0 ok, 2 a folder or file it cannot render from (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="leaderboard/make.py", description=__doc__.split("\n\n")[0])
    p.add_argument("dirs", type=Path, nargs="+", metavar="DIR",
                   help="a bench output folder (results/<suite>); several are merged into one "
                   "leaderboard when their protocols agree (fsr.bench.report.runs)")
    p.add_argument("--tables", type=Path, metavar="DIR", help="with several DIRs: write the "
                   "merged tables and manifest here (default: a temporary folder)")
    p.add_argument("-o", "--output", type=Path, help="write the Markdown here (default: stdout)")
    p.add_argument("--readme", type=Path, help="instead, rewrite the results block between the "
                   "leaderboard markers of this README and the results page beside it "
                   "(docs/results.md)")
    p.add_argument("--cards", type=Path, metavar="FOLDER", help="instead (or as well as "
                   "--readme), rewrite the benchmark block of the model cards in FOLDER")
    args = p.parse_args(argv)
    # after parsing, so --help does not wait for `import fsr` (torch)
    from fsr.bench.leaderboard import LeaderboardError, cards, page, readme
    from fsr.bench.report.runs import MergeError, merge_runs

    try:
        with tempfile.TemporaryDirectory() as tmp:
            if len(args.dirs) > 1:
                args.dir = args.tables or Path(tmp)
                merge_runs(args.dirs, args.dir)
            else:
                args.dir = args.dirs[0]
            return _render(args, cards, page, readme)
    except (LeaderboardError, MergeError) as err:
        print(f"leaderboard: error: {err}", file=sys.stderr)
        return 2


def _render(args, cards, page, readme) -> int:
    """The page, or the README/cards blocks, from one (possibly merged) run folder."""
    if args.readme or args.cards:
        if args.readme:
            for path in readme.update_readme(args.readme, args.dir):
                print(f"updated {path}")
        for card in cards.update_cards(args.dir, args.cards) if args.cards else []:
            print(f"updated {card}")
        return 0
    text = page.make(args.dir, args.output)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
