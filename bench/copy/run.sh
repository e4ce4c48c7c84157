#!/usr/bin/env bash
# bench/copy: copy throughput of pgreshard against peers measured in the same run, on local
# PostgreSQL 15 servers (Debian binaries). Run by hand, as root (it uses runuser -u postgres):
#
#   bench/copy/run.sh [SIZE_GB]        # default 2; data is generated once and reused
#   ROUNDS=3 bench/copy/run.sh 1       # every method ROUNDS times (default 2), interleaved; best kept
#
# Measures, each into fresh destination databases holding the bare tables (pg_dump pre-data, no
# indexes, the same for every method):
#   (a) raw pipe: psql -c "COPY t TO STDOUT" | psql -c "COPY t FROM STDIN", all tables at once, 1 destination
#   (b) native logical replication initial sync: CREATE SUBSCRIPTION (copy_data), 1 destination
#   (c) pgreshard data-sync --sync-only to 2 and to 4 shards (databases on the destination server),
#       with -Xmx256m (default copy_parallelism: one table or key range per destination shard at once)
#   (d) pgcopydb copy table-data (Debian package pgcopydb) into 1 database with --table-jobs 2 and 4:
#       the tool people use to copy a database, at the same parallelism as pgreshard to 2 and 4 shards
# MB/s = pg_table_size of the published tables on the source / wall time (for pgreshard: the whole
# `data-sync` command, JVM start and preflight included). Prints ratios to (a).
set -euo pipefail
SIZE_GB=${1:-2}
ROUNDS=${ROUNDS:-2}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
WORK=${BENCH_DIR:-/tmp/pgreshard-bench}
SRC_PORT=${SRC_PORT:-5441}
DST_PORT=${DST_PORT:-5442}
PASS=bench
export PGPASSWORD=$PASS PGUSER=postgres PGHOST=127.0.0.1

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
psql_src() { psql -X -q -v ON_ERROR_STOP=1 -p "$SRC_PORT" "$@"; }
psql_dst() { psql -X -q -v ON_ERROR_STOP=1 -p "$DST_PORT" "$@"; }

start_server() { # name port
  local dir="$WORK/$1"
  if [[ ! -d "$dir" ]]; then
    mkdir -p "$WORK" && chown postgres "$WORK"
    echo "$PASS" > "$WORK/pw" && chown postgres "$WORK/pw"
    runuser -u postgres -- "$PGBIN/initdb" -D "$dir" -U postgres --pwfile="$WORK/pw" -A scram-sha-256 -E UTF8 >/dev/null
    cat >> "$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$WORK'
wal_level = logical
max_replication_slots = 32
max_wal_senders = 32
max_connections = 200
shared_buffers = 1GB
max_wal_size = 8GB
checkpoint_timeout = 30min
max_sync_workers_per_subscription = 4
CONF
  fi
  if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir" -l "$WORK/$1.log" -w start >/dev/null
  fi
  # a 2-shard destination needs prepared transactions (pgreshard's preflight checks it: 2PC through the proxy)
  if [[ "$(psql -X -At -p "$2" -c "SHOW max_prepared_transactions")" == 0 ]]; then
    psql -X -q -p "$2" -c "ALTER SYSTEM SET max_prepared_transactions = 200"
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir" -l "$WORK/$1.log" -w restart >/dev/null
  fi
}

