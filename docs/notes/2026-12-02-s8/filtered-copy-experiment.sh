#!/bin/bash
# experiment: server-side filtered COPY pipes (satisfies_hash_partition) vs the raw pipe, bench/copy's data
set -uo pipefail
export PGPASSWORD=bench PGUSER=postgres PGHOST=127.0.0.1
PGBIN=/usr/lib/postgresql/15/bin; WORK=/tmp/pgreshard-bench
for s in "src 5441" "dst 5442"; do set -- $s
  runuser -u postgres -- $PGBIN/pg_ctl -D $WORK/$1 status >/dev/null 2>&1 || runuser -u postgres -- $PGBIN/pg_ctl -D $WORK/$1 -l $WORK/$1.log -w start >/dev/null
done
S="psql -X -q -p 5441 -d app"; 
$S -c "CREATE TABLE IF NOT EXISTS hp_bigint (k bigint) PARTITION BY HASH (k)" -c "CREATE TABLE IF NOT EXISTS hp_uuid (k uuid) PARTITION BY HASH (k)"
fresh() { psql -X -q -p 5442 -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"; pg_dump -p 5441 --schema-only --section=pre-data --no-publications -T hp_bigint -T hp_uuid app | grep -v '^\\' | psql -X -q -p 5442 -d $1 >/dev/null; }
now() { date +%s.%N; }
raw() {
  fresh xraw; t0=$(now)
  for t in orders line_items events products; do
    psql -X -p 5441 -d app -c "COPY public.$t TO STDOUT (FORMAT binary)" | psql -X -q -p 5442 -d xraw -c "COPY public.$t FROM STDIN (FORMAT binary)" &
  done; wait; echo "raw binary: $(echo "$(now) - $t0" | bc) s"
}
filt() { n=$1
  for ((i=0;i<n;i++)); do fresh xf${n}_$i; done; t0=$(now)
  for ((i=0;i<n;i++)); do
    for spec in "orders customer_id hp_bigint" "line_items order_id hp_bigint" "events account hp_uuid" "products - -"; do set -- $spec
      if [ "$2" = "-" ]; then q="SELECT * FROM $1"; else q="SELECT * FROM $1 WHERE satisfies_hash_partition('$3'::regclass, $n, $i, $2)"; fi
      psql -X -p 5441 -d app -c "COPY ($q) TO STDOUT (FORMAT binary)" | psql -X -q -p 5442 -d xf${n}_$i -c "COPY public.$1 FROM STDIN (FORMAT binary)" &
    done
  done; wait; echo "filtered to $n shards ($((n*4)) pipes at once): $(echo "$(now) - $t0" | bc) s"
  tot=0; for ((i=0;i<n;i++)); do c=$(psql -X -At -p 5442 -d xf${n}_$i -c "SELECT (SELECT count(*) FROM orders)+(SELECT count(*) FROM line_items)+(SELECT count(*) FROM events)"); tot=$((tot+c)); done; echo "  rows (sharded tables): $tot"
}
uptime
raw; filt 2; filt 4; raw; filt 2; filt 4
echo "source rows: $($S -At -c "SELECT (SELECT count(*) FROM orders)+(SELECT count(*) FROM line_items)+(SELECT count(*) FROM events)")"
uptime
