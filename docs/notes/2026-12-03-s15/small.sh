#!/usr/bin/env bash
# usage: small.sh SHARDS "JAVA_OPTS" -> wall of data-sync --sync-only of products only (5000 rows): the fixed cost
cd ${DIR:-/work/wt-copy}; export PGPASSWORD=bench; n=$1; cfg=/tmp/pgreshard-bench/pgreshard-small-$n
for ((i=0;i<n;i++)); do psql -X -q -h 127.0.0.1 -p 5442 -U postgres -d s${n}_$i -c "TRUNCATE public.products" 2>/dev/null; done
s=$(date +%s.%N)
PGRESHARD_JAVA_OPTS="-Xmx256m $2" /usr/bin/time -o /tmp/s15/time.out -f "%U %S" ./pgreshard data-sync src dst small_pub --sync-only --config $cfg/pgreshard.toml 2>&1 | while IFS= read -r l; do echo "$(date +%s.%N) $l"; done > /tmp/s15/small.out
e=$(date +%s.%N)
c0=$(grep -m1 "data-sync: copying" /tmp/s15/small.out | cut -d' ' -f1); c1=$(grep -m1 "data-sync: copied" /tmp/s15/small.out | cut -d' ' -f1)
printf "%.3f %.3f %.3f %s\n" $(echo "$e - $s" | bc) $(echo "$c0 - $s" | bc) $(echo "$e - $c0" | bc) "$(awk '{print $1+$2}' /tmp/s15/time.out)"
