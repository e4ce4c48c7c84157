#!/usr/bin/env bash
# bench/scaleout (issue 21): the same RESHARD with 1, 2 and 3 `pgreshard worker` processes on one
# Temporal server, each worker pinned to its own core with taskset where the machine has them (on
# fewer cores, workers share them round-robin: the run then shows distribution, not speed-up).
# Run by hand, as root (it uses runuser -u postgres); local PostgreSQL 15 servers (Debian binaries):
#
#   bench/scaleout/run.sh [SIZE_MB]      # default 300; data generated once and reused (BENCH_DIR)
#
# Per worker count it prints: copy wall time (phase COPY as the control store's task registry records
# it, polled every 0.2 s; it includes creating the forward replication slot), copy throughput (pg_table_size of the published tables / that time), the ratio to one worker,
# each worker's CPU seconds over the copy (utime+stime of its JVM), the source server's CPU seconds
# (every backend of the source postmaster), and how many copy activities each worker completed.
# Workers take copy_slots = their cores (1 when pinned to one core); the big table is split into key
# ranges (copy_split_threshold_bytes = SIZE_MB/8 MB), so it spreads too.
set -euo pipefail
SIZE_MB=${1:-300}
WORKERS=${WORKERS:-"1 2 3"}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
WORK=${BENCH_DIR:-/tmp/pgreshard-scaleout}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SRC_PORT=${SRC_PORT:-$(free_port)}
DST_PORT=${DST_PORT:-$(free_port)}
TEMPORAL_PORT=${TEMPORAL_PORT:-$(free_port)}
PASS=bench
CORES=$(nproc)
JAR=${PGRESHARD_JAR:-"$here/cli/target/pgreshard.jar"}
# the jar as it is (build it first: ./pgreshard --version); the launcher would rebuild it mid-run when a source changed
pgr() { java -jar "$JAR" "$@"; }
export PGPASSWORD=$PASS PGUSER=postgres PGHOST=127.0.0.1

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
psql_src() { psql -X -q -v ON_ERROR_STOP=1 -p "$SRC_PORT" "$@"; }
psql_dst() { psql -X -q -v ON_ERROR_STOP=1 -p "$DST_PORT" "$@"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # utime + stime of one process
children_ticks() { # utime+stime of every child of a postmaster: the live ones plus those it has reaped
  # (cutime+cstime), since copy backends end before the copy phase does
  local sum p
  sum=$(awk '{print $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0)
  for p in $(pgrep -P "$1"); do sum=$((sum + $(cpu_ticks "$p"))); done
  echo "$sum"
}
HZ=$(getconf CLK_TCK)

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
max_replication_slots = 64
max_wal_senders = 64
max_connections = 300
shared_buffers = 256MB
max_wal_size = 4GB
CONF
  fi
  if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir" -l "$WORK/$1.log" -o "-p $2" -w start >/dev/null
  fi
}

generate() {
  if [[ "$(psql_src -At -c "SELECT count(*) FROM pg_database WHERE datname = 'app'")" == 1 ]] &&
     [[ "$(psql_src -d app -At -c "SELECT coalesce(obj_description('public.orders'::regclass), '')")" == "size=$SIZE_MB" ]]; then
    log "source data of ${SIZE_MB} MB already there"; return
  fi
  log "generating ~${SIZE_MB} MB on the source"
  psql_src -c "DROP DATABASE IF EXISTS app" -c "CREATE DATABASE app"
  local o=$((SIZE_MB * 5000)) l=$((SIZE_MB * 3000)) e=$((SIZE_MB * 1500))
  psql_src -d app <<SQL
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text);
CREATE TABLE line_items (id bigint PRIMARY KEY, order_id bigint NOT NULL, sku text, qty int);
CREATE TABLE events (id bigint PRIMARY KEY, account bigint NOT NULL, payload text);
CREATE TABLE products (sku text PRIMARY KEY, name text);
ALTER TABLE orders REPLICA IDENTITY FULL; ALTER TABLE line_items REPLICA IDENTITY FULL; ALTER TABLE events REPLICA IDENTITY FULL;
INSERT INTO orders SELECT g, g % 100000, (g % 10000) / 100.0, 'order note ' || md5(g::text) FROM generate_series(1, $o) g;
INSERT INTO line_items SELECT g, g / 3, 'sku-' || (g % 5000), 1 + g % 7 FROM generate_series(1, $l) g;
INSERT INTO events SELECT g, g % 50000, repeat(md5(g::text), 2) FROM generate_series(1, $e) g;
INSERT INTO products SELECT 'sku-' || g, 'Product ' || g FROM generate_series(0, 4999) g;
CREATE PUBLICATION bench_pub FOR TABLE orders, line_items, events, products;
COMMENT ON TABLE orders IS 'size=$SIZE_MB';
VACUUM ANALYZE;
SQL
}

