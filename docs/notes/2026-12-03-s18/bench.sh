#!/usr/bin/env bash
# usage: bench.sh OUTDIR CYCLES PROXIES  (env passes through: PROXY_ARGS etc.); takes the machine lock
set -u
OUT=$1; CYC=${2:-10}; PRX=${3:-1,2}
mkdir -p $OUT
WT=${WT:-/work/main}; flock -o /tmp/s15/machine.lock bash -c "
cd ${WT:-/work/main}
(date -u; uptime) > $OUT/start.txt
bench/cutover/run.sh $CYC $PRX > $OUT/bench.out 2> $OUT/bench.err
echo rc=\$? >> $OUT/bench.out
(date -u; uptime) >> $OUT/start.txt
"
