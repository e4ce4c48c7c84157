#!/usr/bin/env bash
# runs bench/cutover with samplers: CPU per process (sampler.py) and pg_stat_activity of source/d0/d1
# usage: instrumented.sh OUTDIR WORKTREE CYCLES PROXIES   (under the machine lock; then analyze.py / stepcpu.py / harm.py OUTDIR BENCH_TMPDIR)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$1; WT=$2; CYC=$3; PRX=$4
mkdir -p $OUT; rm -f $OUT/stop
python3 $HERE/sampler.py $OUT/cpu.tsv $OUT/stop &
SAMPLER=$!
(
  seen=""
  while [ ! -f $OUT/stop ]; do
    for port in $(ps -eo args | grep "^/.*postgres .* -p [0-9]*" -o | grep -o " -p [0-9]*" | awk '{print $2}'); do
      case " $seen " in *" $port "*) continue;; esac
      db=$(PGPASSWORD=postgres psql -X -qAt -h 127.0.0.1 -p $port -U postgres postgres -c "select string_agg(datname,',') from pg_database where datname ~ '^(src|d0|d1)'" 2>/dev/null) || continue
      [ -n "$db" ] || continue
      seen="$seen $port"
      echo "$(date +%s%3N) port $port dbs $db" >> $OUT/ports.txt
      PGPASSWORD=postgres psql -X -q -h 127.0.0.1 -p $port -U postgres postgres -f $HERE/pgwatch.sql > $OUT/act-$port.txt 2>&1 &
      echo $! >> $OUT/psql.pids
    done
    sleep 1
  done
) &
WATCHER=$!
cd $WT
date -u > $OUT/start.txt; cat /proc/loadavg >> $OUT/start.txt
PROXY_RELEASE_LOG=DEBUG PROXY_JAVA_OPTS="-XX:+UseZGC -Xlog:safepoint*=info,gc=info:file=$OUT/proxy-jvm-%p.log:time,uptime" \
  CLIENTS_JAVA_OPTS="-XX:+UseZGC -Xlog:safepoint*=info,gc=info:file=$OUT/clients-jvm-%p.log:time,uptime" \
  bench/cutover/run.sh $CYC $PRX > $OUT/bench.out 2> $OUT/bench.err
echo "rc=$?" >> $OUT/bench.out
date -u >> $OUT/start.txt; cat /proc/loadavg >> $OUT/start.txt
touch $OUT/stop
wait $WATCHER
for p in $(cat $OUT/psql.pids 2>/dev/null); do kill $p 2>/dev/null; done
wait $SAMPLER
