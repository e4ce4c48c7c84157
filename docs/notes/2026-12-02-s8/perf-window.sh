#!/bin/bash
# Who had the CPU around each traffic switch of bench/cutover (2026-12-02, eighth session).
#   docs/notes/2026-12-02-s8/perf-window.sh TAG [CYCLES]
# Runs bench/cutover with 1 proxy under `perf record -a` (wall-clock timestamps), then counts the samples of
# every process/thread in [switch - 50 ms, switch + 250 ms], the switch time being the worker's
# "now served by" log line (written right after swap and resume). Needs perf (linux-perf) and root.
set -euo pipefail
TAG=$1; CYCLES=${2:-3}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
OUT=/tmp/perf-window-$TAG; mkdir -p $OUT
perf record -k CLOCK_REALTIME -a -F 499 -o $OUT/perf.data > $OUT/perf-record.log 2>&1 & PERF=$!
"$ROOT/bench/cutover/run.sh" "$CYCLES" 1 > $OUT/bench.txt 2> $OUT/bench.err || true
kill -INT $PERF; wait $PERF || true
grep "now served by" $OUT/bench.err | cut -c1-12 > $OUT/switches.txt
perf script -i $OUT/perf.data -F comm,pid,tid,time,ip,sym,dso 2>/dev/null > $OUT/samples.txt
grep -E "switch |HEADLINE" $OUT/bench.txt
python3 "$(dirname "$0")/perf-window.py" $OUT
