#!/usr/bin/env bash
# bench/fanout: cross-shard reads through the pgreshard proxy on 2 shards against the same statement on
# one database holding all the rows, in one run on one Debian PostgreSQL 15 server; prints ratios.
# Run by hand, as root (it uses runuser -u postgres), never in `mvn verify`:
#
#   bench/fanout/run.sh                 # ROWS=1000000 ROUNDS=3
#   ROWS=10000000 bench/fanout/run.sh   # 10 M rows; the ordered full read must still stream under -Xmx256m
#
# The proxy runs with -Xmx256m (PGRESHARD_JAVA_OPTS). Each statement runs ROUNDS times per side,
# interleaved; the best time is kept. Times are psql wall times of the whole statement, rows discarded.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-3}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT=${PG_PORT:-$(free_port)}
PROXY_PORT=${PROXY_PORT:-$(free_port)}
CONTROL_PORT=${CONTROL_PORT:-$(free_port)}
work="$(mktemp -d /tmp/pgreshard-fanout.XXXXXX)"
chmod 755 "$work" && chown postgres "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -d "$work/data" ]] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

log "PostgreSQL 15 on port $PG_PORT"
mkdir -p "$work/data" && chown postgres "$work/data"
echo postgres > "$work/pwfile" && chown postgres "$work/pwfile"
runuser -u postgres -- "$PGBIN/initdb" -D "$work/data" -A scram-sha-256 --pwfile="$work/pwfile" -U postgres -E UTF8 >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
shared_buffers = 512MB
max_parallel_workers_per_gather = 0
synchronous_commit = off
# the proxy refuses to start on 2 shards without prepared transactions ([general] two_phase_commit, the default)
max_prepared_transactions = 100
CONF
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -l "$work/pg.log" -w start >/dev/null
export PGPASSWORD=postgres
q() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
q -c "CREATE ROLE app LOGIN PASSWORD 'app'"
for db in single shard0 shard1; do q -c "CREATE DATABASE $db OWNER app"; done
q -c "CREATE DATABASE pgreshard"   # the control store the proxy registers in
SCHEMA="CREATE TABLE orders (id bigint, customer_id bigint NOT NULL, amount numeric(12,2), qty int, status text, created_at timestamptz)"

log "$ROWS rows in database single"
PGPASSWORD=app psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U app -d single <<SQL
$SCHEMA;
INSERT INTO orders SELECT g, g % 50000, (g % 100000) / 100.0, g % 17, (ARRAY['new','paid','shipped','returned'])[1 + g % 4],
  timestamptz '2025-01-01' + g * interval '1 second' FROM generate_series(1, $ROWS) g;
ANALYZE orders;
SQL

log "pgreshard proxy (2 shards, -Xmx256m) on port $PROXY_PORT"
cat > "$work/pgreshard.toml" <<TOML
[general]
host = "127.0.0.1"
port = $PROXY_PORT
control_port = $CONTROL_PORT

[control]
url = "jdbc:postgresql://127.0.0.1:$PG_PORT/pgreshard"
user = "postgres"
password = "postgres"

[admin]
user = "admin"
password = "admin"

[[databases]]
name = "prod"
host = "127.0.0.1"
port = $PG_PORT
database_name = "shard0"
shard = 0

[[databases]]
name = "prod"
host = "127.0.0.1"
port = $PG_PORT
database_name = "shard1"
shard = 1

[[sharded_tables]]
database = "prod"
name = "orders"
column = "customer_id"
data_type = "bigint"
TOML
cat > "$work/users.toml" <<TOML
[[users]]
name = "app"
database = "prod"
password = "app"
TOML
"$here/pgreshard" --help >/dev/null   # builds the fat jar when needed
PGRESHARD_JAVA_OPTS="${PGRESHARD_JAVA_OPTS:--Xms256m -Xmx256m}" "$here/pgreshard" proxy --config "$work/pgreshard.toml" \
  >"$work/proxy.log" 2>&1 &
pids+=($!)
proxy_pid=$!
export PGPASSWORD=app
direct() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U app -d single "$@"; }
proxied() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PROXY_PORT" -U app -d prod "$@"; }
for _ in $(seq 1 300); do proxied -Atc "select 1" >/dev/null 2>&1 && break; sleep 0.5; done
proxied -Atc "select 1" >/dev/null || { echo "the proxy did not start:" >&2; tail -20 "$work/proxy.log" >&2; exit 1; }

log "loading the shards through the proxy (COPY, rows split by key)"
proxied -c "$SCHEMA"
direct -c "COPY orders (id, customer_id, amount, qty, status, created_at) TO STDOUT" \
  | proxied -c "COPY orders (id, customer_id, amount, qty, status, created_at) FROM STDIN"
proxied -c "ANALYZE orders"

ms() { # side sql → wall milliseconds of the statement, rows discarded
  local t0 t1
  t0=$(date +%s%N)
  "$1" -At -c "$2" >/dev/null
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}

STATEMENTS=(
  "count|SELECT count(*) FROM orders"
  "sum/avg|SELECT sum(amount), avg(qty), min(created_at), max(amount) FROM orders"
  "group by|SELECT status, count(*), sum(amount), avg(amount) FROM orders GROUP BY status ORDER BY 2 DESC"
  "group by 50k keys|SELECT customer_id, sum(qty) FROM orders GROUP BY customer_id ORDER BY 2 DESC, 1 LIMIT 10"
  "order by limit|SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 100"
  "order by limit offset|SELECT id, status FROM orders ORDER BY created_at DESC LIMIT 50 OFFSET 1000"
  "ordered full read|SELECT id, customer_id, amount FROM orders ORDER BY id"
)
for s in "${STATEMENTS[@]}"; do # the answers must be equal before anything is timed
  sql="${s#*|}"
  if ! diff <(direct -At -c "$sql" | md5sum) <(proxied -At -c "$sql" | md5sum) >/dev/null; then
    echo "DIFFERENT ANSWER through the proxy: $sql" >&2; exit 1
  fi
done

printf '\nfan-out reads, %s rows, 2 shards (databases of one PostgreSQL %s server), best of %s, %s, load %s\n' "$ROWS" \
  "$("$PGBIN/postgres" --version | awk '{print $3}')" "$ROUNDS" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %12s %12s %8s\n' statement "direct ms" "proxy ms" ratio
for s in "${STATEMENTS[@]}"; do
  name="${s%%|*}"; sql="${s#*|}"
  best_d=999999999; best_p=999999999
  for _ in $(seq 1 "$ROUNDS"); do
    d=$(ms direct "$sql"); p=$(ms proxied "$sql")
    (( d < best_d )) && best_d=$d; (( p < best_p )) && best_p=$p
  done
  printf '%-22s %12d %12d %8s\n' "$name" "$best_d" "$best_p" "$(python3 -c "print(f'{$best_p / max($best_d, 1):.2f}x')")"
done
rss=$(awk '/VmHWM/ {print $2 / 1024 " MB"}' "/proc/$proxy_pid/status" 2>/dev/null || echo "?")
echo "proxy JVM peak resident memory (VmHWM): $rss, heap capped at -Xmx256m"
