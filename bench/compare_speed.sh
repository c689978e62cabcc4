#!/usr/bin/env bash
# Cold `--suite pose` before/after, side by side in one session, on the same machine.
#
#   bench/compare_speed.sh BEFORE_COMMIT [AFTER_COMMIT]      # AFTER defaults to HEAD
#   REPEATS=2 AFTER_ARGS="--batch-size 16" bench/compare_speed.sh 0c4a874
#
# "Cold" = an empty results folder (no records, no priors) with the weights already cached
# (the fsr asset cache and weights/ are shared by both trees; run `python -m fsr assets verify`
# once first). Each commit gets its own `git worktree` under $WORK (default /tmp/fsr-compare),
# run with this checkout's virtual environment and PYTHONPATH set to the tree, so each run
# imports its own tree's fsr, not the one installed in the environment (the script prints which
# fsr each run imported). Runs alternate before, after,
# before, after ... so a change in machine load hits both alike. Both run the SAME suite file:
# a suite name is taken from the BEFORE tree (bench/suites/<name>.yml, copied to $WORK), so a
# suite that grew since (more datasets or tasks) does not count as a slowdown; SUITE=path.yml
# uses that file for both. At the end: wall clock per
# run and per stage from each manifest, and whether the tables agree (results.csv compared
# value by value).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BEFORE="${1:?usage: bench/compare_speed.sh BEFORE_COMMIT [AFTER_COMMIT]}"
AFTER="${2:-HEAD}"
WORK="${WORK:-/tmp/fsr-compare}"
REPEATS="${REPEATS:-1}"
SUITE="${SUITE:-pose}"
BEFORE_ARGS="${BEFORE_ARGS:-}"
AFTER_ARGS="${AFTER_ARGS:-}"
PY="${PYTHON:-$REPO/.venv/bin/python}"
export OMP_WAIT_POLICY=PASSIVE

mkdir -p "$WORK"
for side in before after; do
  rev="$BEFORE"; [ "$side" = after ] && rev="$AFTER"
  tree="$WORK/$side-tree"
  if [ -d "$tree" ]; then git -C "$REPO" worktree remove --force "$tree"; fi
  git -C "$REPO" worktree add --detach "$tree" "$rev" >/dev/null 2>&1
  echo "$side: $(git -C "$tree" log -1 --format='%h %s')"
  (cd "$tree" && PYTHONPATH="$tree" "$PY" -c "import fsr; print('  imports', fsr.__file__)")
done

if [ -f "$SUITE" ]; then cp "$SUITE" "$WORK/suite.yml"
else cp "$WORK/before-tree/bench/suites/$SUITE.yml" "$WORK/suite.yml"; fi
echo "suite: $WORK/suite.yml (from $SUITE)"

for i in $(seq 1 "$REPEATS"); do
  for side in before after; do
    tree="$WORK/$side-tree"; out="$WORK/out-$side-$i"
    args="$BEFORE_ARGS"; [ "$side" = after ] && args="$AFTER_ARGS"
    rm -rf "$out"
    echo "run $i $side: bench/run.py --suite $WORK/suite.yml --out $out --quiet $args (load $(cut -d' ' -f1 /proc/loadavg))"
    # shellcheck disable=SC2086
    # each tree its own bundled weights: the installed package's fsr.weights is this checkout's
    (cd "$tree" && PYTHONPATH="$tree" FSR_BUNDLED_DIR="$tree/weights" /usr/bin/time -f "  %e s wall, %U s user, %S s sys" \
      "$PY" bench/run.py --suite "$WORK/suite.yml" --out "$out" --quiet $args > "$out.log" 2>&1) \
      || { echo "  failed, see $out.log"; tail -5 "$out.log"; exit 1; }
    tail -1 "$out.log"
  done
done

"$PY" - "$WORK" "$REPEATS" <<'EOF'
import json, sys
from pathlib import Path

import numpy as np
import pandas as pd

work, repeats = Path(sys.argv[1]), int(sys.argv[2])
man = {(s, i): json.loads((work / f"out-{s}-{i}" / "manifest.json").read_text())
       for s in ("before", "after") for i in range(1, repeats + 1)}
total = {k: m["timings"]["total_wall_clock_s"] for k, m in man.items()}
for i in range(1, repeats + 1):
    b, a = total["before", i], total["after", i]
    print(f"run {i}: before {b:.1f} s, after {a:.1f} s, after/before {a / b:.2f}")
stages = sorted({s for m in man.values() for s in m["timings"]["this_run"]})
print(f"\n| stage | before s (min of {repeats}) | after s (min of {repeats}) |\n|---|---|---|")
for st in stages:
    vals = [min(man[s, i]["timings"]["this_run"].get(st, {}).get("seconds", 0.0)
                for i in range(1, repeats + 1)) for s in ("before", "after")]
    print(f"| {st} | {vals[0]:.1f} | {vals[1]:.1f} |")
rb = pd.read_csv(work / "out-before-1" / "results.csv")
ra = pd.read_csv(work / "out-after-1" / "results.csv")
if len(rb) != len(ra):
    print(f"\nresults.csv: {len(rb)} rows before, {len(ra)} after (different suites?)")
    sys.exit(0)
keys = [c for c in rb.columns if c != "value"]
same_keys = rb[keys].equals(ra[keys])
d = (rb["value"] - ra["value"]).abs()
print(f"\nresults.csv: rows {'match' if same_keys else 'DIFFER'}; values: "
      f"{int((d == 0).sum())}/{len(d)} identical")
print(rb.assign(d=d).groupby("metric")["d"].max().rename("max |before - after|").to_string())
EOF
