#!/usr/bin/env bash
# Issue 19.4 experiment: can a reader drain a logical slot's backlog faster through the SQL decoding
# functions (pg_logical_slot_peek_binary_changes + pg_replication_slot_advance) than through a walsender?
# One PostgreSQL 15 server, bench/replication's workload (TX per client x CLIENTS), three slots made together:
#   stream: pg_recvlogical --start into /dev/null (the bench's "floor")
#   peek:   peek in chunks of CHUNK changes, each chunk COPYed to /dev/null, then advance the slot to the chunk's end
#   whole:  one peek of the whole backlog
set -euo pipefail
TX=${1:-50000}; CLIENTS=${2:-4}; CHUNK=${CHUNK:-200000}
PGBIN=/usr/lib/postgresql/15/bin
WORK=${BENCH_DIR:-/tmp/peek-exp}
PORT=${PORT:-5471}
pg() { runuser -u postgres -- "$PGBIN/$1" "${@:2}"; }
q() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -Atc "$1" postgres; }
pg pg_ctl -D "$WORK/src" -m immediate stop >/dev/null 2>&1 || true
rm -rf "$WORK"; mkdir -p "$WORK"; chown postgres "$WORK"
pg initdb -D "$WORK/src" -U postgres --auth=trust >/dev/null
cat >> "$WORK/src/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
wal_level = logical
max_wal_senders = 20
max_replication_slots = 20
shared_buffers = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
CONF
pg pg_ctl -D "$WORK/src" -l "$WORK/src.log" -w start >/dev/null
trap 'pg pg_ctl -D "$WORK/src" -m immediate stop >/dev/null 2>&1 || true' EXIT
q "CREATE TABLE orders (id bigint NOT NULL, customer_id bigint NOT NULL, amount int NOT NULL, note text, PRIMARY KEY (customer_id, id));
   CREATE UNIQUE INDEX orders_id ON orders (id); CREATE SEQUENCE orders_seq START 200001;
   INSERT INTO orders SELECT g, (g * 7919) % 1000003, 0, 'seed' FROM generate_series(1, 200000) g;
   CREATE PUBLICATION pub FOR TABLE orders;"
for s in stream peek whole; do q "SELECT pg_create_logical_replication_slot('$s', 'pgoutput')" >/dev/null; done
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
pgbench -n -h 127.0.0.1 -p "$PORT" -U postgres -c "$CLIENTS" -j 2 -t "$TX" -f "$WORK/workload.sql" postgres 2>&1 | grep -E "^tps" || true
TARGET=$(q "SELECT pg_current_wal_lsn()")
echo "backlog to $TARGET, load $(cut -d' ' -f1-3 /proc/loadavg)"
OPTS="'proto_version', '1', 'publication_names', 'pub', 'messages', 'true'"

t0=$(date +%s.%N)
"$PGBIN/pg_recvlogical" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres --slot stream --start --no-loop \
  -o proto_version=1 -o publication_names=pub -o messages=true --endpos "$TARGET" -f /dev/null
t1=$(date +%s.%N); echo "stream (walsender -> pg_recvlogical -> /dev/null): $(echo "$t1 - $t0" | bc) s"

t0=$(date +%s.%N)
rows=$(q "SELECT count(*) FROM pg_logical_slot_peek_binary_changes('whole', '$TARGET', NULL, $OPTS)")
t1=$(date +%s.%N); echo "one peek of the whole backlog (count only): $(echo "$t1 - $t0" | bc) s, $rows messages"
t0=$(date +%s.%N)
q "SELECT pg_replication_slot_advance('whole', '$TARGET')" >/dev/null
t1=$(date +%s.%N); echo "advance over the whole backlog: $(echo "$t1 - $t0" | bc) s"

t0=$(date +%s.%N); n=0
while [ "$(q "SELECT confirmed_flush_lsn < '$TARGET' FROM pg_replication_slots WHERE slot_name = 'peek'")" = t ]; do
  psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c "\\copy (SELECT lsn, xid, data FROM pg_logical_slot_peek_binary_changes('peek', '$TARGET', $CHUNK, $OPTS)) TO '$WORK/chunk' WITH (FORMAT binary)"
  end=$(q "SELECT max(lsn) FROM pg_logical_slot_peek_binary_changes('peek', '$TARGET', $CHUNK, $OPTS)" ) # (re-peek to learn the end: counted twice below)
  q "SELECT pg_replication_slot_advance('peek', '$end')" >/dev/null
  n=$((n + 1))
done
t1=$(date +%s.%N); echo "peek in chunks of $CHUNK + advance ($n chunks, each peeked twice): $(echo "$t1 - $t0" | bc) s; chunk file $(stat -c %s "$WORK/chunk") bytes"
