#!/usr/bin/env bash
# usage: ds.sh SHARDS "JAVA_OPTS" -> wall; start (launch -> "copying" line); copy; end ("copied" line -> exit); JVM CPU
cd ${DIR:-/work/wt-copy}; export PGPASSWORD=bench; n=$1; cfg=/tmp/pgreshard-bench/pgreshard-$n
for ((i=0;i<n;i++)); do psql -X -q -h 127.0.0.1 -p 5442 -U postgres -c "DROP DATABASE IF EXISTS s${n}_$i WITH (FORCE)" -c "CREATE DATABASE s${n}_$i" 2>/dev/null; done
./pgreshard schema-sync src dst bench_pub --config $cfg/pgreshard.toml >/dev/null
s=$(date +%s.%N)
PGRESHARD_JAVA_OPTS="-Xmx256m $2" /usr/bin/time -o /tmp/s15/time.out -f "%U %S" ./pgreshard data-sync src dst bench_pub --sync-only --config $cfg/pgreshard.toml 2>&1 | while IFS= read -r l; do echo "$(date +%s.%N) $l"; done > /tmp/s15/ds.out
e=$(date +%s.%N)
c0=$(grep -m1 "data-sync: copying" /tmp/s15/ds.out | cut -d' ' -f1); c1=$(grep -m1 "data-sync: copied" /tmp/s15/ds.out | cut -d' ' -f1)
copy=$(grep "data-sync: copied" /tmp/s15/ds.out | sed -E 's/.* in ([0-9.]+) s .*/\1/')
printf "whole %.2f; start %.2f; copy %s; end %.2f; jvm %s CPU-s; load %s; opts=[%s]\n" $(echo "$e - $s" | bc) $(echo "$c0 - $s" | bc) "$copy" $(echo "$e - $c1" | bc) "$(awk '{print $1+$2}' /tmp/s15/time.out)" "$(cut -d' ' -f1 /proc/loadavg)" "$2"
