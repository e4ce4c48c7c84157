#!/usr/bin/env bash
# instr.sh OUTDIR CYCLES PROXIES: bench/cutover from $WT with JFR in each proxy JVM and in the bench JVM,
# every commit dumped (TIMELINE_OUT), and the CPU sampler; under the machine lock
set -u
OUT=$1; CYC=$2; PRX=$3; WT=${WT:-/work/wt18}
mkdir -p $OUT
flock -o /tmp/s15/machine.lock bash -c "
cd $WT
rm -f $OUT/stop
python3 /tmp/s18/sampler.py $OUT/cpu.tsv $OUT/stop &
(date -u; uptime) > $OUT/start.txt
TIMELINE_OUT=$OUT/tl PROXY_JAVA_OPTS='-XX:+UseZGC -XX:StartFlightRecording=filename=$OUT/,settings=profile,dumponexit=true' \
  JAVA_OPTS='-XX:StartFlightRecording=filename=$OUT/bench.jfr,settings=profile,dumponexit=true' \
  bench/cutover/run.sh $CYC $PRX > $OUT/bench.out 2> $OUT/bench.err
echo rc=\$? >> $OUT/bench.out
(date -u; uptime) >> $OUT/start.txt
touch $OUT/stop; wait
"