generate() {
  if [[ "$(psql_src -At -c "SELECT count(*) FROM pg_database WHERE datname = 'app'")" == 1 ]] &&
     [[ "$(psql_src -d app -At -c "SELECT coalesce(obj_description('public.orders'::regclass), '')")" == "size=$SIZE_GB" ]]; then
    log "source data of ${SIZE_GB} GB already there"; return
  fi
  log "generating ~${SIZE_GB} GB on the source"
  psql_src -c "DROP DATABASE IF EXISTS app" -c "CREATE DATABASE app"
  local o l e
  o=$(echo "$SIZE_GB * 2600000 / 1" | bc); l=$(echo "$SIZE_GB * 4200000 / 1" | bc); e=$(echo "$SIZE_GB * 1300000 / 1" | bc)
  psql_src -d app <<SQL
CREATE TABLE public.orders (id bigint, customer_id bigint, amount numeric(12,2), status text,
  created_at timestamptz, note text, PRIMARY KEY (customer_id, id));
CREATE TABLE public.line_items (order_id bigint, n int, sku text, qty int, price numeric(10,2),
  PRIMARY KEY (order_id, n));
CREATE TABLE public.events (account uuid, id bigint, kind text, payload jsonb, at timestamptz, PRIMARY KEY (account, id));
CREATE TABLE public.products (sku text PRIMARY KEY, name text, price numeric(10,2));
INSERT INTO orders SELECT g, g % 100000, (g % 10000) / 100.0, (ARRAY['new','paid','shipped'])[1 + g % 3],
  now() - g * interval '1 second', 'order note ' || md5(g::text) || ' ' || repeat('x', g % 40)
  FROM generate_series(1, $o) g;
INSERT INTO line_items SELECT g / 3, g % 3, 'sku-' || (g % 5000), 1 + g % 7, (g % 997) / 10.0
  FROM generate_series(1, $l) g;
INSERT INTO events SELECT md5((g % 50000)::text)::uuid, g, 'click',
  jsonb_build_object('page', '/p/' || (g % 1000), 'ref', md5(g::text), 'n', g), now() - g * interval '1 ms'
  FROM generate_series(1, $e) g;
INSERT INTO products SELECT 'sku-' || g, 'Product ' || g, g / 10.0 FROM generate_series(0, 4999) g;
CREATE PUBLICATION bench_pub FOR TABLE orders, line_items, events, products;
COMMENT ON TABLE orders IS 'size=$SIZE_GB';
VACUUM ANALYZE;
SQL
}

fresh_db() { # name: empty database with the bare tables
  psql_dst -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  pg_dump -p "$SRC_PORT" --schema-only --section=pre-data --no-publications app | grep -v '^\\' | psql_dst -d "$1" >/dev/null
}

