#!/usr/bin/env bash
# Runs bench/run-all.sh N times (default 5) and prints the median of each figure of its `RATIOS` lines.
# Usage: sudo ./bench/median.sh [N]        (each run's full output goes to /tmp/tcpcraft-bench-run-K.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
lines=()
for k in $(seq "$n"); do
  ./bench/run-all.sh > "/tmp/tcpcraft-bench-run-$k.txt" 2>&1 || { echo "run $k failed:"; tail -5 "/tmp/tcpcraft-bench-run-$k.txt"; exit 1; }
  line=$(grep '^RATIOS ' "/tmp/tcpcraft-bench-run-$k.txt")
  echo "run $k: ${line#RATIOS }"
  lines+=("${line#RATIOS }")
done
printf '%s\n' "${lines[@]}" | python3 -c '
import sys, statistics
runs = [dict(kv.split("=") for kv in l.split()) for l in sys.stdin if l.strip()]
print("median of %d runs:" % len(runs))
for k in runs[0]:
    print("  %-18s %s" % (k, round(statistics.median(float(r[k]) for r in runs), 3)))
'