write_config() {
  local cfg="$WORK/cfg"
  mkdir -p "$cfg"
  {
    # every table may be in flight at once: the workers' copy slots, not copy_parallelism, are the limit measured
    echo "[general]"; echo "copy_split_threshold_bytes = $((SIZE_MB * 1024 * 1024 / 8))"; echo "copy_parallelism = 4"
    # the bench never cuts over: no proxy 2PC, so the destination needs no max_prepared_transactions
    echo "two_phase_commit = false"
    echo "[temporal]"; echo "target = \"127.0.0.1:$TEMPORAL_PORT\""; echo "heartbeat_timeout_seconds = 15"
    echo "[control]"; echo "url = \"jdbc:postgresql://127.0.0.1:$DST_PORT/control\""; echo "user = \"postgres\""; echo "password = \"$PASS\""
    echo "[[databases]]"; echo "name = \"src\""; echo "host = \"127.0.0.1\""; echo "port = $SRC_PORT"; echo "database_name = \"app\""; echo "shard = 0"
    for i in 0 1; do
      echo "[[databases]]"; echo "name = \"dst\""; echo "host = \"127.0.0.1\""; echo "port = $DST_PORT"; echo "database_name = \"s_$i\""; echo "shard = $i"
    done
    for spec in "orders customer_id" "line_items order_id" "events account"; do
      set -- $spec
      echo "[[sharded_tables]]"; echo "database = \"dst\""; echo "name = \"$1\""; echo "column = \"$2\""; echo "data_type = \"bigint\""
    done
  } > "$cfg/pgreshard.toml"
  printf '[[users]]\nname = "postgres"\ndatabase = "src"\npassword = "%s"\n[[users]]\nname = "postgres"\ndatabase = "dst"\npassword = "%s"\n' "$PASS" "$PASS" > "$cfg/users.toml"
  echo "$cfg/pgreshard.toml"
}

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -z "${KEEP_SERVERS:-}" ]]; then # the data directories stay for the next run; the servers do not
    for d in src dst; do runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/$d" -m fast stop >/dev/null 2>&1 || true; done
  fi
}
trap cleanup EXIT

