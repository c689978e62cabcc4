#!/usr/bin/env bash
# The outputs: round trip of bench/README.md ("Score your own method"): export the pose suite's
# sample-set inputs, restore them with fsr's own CLI as an outside tool, score that folder beside
# the built-in methods, and print the per-task comparison table.
#   bash bench/studies/outputs_round_trip.sh [WORKDIR]   (default /tmp/fsr-round-trip; ~15 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
R=${1:-/tmp/fsr-round-trip}
rm -rf "$R/inputs" "$R/mine" "$R/run"
uv run python bench/run.py --suite pose --datasets samples --export-inputs "$R/inputs" --quiet
for pair in sr-x4:sam3d-x4-samples sr-x8:sam3d-x8-samples restore:mmrb-sg2-128-samples; do
  task=${pair%%:*}; method=${pair#*:}
  uv run python -m fsr restore "$R/inputs/samples/$task" "$R/mine/samples/$task" --aligned \
    --method "$method" > /dev/null 2>&1
done
uv run python bench/run.py --suite pose --datasets samples --quiet --out "$R/run" \
  --methods "sam3d-x4-samples,sam3d-x8-samples,mmrb-sg2-128-samples,fsr-cli=outputs:$R/mine" \
  > "$R/run.log" 2>&1
uv run python - "$R/run/results.csv" <<'PY'
import sys

import pandas as pd

r = pd.read_csv(sys.argv[1])
w = r.pivot_table(index=["task", "image_id", "metric"], columns="method", values="value")
label = next(c for c in w.columns if c.startswith("fsr-cli@"))
print(f"outputs label: {label}")
print("| task | built-in | metric | mean built-in | mean outputs: | max abs diff | n |")
print("|---|---|---|---:|---:|---:|---:|")
for task, ref in (("sr-x4", "sam3d-x4-samples"), ("sr-x8", "sam3d-x8-samples"),
                  ("restore", "mmrb-sg2-128-samples")):
    sub = w.loc[task]
    for metric in ("psnr", "ssim", "lpips", "identity-dist", "identity-match"):
        s = sub.xs(metric, level="metric")[[ref, label]].dropna()
        print(f"| {task} | {ref} | {metric} | {s[ref].mean():.4f} | {s[label].mean():.4f} | "
              f"{(s[ref] - s[label]).abs().max():.2e} | {len(s)} |")
PY
