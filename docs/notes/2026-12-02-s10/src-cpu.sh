#!/usr/bin/env bash
# CPU of the source server for one COPY of orders: COPY table vs COPY (SELECT ...) vs a ctid-range SELECT (bench/copy servers running)
export PGPASSWORD=bench PGUSER=postgres PGHOST=127.0.0.1
pm() { local d=/tmp/pgreshard-bench/$1; p=$(head -1 $d/postmaster.pid); t=0; for q in $p $(pgrep -P $p); do t=$((t + $(awk '{print $14+$15+$16+$17}' /proc/$q/stat))); done; echo $t; }
run() { c0=$(pm src); s=$(date +%s.%N); psql -X -p 5441 -d app -c "$1" > /dev/null; e=$(date +%s.%N); sleep 0.3; c1=$(pm src); echo "src cpu $(( c1 - c0 ))0 ms wall $(echo "$e - $s"|bc|cut -c1-5): $1"; }
for i in 1 2 3; do
run "COPY public.orders TO STDOUT (FORMAT binary)"
run "COPY (SELECT * FROM public.orders) TO STDOUT (FORMAT binary)"
run "COPY (SELECT id, customer_id, amount, status, created_at, note FROM public.orders) TO STDOUT (FORMAT binary)"
run "COPY (SELECT * FROM public.orders WHERE ctid >= '(0,0)'::tid) TO STDOUT (FORMAT binary)"
done
