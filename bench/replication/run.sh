#!/usr/bin/env bash
# Replication apply-rate benchmark: pgreshard (into 2 shards) vs PostgreSQL's native
# CREATE SUBSCRIPTION (into 1 database), on the same recorded pgbench-style write workload.
#
#   bench/replication/run.sh [TRANSACTIONS_PER_CLIENT=50000] [CLIENTS=4]   # a backlog of 200 000 transactions
#   WARM_TX=5000: transactions per client of the pgreshard JVM's warm-up workload (before the measured one)
#
# A backlog under 200 000 transactions drains in seconds: too short to trust (start-up and the
# first batches weigh too much); the result says so.
#
# Two separate PostgreSQL 15 servers (Debian binaries): a source and a destination server
# holding shard0, shard1 (pgreshard) and native (the subscription). Both streams get a slot
# before the workload runs, so both replay exactly the same WAL. Each then drains that backlog
# alone (one after the other, the machine has 2 cores); the rate is transactions (and row
# changes) per second from the moment its walsender starts until its confirmed_flush_lsn
# (the position it reports as durably applied) reaches the end of the workload. A last phase
# runs pgbench at a fixed rate with pgreshard streaming live and samples its lag.
# The floor: pg_recvlogical drains the same backlog from a third slot (created with the others) with
# pgoutput and the same publication into /dev/null — the source's own logical decoding with a consumer
# that does nothing; once more with binary 'true' on a fourth slot
# (timed from its walsender's start until pg_recvlogical stops at the workload's end, --endpos).
# The result prints native / floor and pgreshard / floor, and the CPU of the source's walsender
# (the decoding) in each drain per 1000 transactions. pgreshard reads a backlog over 16 MB through SQL decoding
# (pg_logical_slot_peek_binary_changes) before it streams: its "walsender" CPU is that backend's and the
# walsender's together.
# Run by hand; not part of mvn verify.
set -euo pipefail
TX=${1:-50000}
CLIENTS=${2:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PGBIN=/usr/lib/postgresql/15/bin
WORK=${BENCH_DIR:-/tmp/pgreshard-bench-repl}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SRC_PORT=${SRC_PORT:-$(free_port)}
DST_PORT=${DST_PORT:-$(free_port)}
ROWS=200000
JAVA_PID=
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

psql_src() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$SRC_PORT" -U postgres "$@"; }
psql_dst() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DST_PORT" -U postgres "$@"; }
pg() { runuser -u postgres -- "$PGBIN/$1" "${@:2}"; }

cleanup() {
  if [ -n "$JAVA_PID" ]; then kill "$JAVA_PID" 2>/dev/null || true; fi
  pg pg_ctl -D "$WORK/src" -m immediate stop >/dev/null 2>&1 || true
  pg pg_ctl -D "$WORK/dst" -m immediate stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== building pgreshard (test classes + classpath)"
(cd "$ROOT" && mvn -B -q -pl activities -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$WORK.cp" -Dmdep.includeScope=test >/dev/null)
CP="$ROOT/activities/target/test-classes:$ROOT/activities/target/classes:$ROOT/workflows/target/classes:$ROOT/core/target/classes:$ROOT/core/target/test-classes:$(cat "$WORK.cp")"

echo "== starting two PostgreSQL 15 servers in $WORK"
cleanup
rm -rf "$WORK"; mkdir -p "$WORK"; chown postgres "$WORK"
for s in src:$SRC_PORT dst:$DST_PORT; do
  name=${s%%:*}; port=${s##*:}
  pg initdb -D "$WORK/$name" -U postgres --auth=trust >/dev/null
  cat >> "$WORK/$name/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
wal_level = logical
max_wal_senders = 20
max_replication_slots = 20
shared_buffers = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
CONF
  pg pg_ctl -D "$WORK/$name" -l "$WORK/$name.log" -w start >/dev/null
done

SCHEMA="CREATE TABLE orders (id bigint NOT NULL, customer_id bigint NOT NULL, amount int NOT NULL, note text,
  PRIMARY KEY (customer_id, id));"
WARM_SCHEMA=${SCHEMA//orders/warm}
psql_src -c "$SCHEMA" -c "CREATE UNIQUE INDEX orders_id ON orders (id); CREATE SEQUENCE orders_seq START $((ROWS + 1));" \
  -c "INSERT INTO orders SELECT g, (g * 7919) % 1000003, 0, 'seed' FROM generate_series(1, $ROWS) g;" \
  -c "CREATE PUBLICATION pub FOR TABLE orders;" \
  -c "$WARM_SCHEMA" -c "CREATE UNIQUE INDEX warm_id ON warm (id); CREATE SEQUENCE warm_seq START $((ROWS + 1)); CREATE PUBLICATION pub_warm FOR TABLE warm;"
for db in shard0 shard1 native; do psql_dst -c "CREATE DATABASE $db"; psql_dst -d "$db" -c "$SCHEMA" -c "$WARM_SCHEMA"; done
psql_dst -d native -c "INSERT INTO orders SELECT g, (g * 7919) % 1000003, 0, 'seed' FROM generate_series(1, $ROWS) g;"
# the seed rows, placed as PostgreSQL hash partitioning (= pgreshard's sharding function) places them
for i in 0 1; do
  psql_dst -d "shard$i" -c "CREATE TABLE bench_p (LIKE orders) PARTITION BY HASH (customer_id);
    CREATE TABLE bench_p$i PARTITION OF bench_p FOR VALUES WITH (MODULUS 2, REMAINDER $i);
    CREATE TABLE bench_px PARTITION OF bench_p FOR VALUES WITH (MODULUS 2, REMAINDER $((1 - i)));
    INSERT INTO bench_p SELECT g, (g * 7919) % 1000003, 0, 'seed' FROM generate_series(1, $ROWS) g;
    INSERT INTO orders SELECT * FROM bench_p$i; TRUNCATE bench_p;"
done

cat > "$WORK/pgreshard.toml" <<TOML
[[databases]]
name = "src"
host = "127.0.0.1"
port = $SRC_PORT
database_name = "postgres"
shard = 0
[[databases]]
name = "dst"
host = "127.0.0.1"
port = $DST_PORT
database_name = "shard0"
shard = 0
[[databases]]
name = "dst"
host = "127.0.0.1"
port = $DST_PORT
database_name = "shard1"
shard = 1
[[sharded_tables]]
database = "dst"
name = "orders"
column = "customer_id"
data_type = "bigint"
[[sharded_tables]]
database = "dst"
name = "warm"
column = "customer_id"
data_type = "bigint"
TOML
cat > "$WORK/users.toml" <<TOML
[[users]]
name = "postgres"
database = "src"
password = "unused-trust-auth"
[[users]]
name = "postgres"
database = "dst"
password = "unused-trust-auth"
TOML
TASK=reshard-src-dst-bench
SLOT=pgreshard_reshard_src_dst_bench
WARM_TASK=reshard-src-dst-warm
psql_src -c "SELECT pg_create_logical_replication_slot('$SLOT', 'pgoutput')" \
  -c "SELECT pg_create_logical_replication_slot('pgreshard_reshard_src_dst_warm', 'pgoutput')" \
  -c "SELECT pg_create_logical_replication_slot('native_slot', 'pgoutput')" \
  -c "SELECT pg_create_logical_replication_slot('floor_slot', 'pgoutput')" \
  -c "SELECT pg_create_logical_replication_slot('floor_bin_slot', 'pgoutput')" >/dev/null
psql_dst -d native -c "CREATE SUBSCRIPTION native CONNECTION 'host=127.0.0.1 port=$SRC_PORT user=postgres dbname=postgres'
  PUBLICATION pub WITH (create_slot = false, slot_name = 'native_slot', copy_data = false, enabled = false)"

cat > "$WORK/workload.sql" <<'SQL'
\set id random(1, 200000)
\set id2 random(1, 200000)
\set id3 random(1, 200000)
\set cid random(1, 1000003)
BEGIN;
INSERT INTO orders VALUES (nextval('orders_seq'), :cid, 1, 'new');
UPDATE orders SET amount = amount + 1 WHERE id = :id;
UPDATE orders SET customer_id = customer_id + 1 WHERE id = :id2;
DELETE FROM orders WHERE id = :id3;
END;
SQL
echo "== recording a warm-up workload for the pgreshard JVM (a long-running worker is JIT-compiled)"
psql_src -c "INSERT INTO warm SELECT * FROM orders"
pgbench -n -h 127.0.0.1 -p "$SRC_PORT" -U postgres -c "$CLIENTS" -j 2 -t "${WARM_TX:-5000}" -f <(sed 's/orders/warm/g' "$WORK/workload.sql") postgres >/dev/null 2>&1
WARM_LSN=$(psql_src -Atc "SELECT pg_current_wal_lsn()")
# every measured slot skips the warm-up's WAL now (decoding it is not the drain's work; at a small backlog it
# would outweigh the workload); pgreshard's JVM still warms up on its own slot
psql_src -c "SELECT pg_replication_slot_advance(slot_name, '$WARM_LSN') FROM pg_replication_slots
  WHERE slot_name IN ('$SLOT', 'native_slot', 'floor_slot', 'floor_bin_slot')" >/dev/null
echo "== recording the workload: $CLIENTS clients x $TX transactions (insert, update, shard-moving update, delete)"
START_LSN=$(psql_src -Atc "SELECT pg_current_wal_lsn()")
pgbench -n -h 127.0.0.1 -p "$SRC_PORT" -U postgres -c "$CLIENTS" -j 2 -t "$TX" -f "$WORK/workload.sql" postgres 2>&1 \
  | grep -E "^tps|number of transactions actually" || true
TARGET=$(psql_src -Atc "SELECT pg_current_wal_lsn()")
TOTAL_TX=$((CLIENTS * TX))
WAL_MB=$(psql_src -Atc "SELECT round(('$TARGET'::pg_lsn - '$START_LSN'::pg_lsn) / 1048576.0, 1)")
echo "   $TOTAL_TX transactions, $WAL_MB MB of WAL"

# CPU seconds (user+sys) used so far by a process tree's processes: pids given as arguments
cpu_of() {
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat")))
  done
  echo "scale=1; $total / $(getconf CLK_TCK)" | bc -l
}
server_pids() { echo "$(head -1 "$WORK/$1/postmaster.pid") $(pgrep -P "$(head -1 "$WORK/$1/postmaster.pid")" | tr '\n' ' ')"; }

# CPU seconds (user+sys) of one process so far, read without forking (sampled often while a walsender runs)
proc_cpu() {
  local stat f
  read -r stat < "/proc/$1/stat" 2>/dev/null || return 1
  f=(${stat##*) })   # the fields after "(comm) "; utime and stime are fields 14 and 15 of the whole line
  echo "scale=3; (${f[11]} + ${f[12]}) / $(getconf CLK_TCK)" | bc -l
}
active_pid() { psql_src -Atc "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$1' AND active"; }
# the backends reading a slot: its own walsender, or pgreshard's catch-up reader holding a temporary copy of it
readers_of() {
  psql_src -Atc "SELECT string_agg(active_pid::text, ' ') FROM pg_replication_slots WHERE active
    AND (slot_name = '$1' OR slot_name LIKE 'catchup\_%\_$1')"
}
# a drain starts when its walsender does (its consumer connected): polling for the slot turning active would
# start the clock late, by more than a small backlog's whole drain when the consumer is quick and the machine busy
started_at() { psql_src -Atc "SELECT extract(epoch FROM backend_start) FROM pg_stat_activity WHERE pid = $1"; }

# "SECONDS WALSENDER_CPU": seconds (fractional) from the slot's first reader starting to confirmed_flush_lsn >= TARGET,
# and the CPU seconds its readers used — the source's decoding of the slot, the same work whoever consumes it. A
# subscription's reader is one walsender started for it; pgreshard reads a large backlog through SQL decoding in one
# ordinary backend first, then streams the rest through a walsender: every backend seen holding the slot is counted
# (its CPU sampled while it holds the slot, as the backend may be gone at the end).
drain_time() {
  local slot=$1 t0 t1 pids pid done=f total=0 p
  declare -A cpu=()
  until pids=$(readers_of "$slot") && [ -n "$pids" ]; do sleep 0.02; done
  t0=$(started_at "${pids%% *}")
  while [ "$done" != t ]; do
    for pid in $(readers_of "$slot"); do cpu[$pid]=$(proc_cpu "$pid" || echo "${cpu[$pid]:-0}"); done
    done=$(psql_src -Atc "SELECT confirmed_flush_lsn >= '$TARGET' FROM pg_replication_slots WHERE slot_name = '$slot'")
    [ "$done" = t ] || sleep 0.05
  done
  t1=$(date +%s.%N)
  for p in "${!cpu[@]}"; do total=$(echo "$total + ${cpu[$p]}" | bc -l); done
  echo "$(echo "$t1 - $t0" | bc -l) $total"
}

# The floor: pg_recvlogical drains the same backlog from its own slot (created with the others) into /dev/null —
# the source's logical decoding and pgoutput with a consumer that does nothing. Not a strict bound: compare the
# walsender CPU of each drain (2026-12-01: the floor's walsender used 53 ms per 1000 tx, the subscribers' 42-43).
# "SECONDS WALSENDER_CPU" as drain_time; extra arguments are more pgoutput options (-o binary=true).
floor_drain() {
  local slot=$1 t0 t1 pid="" cpu=0 now rc=0
  shift
  "$PGBIN/pg_recvlogical" -h 127.0.0.1 -p "$SRC_PORT" -U postgres -d postgres --slot "$slot" --start --no-loop \
    -o proto_version=1 -o publication_names=pub -o messages=true "$@" --endpos "$TARGET" -f /dev/null \
    2> "$WORK/$slot.log" &
  local rpid=$!
  until pid=$(active_pid "$slot") && [ -n "$pid" ]; do
    kill -0 "$rpid" 2>/dev/null || { cat "$WORK/$slot.log" >&2; return 1; }
    sleep 0.02
  done
  t0=$(started_at "$pid")
  # the walsender ends with its client: keep its last reading (every 20 ms; bash's read forks nothing)
  while kill -0 "$rpid" 2>/dev/null; do
    now=$(proc_cpu "$pid") && cpu=$now
    sleep 0.02
  done
  wait "$rpid" || rc=$?
  t1=$(date +%s.%N)
  [ "$rc" = 0 ] || { echo "pg_recvlogical on $slot failed ($rc):" >&2; cat "$WORK/$slot.log" >&2; return 1; }
  [ "$(psql_src -Atc "SELECT confirmed_flush_lsn >= '$TARGET' FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ] ||
    { echo "pg_recvlogical on $slot stopped before $TARGET" >&2; return 1; }
  echo "$(echo "$t1 - $t0" | bc -l) $cpu"
}

echo "== pgreshard: draining the backlog into 2 shards"
java -Xmx1g -Dlogback.configurationFile="$ROOT/bench/replication/logback.xml" ${JAVA_OPTS:-} -cp "$CP" dev.pgreshard.activities.replication.BenchReplicatorMain "$WORK/pgreshard.toml" \
  src dst "$TASK" pub "$WARM_TASK" pub_warm "$WARM_LSN" > "$WORK/pgreshard.log" 2>&1 &
JAVA_PID=$!
until grep -q WARM "$WORK/pgreshard.log"; do
  kill -0 "$JAVA_PID" 2>/dev/null || { cat "$WORK/pgreshard.log"; exit 1; }; sleep 0.2
done
SRC_CPU0=$(cpu_of $(server_pids src)); DST_CPU0=$(cpu_of $(server_pids dst)); JAVA_CPU0=$(cpu_of "$JAVA_PID")
read -r PGRESHARD_S PGRESHARD_WS <<< "$(drain_time "$SLOT")"
# CPU used while draining, in seconds and in ms per 1000 source transactions (work, less sensitive to load than time)
cpu_line() {
  local out="" part name cpu
  for part in "$@"; do
    name=${part%%=*}; cpu=${part#*=}
    out="$out${out:+, }$name +$cpu s ($(echo "$cpu * 1000000 / $TOTAL_TX" | bc) ms/1000 tx)"
  done
  echo "$out"
}
PG_CPU=$(cpu_line "java=$(echo "$(cpu_of "$JAVA_PID") - $JAVA_CPU0" | bc)" \
  "destination server=$(echo "$(cpu_of $(server_pids dst)) - $DST_CPU0" | bc)" \
  "source server=$(echo "$(cpu_of $(server_pids src)) - $SRC_CPU0" | bc)")
echo "== native CREATE SUBSCRIPTION: draining the same backlog into 1 database"
psql_dst -d native -c "ALTER SUBSCRIPTION native ENABLE"
SRC_CPU0=$(cpu_of $(server_pids src)); DST_CPU0=$(cpu_of $(server_pids dst))
read -r NATIVE_S NATIVE_WS <<< "$(drain_time native_slot)"
NATIVE_CPU=$(cpu_line "destination server=$(echo "$(cpu_of $(server_pids dst)) - $DST_CPU0" | bc)" \
  "source server=$(echo "$(cpu_of $(server_pids src)) - $SRC_CPU0" | bc)")

echo "== the floor: pg_recvlogical draining the same backlog into /dev/null (pgoutput, same publication)"
read -r FLOOR_S FLOOR_WS <<< "$(floor_drain floor_slot)"
echo "== the floor with binary 'true' (pgoutput sends values in binary)"
read -r FLOOR_BIN_S FLOOR_BIN_WS <<< "$(floor_drain floor_bin_slot -o binary=true)"

echo "== checking the copies against the source"
SRC_SUM=$(psql_src -Atc "SELECT count(*), sum(amount), sum(customer_id) FROM orders")
NATIVE_SUM=$(psql_dst -d native -Atc "SELECT count(*), sum(amount), sum(customer_id) FROM orders")
SHARDS_SUM=$(for i in 0 1; do psql_dst -d "shard$i" -Atc "SELECT count(*), sum(amount), sum(customer_id) FROM orders"; done \
  | awk -F"|" "{c+=\$1; a+=\$2; k+=\$3} END {printf \"%.0f|%.0f|%.0f\", c, a, k}")
MISPLACED=0
for i in 0 1; do
  n=$(psql_dst -d "shard$i" -Atc "SELECT count(*) FROM orders WHERE NOT satisfies_hash_partition('bench_p'::regclass, 2, $i, customer_id)")
  [ "$n" = 0 ] || MISPLACED=$n
done
echo "   source $SRC_SUM | pgreshard $SHARDS_SUM | native $NATIVE_SUM | misplaced rows on shards: $MISPLACED"

echo "== live phase: pgreshard streaming while pgbench writes at a fixed rate; lag sampled every second"
RATE=$(echo "0.8 * $TOTAL_TX / $NATIVE_S" | bc -l | cut -d. -f1)
psql_dst -d native -c "ALTER SUBSCRIPTION native DISABLE" >/dev/null
pgbench -n -h 127.0.0.1 -p "$SRC_PORT" -U postgres -c "$CLIENTS" -j 2 -R "$RATE" -T 20 -f "$WORK/workload.sql" postgres \
  > "$WORK/live.log" 2>&1 &
BENCH_PID=$!
MAX_LAG_S=0; MAX_LAG_B=0
for _ in $(seq 1 20); do
  sleep 1
  row=$(psql_src -Atc "SELECT coalesce(extract(epoch FROM r.replay_lag), 0), pg_current_wal_lsn() - s.confirmed_flush_lsn
    FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE s.slot_name = '$SLOT'")
  lag_s=${row%%|*}; lag_b=${row##*|}
  MAX_LAG_S=$(echo "if ($lag_s > $MAX_LAG_S) $lag_s else $MAX_LAG_S" | bc -l)
  MAX_LAG_B=$(echo "if ($lag_b > $MAX_LAG_B) $lag_b else $MAX_LAG_B" | bc -l)
done
wait "$BENCH_PID" || true
LIVE_TPS=$(grep -E "^tps" "$WORK/live.log" | head -1 | awk '{print $3}')

PG_TPS=$(echo "$TOTAL_TX / $PGRESHARD_S" | bc -l)
NATIVE_TPS=$(echo "$TOTAL_TX / $NATIVE_S" | bc -l)
FLOOR_TPS=$(echo "$TOTAL_TX / $FLOOR_S" | bc -l)
FLOOR_BIN_TPS=$(echo "$TOTAL_TX / $FLOOR_BIN_S" | bc -l)
per_ktx() { echo "$1 * 1000000 / $TOTAL_TX" | bc; }   # CPU seconds -> ms per 1000 source transactions
echo
echo "RESULT bench/replication started $STARTED; ended $(date -u +%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$TOTAL_TX" -lt 200000 ]; then
  echo "RESULT note: a backlog under 200 000 transactions is a smoke run, not a measurement"
fi
printf "RESULT backlog of %d transactions (~%d row changes), %s MB WAL\n" "$TOTAL_TX" "$((TOTAL_TX * 4))" "$WAL_MB"
printf "RESULT pgreshard -> 2 shards : %8.1f s  %9.0f tx/s\n" "$PGRESHARD_S" "$PG_TPS"
printf "RESULT native subscription   : %8.1f s  %9.0f tx/s\n" "$NATIVE_S" "$NATIVE_TPS"
printf "RESULT floor (pg_recvlogical) : %8.1f s  %9.0f tx/s   (pgoutput text, same publication, into /dev/null)\n" "$FLOOR_S" "$FLOOR_TPS"
printf "RESULT floor, binary 'true'   : %8.1f s  %9.0f tx/s\n" "$FLOOR_BIN_S" "$FLOOR_BIN_TPS"
echo "RESULT walsender cpu (source's decoding) per drain: pgreshard $PGRESHARD_WS s ($(per_ktx "$PGRESHARD_WS") ms/1000 tx)," \
  "native $NATIVE_WS s ($(per_ktx "$NATIVE_WS")), floor $FLOOR_WS s ($(per_ktx "$FLOOR_WS")), floor binary $FLOOR_BIN_WS s ($(per_ktx "$FLOOR_BIN_WS"))"
echo "RESULT cpu pgreshard: $PG_CPU"
echo "RESULT cpu native:    $NATIVE_CPU"
printf "RESULT ratio pgreshard/native: %.2fx\n" "$(echo "$PG_TPS / $NATIVE_TPS" | bc -l)"
printf "RESULT ratio native/floor: %.2fx, pgreshard/floor: %.2fx (the floor is the source's own decoding into /dev/null; compare the walsender cpu above before reading it as a bound)\n" \
  "$(echo "$NATIVE_TPS / $FLOOR_TPS" | bc -l)" "$(echo "$PG_TPS / $FLOOR_TPS" | bc -l)"
printf "RESULT live at %s tx/s (target %s): max lag %.2f s, %s bytes\n" "$LIVE_TPS" "$RATE" "$MAX_LAG_S" "$MAX_LAG_B"