run_with() { # k workers
  local k=$1 cfg=$2 i task phase t0="" t1="" wpids=() w0=() s0 s1
  for i in 0 1; do psql_dst -c "DROP DATABASE IF EXISTS s_$i WITH (FORCE)" -c "CREATE DATABASE s_$i" 2>/dev/null; done
  for ((i = 0; i < k; i++)); do
    local core=$((i % CORES)) attempt
    for attempt in 1 2 3 4 5; do # a busy machine may take longer than the worker's 30 s to reach Temporal
      taskset -c "$core" java ${PGRESHARD_JAVA_OPTS:--Xmx384m} -jar "$JAR" worker --config "$cfg" \
        > "$WORK/worker-$k-$i.log" 2>&1 &
      wpids[$i]=$!; PIDS+=($!)
      until grep -q "pgreshard worker running" "$WORK/worker-$k-$i.log" || ! kill -0 "${wpids[$i]}" 2>/dev/null; do sleep 0.5; done
      grep -q "pgreshard worker running" "$WORK/worker-$k-$i.log" && break
      log "worker $i did not start (attempt $attempt): $(tail -1 "$WORK/worker-$k-$i.log")"
      [[ $attempt == 5 ]] && exit 1
    done
  done
  task=$(pgr reshard src dst bench_pub --manual-cutover --config "$cfg")
  log "$k worker(s): task $task"
  local postmaster; postmaster=$(head -1 "$WORK/src/postmaster.pid")
  while true; do
    phase=$(psql_dst -d control -At -c "SELECT phase FROM pgreshard_task WHERE task_id = '$task'" 2>/dev/null || true)
    if [[ -z "$t0" && "$phase" == COPY ]]; then
      t0=$(date +%s.%N); s0=$(children_ticks "$postmaster")
      for ((i = 0; i < k; i++)); do w0[$i]=$(cpu_ticks "${wpids[$i]}"); done
    fi
    if [[ -n "$t0" && "$phase" != COPY ]]; then t1=$(date +%s.%N); break; fi
    if [[ -z "$t0" && "$phase" =~ ^(SCHEMA_POST|REPLICATING)$ ]]; then
      log "the copy ended between two polls: too short to time; use a larger SIZE_MB"; exit 1
    fi
    [[ "$phase" == FAILED ]] && { pgr status "$task" --config "$cfg" >&2; exit 1; }
    sleep 0.2
  done
  s1=$(children_ticks "$postmaster")
  local secs; secs=$(echo "$t1 - $t0" | bc)
  SECS[$k]=$secs
  local cpus=""
  for ((i = 0; i < k; i++)); do cpus+="$(echo "scale=1; ($(cpu_ticks "${wpids[$i]}") - ${w0[$i]}) / $HZ" | bc) "; done
  WCPU[$k]=$cpus
  SCPU[$k]=$(echo "scale=1; ($s1 - $s0) / $HZ" | bc)
  # which worker copied how many tables / key ranges: the placement `status` prints per table
  # ("by PID@host: whole at …" or "by PID@host: 3 ranges at …; PID@host: 1 range at …")
  local status per=""
  status=$(pgr status "$task" --config "$cfg" 2>/dev/null || true)
  for ((i = 0; i < k; i++)); do
    per+="$(grep -oE "(by |; )${wpids[$i]}@[^:]+: (whole|[0-9]+ ranges?)" <<<"$status" \
      | awk '{ if ($NF == "whole") n += 1; else n += $(NF-1) } END { print n + 0 }') "
  done
  PER[$k]=$per
  grep -E '^  ' <<<"$status" | head -8 >&2 || true
  log "$k worker(s): copy ${secs} s, worker CPU s: ${cpus}, source CPU ${SCPU[$k]} s, copies per worker: ${per}"
  # the next worker count needs this task stopped; `stop` may fail to reach Temporal on a busy machine
  for i in 1 2 3 4 5; do
    pgr stop "$task" --config "$cfg" >/dev/null 2>&1 && break
    log "stop of $task failed (attempt $i); retrying"
  done
  for p in "${wpids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
[[ -f "$JAR" ]] || (cd "$here" && ./pgreshard --version >/dev/null) # builds the jar if missing
start_server src "$SRC_PORT"
start_server dst "$DST_PORT"
psql_dst -c "DROP DATABASE IF EXISTS control WITH (FORCE)" -c "CREATE DATABASE control" 2>/dev/null
generate
BYTES=$(psql_src -d app -At -c "SELECT sum(pg_table_size(format('%I.%I', schemaname, tablename)::regclass)) FROM pg_publication_tables WHERE pubname = 'bench_pub'")
CFG=$(write_config)
java -jar "$JAR" temporal --port "$TEMPORAL_PORT" > "$WORK/temporal.log" 2>&1 &
PIDS+=($!)
until (exec 3<>/dev/tcp/127.0.0.1/$TEMPORAL_PORT) 2>/dev/null; do sleep 0.5; done
# the destination's schema once per run (schema sync is not what is measured; the task's own pre-data sync re-applies it idempotently)
declare -A SECS WCPU SCPU PER
for k in $WORKERS; do run_with "$k" "$CFG"; done

echo
echo "load average at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine disturbs every worker count alike only roughly: read the ratios with that in mind)"
echo "bench/scaleout: $((BYTES / 1000000)) MB (pg_table_size of 4 published tables) into 2 shards, $CORES cores, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), $(date -u +%FT%TZ)"
printf '%-8s %9s %9s %9s  %-24s %10s  %s\n' workers copy_s MB/s "vs 1" "worker CPU s" "source CPU" "tables/ranges copied per worker"
for k in $WORKERS; do
  s=${SECS[$k]}
  printf '%-8s %9.1f %9.1f %9.2f  %-24s %10s  %s\n' "$k" "$s" "$(echo "$BYTES / 1000000 / $s" | bc -l)" \
    "$(echo "${SECS[${WORKERS%% *}]} / $s" | bc -l)" "${WCPU[$k]}" "${SCPU[$k]}" "${PER[$k]}"
done
