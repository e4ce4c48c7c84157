#!/usr/bin/env bash
# CPU of the destination server for COPY FROM of orders: text vs binary (files written by the source server)
export PGPASSWORD=bench PGUSER=postgres PGHOST=127.0.0.1
pm() { local d=/tmp/pgreshard-bench/$1; p=$(head -1 $d/postmaster.pid); t=0; for q in $p $(pgrep -P $p); do t=$((t + $(awk '{print $14+$15+$16+$17}' /proc/$q/stat))); done; echo $t; }
[ -f /tmp/pgreshard-bench/orders.bin ] || { psql -X -q -p 5441 -d app -c "COPY public.orders TO '/tmp/pgreshard-bench/orders.txt'" -c "COPY public.orders TO '/tmp/pgreshard-bench/orders.bin' (FORMAT binary)"; }
psql -X -q -p 5442 -c "DROP DATABASE IF EXISTS cmp WITH (FORCE)" -c "CREATE DATABASE cmp"
pg_dump -p 5441 --schema-only --section=pre-data --no-publications -t public.orders app | grep -v '^\\' | psql -X -q -p 5442 -d cmp >/dev/null
run() { psql -X -q -p 5442 -d cmp -c "TRUNCATE orders" -c CHECKPOINT; c0=$(pm dst); s=$(date +%s.%N); psql -X -q -p 5442 -d cmp -c "$1"; e=$(date +%s.%N); sleep 0.3; c1=$(pm dst); echo "dst cpu $(( c1 - c0 ))0 ms wall $(echo "$e - $s"|bc|cut -c1-5): $1"; }
for i in 1 2; do
run "COPY orders FROM '/tmp/pgreshard-bench/orders.txt'"
run "COPY orders FROM '/tmp/pgreshard-bench/orders.bin' (FORMAT binary)"
run "BEGIN; TRUNCATE orders; COPY orders FROM '/tmp/pgreshard-bench/orders.bin' (FORMAT binary, FREEZE); COMMIT"
done
