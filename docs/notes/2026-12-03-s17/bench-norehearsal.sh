#!/usr/bin/env bash
# as bench.sh, with the proxies' start-up rehearsal turned off (-Dpgreshard.proxy.rehearsal=false)
set -u
OUT=$1; WT=$2; CYC=${3:-10}; PRX=${4:-1,2}
mkdir -p $OUT
flock -o /tmp/s15/machine.lock bash -c "
cd $WT
(date -u; uptime) > $OUT/start.txt
mvn -B -o -q package -DskipTests > $OUT/build.log 2>&1 || { echo build failed >> $OUT/start.txt; exit 1; }
(date -u; uptime) >> $OUT/start.txt
ls -d /tmp/pgreshard-bench-cutover* > $OUT/tmp-before.txt 2>/dev/null
PROXY_JAVA_OPTS='-XX:+UseZGC -Dpgreshard.proxy.rehearsal=false -Xlog:jit+compilation=debug:file=$OUT/proxy-jit-%p.log:time,uptime' \
  bench/cutover/run.sh $CYC $PRX > $OUT/bench.out 2> $OUT/bench.err
echo rc=\$? >> $OUT/bench.out
(date -u; uptime) >> $OUT/start.txt
ls -d /tmp/pgreshard-bench-cutover* > $OUT/tmp-after.txt
"