now() { date +%s.%N; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
start_server src "$SRC_PORT"
start_server dst "$DST_PORT"
generate
BYTES=$(psql_src -d app -At -c "SELECT sum(pg_table_size(format('%I.%I', schemaname, tablename)::regclass)) FROM pg_publication_tables WHERE pubname = 'bench_pub'")
ROWS=$(psql_src -d app -At -c "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM line_items) + (SELECT count(*) FROM events) + (SELECT count(*) FROM products)")
log "source: $ROWS rows, $((BYTES / 1000000)) MB in the published tables"
declare -A SECS

record() { # method seconds: keep the best round (the machine may be shared; the best is the least disturbed)
  if [[ -z "${SECS[$1]:-}" ]] || (( $(echo "$2 < ${SECS[$1]}" | bc) )); then SECS[$1]=$2; fi
  log "$1: $2 s"
}

run_raw() { # (a) raw pipe, every table at once
  fresh_db raw
  local t0; t0=$(now)
  for t in orders line_items events products; do
    psql -X -p "$SRC_PORT" -d app -c "COPY public.$t TO STDOUT" | psql -X -q -p "$DST_PORT" -d raw -c "COPY public.$t FROM STDIN" &
  done
  wait
  record raw "$(echo "$(now) - $t0" | bc)"
}

run_subscription() { # (b) CREATE SUBSCRIPTION initial sync
  fresh_db sub
  local t0; t0=$(now)
  psql_dst -d sub -c "CREATE SUBSCRIPTION bench_sub CONNECTION 'host=127.0.0.1 port=$SRC_PORT dbname=app user=postgres password=$PASS' PUBLICATION bench_pub" 2>/dev/null
  until [[ "$(psql_dst -d sub -At -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate NOT IN ('r', 's')")" == 0 ]]; do sleep 0.2; done
  record subscription "$(echo "$(now) - $t0" | bc)"
  psql_dst -d sub -c "DROP SUBSCRIPTION bench_sub" 2>/dev/null
}

run_pgcopydb() { # (d) pgcopydb copy table-data, $1 table jobs, into one database
  local n=$1 db="pgcopydb_$1" work="$WORK/pgcopydb-$1"
  fresh_db "$db"
  rm -rf "$work"
  local t0; t0=$(now)
  pgcopydb copy table-data --dir "$work" --table-jobs "$n" \
    --source "postgres://postgres:$PASS@127.0.0.1:$SRC_PORT/app" \
    --target "postgres://postgres:$PASS@127.0.0.1:$DST_PORT/$db" >"$WORK/pgcopydb-$n.log" 2>&1 ||
    { echo "pgcopydb failed: see $WORK/pgcopydb-$n.log" >&2; tail -n 20 "$WORK/pgcopydb-$n.log" >&2; exit 1; }
  record "pgcopydb_$n" "$(echo "$(now) - $t0" | bc)"
  local got
  got=$(psql_dst -d "$db" -At -c "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM line_items) + (SELECT count(*) FROM events) + (SELECT count(*) FROM products)")
  [[ "$got" == "$ROWS" ]] || { echo "pgcopydb with $n jobs: $got rows, source has $ROWS" >&2; exit 1; }
}

run_pgreshard() { # (c) pgreshard data-sync --sync-only to $1 shards
  local n=$1 cfg="$WORK/pgreshard-$1" t0 got
  mkdir -p "$cfg"
  {
    echo "[[databases]]"; echo "name = \"src\""; echo "host = \"127.0.0.1\""; echo "port = $SRC_PORT"; echo "database_name = \"app\""; echo "shard = 0"
    for ((i = 0; i < n; i++)); do
      echo "[[databases]]"; echo "name = \"dst\""; echo "host = \"127.0.0.1\""; echo "port = $DST_PORT"; echo "database_name = \"s${n}_$i\""; echo "shard = $i"
    done
    for spec in "orders customer_id bigint" "line_items order_id bigint" "events account uuid"; do
      set -- $spec
      echo "[[sharded_tables]]"; echo "database = \"dst\""; echo "name = \"$1\""; echo "column = \"$2\""; echo "data_type = \"$3\""
    done
  } > "$cfg/pgreshard.toml"
  printf '[[users]]\nname = "postgres"\ndatabase = "src"\npassword = "%s"\n[[users]]\nname = "postgres"\ndatabase = "dst"\npassword = "%s"\n' "$PASS" "$PASS" > "$cfg/users.toml"
  for ((i = 0; i < n; i++)); do
    psql_dst -c "DROP DATABASE IF EXISTS s${n}_$i WITH (FORCE)" -c "CREATE DATABASE s${n}_$i" 2>/dev/null
  done
  (cd "$here" && ./pgreshard schema-sync src dst bench_pub --config "$cfg/pgreshard.toml" >/dev/null)
  t0=$(now)
  summary=$(cd "$here" && PGRESHARD_JAVA_OPTS=-Xmx256m ./pgreshard data-sync src dst bench_pub --sync-only --config "$cfg/pgreshard.toml" | tail -n 2 | head -n 1)
  record "pgreshard_$n" "$(echo "$(now) - $t0" | bc)"
  echo "$summary" >&2
  # the copy alone, as data-sync measures it (without JVM start and preflight)
  record "pgreshard_${n}_copy_only" "$(echo "$summary" | sed -E 's/.* in ([0-9.]+) s .*/\1/')"
  got=$(for ((i = 0; i < n; i++)); do psql_dst -d "s${n}_$i" -At -c "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM line_items) + (SELECT count(*) FROM events) + (SELECT count(*) FROM products) / $n"; done | paste -sd+ | bc)
  [[ "$got" == "$ROWS" ]] || { echo "pgreshard to $n shards: $got rows on the shards, source has $ROWS" >&2; exit 1; }
}

if ! command -v pgcopydb >/dev/null; then
  echo "bench/copy needs pgcopydb: apt-get update; apt-get install -y pgcopydb" >&2
  exit 2
fi
(cd "$here" && ./pgreshard --version >/dev/null)
for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round of $ROUNDS"
  run_raw
  run_subscription
  run_pgcopydb 2
  run_pgreshard 2
  run_pgcopydb 4
  run_pgreshard 4
done

echo
echo "load average at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on the machine disturb every method alike)"
echo "bench/copy: $ROWS rows, best of $ROUNDS rounds, $((BYTES / 1000000)) MB (pg_table_size of 4 published tables), $(nproc) cores, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')"
printf '%-28s %9s %9s %9s %12s\n' method seconds MB/s "vs raw" "vs pgcopydb"
for m in raw subscription pgcopydb_2 pgcopydb_4 pgreshard_2 pgreshard_4 pgreshard_2_copy_only pgreshard_4_copy_only; do
  s=${SECS[$m]}
  peer=""
  case "$m" in pgreshard_2*) peer=$(printf '%.2f' "$(echo "${SECS[pgcopydb_2]} / $s" | bc -l)") ;;
               pgreshard_4*) peer=$(printf '%.2f' "$(echo "${SECS[pgcopydb_4]} / $s" | bc -l)") ;; esac
  printf '%-28s %9.1f %9.1f %9.2f %12s\n' "$m" "$s" "$(echo "$BYTES / 1000000 / $s" | bc -l)" "$(echo "${SECS[raw]} / $s" | bc -l)" "$peer"
done
echo "(vs raw, vs pgcopydb: the peer's seconds / this method's; above 1.00 = faster than the peer. pgcopydb_N and"
echo " pgreshard_N copy the same 4 tables with N at once; pgreshard's whole command includes JVM start and preflight)"
