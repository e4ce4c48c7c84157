#!/usr/bin/env bash
# experiment: PgBouncer vs several pgreshard proxy variants, interleaved, per pair; prints tps, cpu/tx, idle%
# VARIANTS="name|java opts|proxy args;name2|..."  PAIRS="select-only:simple tpcb-like:extended"  ROUNDS=2 DURATION=8
set -euo pipefail
here=/work/main
DURATION=${DURATION:-8}; CLIENTS=${CLIENTS:-16}; THREADS=${THREADS:-4}; SCALE=${SCALE:-10}; ROUNDS=${ROUNDS:-2}
PAIRS=${PAIRS:-"select-only:simple select-only:extended select-only:prepared tpcb-like:simple tpcb-like:extended tpcb-like:prepared"}
PGBIN=/usr/lib/postgresql/15/bin
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT=$(free_port); BOUNCER_PORT=$(free_port)
work="$(mktemp -d /tmp/pgreshard-bpx.XXXXXX)"; chmod 755 "$work"; chown postgres "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.2; done; done
  [[ -f "$work/pgbouncer.pid" ]] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT; trap 'exit 143' INT TERM
mkdir -p "$work/data" && chown postgres "$work/data"
echo postgres > "$work/pwfile" && chown postgres "$work/pwfile"
runuser -u postgres -- "$PGBIN/initdb" -D "$work/data" -A scram-sha-256 --pwfile="$work/pwfile" -U postgres >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
max_connections = 200
shared_buffers = 256MB
synchronous_commit = off
CONF
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -l "$work/pg.log" -w start >/dev/null
export PGPASSWORD=postgres
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE ROLE app LOGIN PASSWORD 'app'" -c "CREATE DATABASE bench OWNER app" -c "CREATE DATABASE pgreshard"
PGPASSWORD=app pgbench -q -i -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U app bench >/dev/null 2>&1
cat > "$work/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$PG_PORT dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 40
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
echo '"app" "app"' > "$work/userlist.txt"; chown postgres "$work/pgbouncer.ini" "$work/userlist.txt"
runuser -u postgres -- pgbouncer -d "$work/pgbouncer.ini"; sleep 1
jar=${PGRESHARD_JAR:-$here/cli/target/pgreshard.jar}
names=(); ports=(); vpids=()
IFS=';' read -ra vs <<<"${VARIANTS:-default||}"
i=0
for v in "${vs[@]}"; do
  IFS='|' read -r name jopts pargs <<<"$v"
  if [[ $name == direct ]]; then names+=(direct); ports+=("$PG_PORT"); vpids+=("$(head -1 "$work/data/postmaster.pid")"); i=$((i+1)); continue; fi
  port=$(free_port); cport=$(free_port)
  cat > "$work/p$i.toml" <<TOML
[general]
host = "127.0.0.1"
port = $port
control_port = $cport
[control]
url = "jdbc:postgresql://127.0.0.1:$PG_PORT/pgreshard"
user = "postgres"
password = "postgres"
[admin]
user = "admin"
password = "admin"
[[databases]]
name = "bench"
host = "127.0.0.1"
port = $PG_PORT
database_name = "bench"
shard = 0
TOML
  cat > "$work/users.toml" <<TOML
[[users]]
name = "app"
database = "bench"
password = "app"
TOML
  jar_i=$jar; [[ $jopts == *JAR=* ]] && { jar_i=${jopts#*JAR=}; jar_i=${jar_i%% *}; jopts=${jopts/JAR=$jar_i/}; }
  setsid java -Xms512m -Xmx512m $jopts -jar "$jar_i" proxy --config "$work/p$i.toml" $pargs >"$work/proxy$i.log" 2>&1 &
  pids+=($!); vpids+=($!); names+=("$name"); ports+=("$port")
  for _ in $(seq 1 600); do PGPASSWORD=app psql -h 127.0.0.1 -p "$port" -U app -d bench -Atc "select 1" >/dev/null 2>&1 && break; sleep 0.2; done
  grep -m1 -o 'sockets on .*' "$work/proxy$i.log" >&2 || true
  i=$((i+1))
done
run() { local port=$1 mode=$2; shift 2
  PGPASSWORD=app /usr/bin/time -f "%U %S" -o "$work/time" pgbench -n -h 127.0.0.1 -p "$port" -U app -c "$CLIENTS" -j "$THREADS" -T "$DURATION" -M "$mode" "$@" bench 2>&1 \
    | awk -v out="$work/last_tx" '/^number of transactions actually processed: / {split($6, n, "/"); print n[1] > out}
        /^tps = / {print $3; found=1} END {if (!found) print "FAILED"}'; }
usage() { local ticks cs; ticks=$(sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}')
  cs=$(cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {s += $2} /^nonvoluntary_ctxt_switches/ {n += $2} END {print s + 0, n + 0}'); echo "$ticks $cs"; }
pgextra() { local pm; pm=$(head -1 "$work/data/postmaster.pid")
  { sed 's/.*) //' "/proc/$pm/stat" | awk '{print $8+$9, 0, 0, 0}'
    for c in $(pgrep -P "$pm"); do f=$(sed 's/.*) //' "/proc/$c/stat" 2>/dev/null | awk '{print $8}'); io=$(awk '/^syscr/ {r=$2} /^syscw/ {w=$2} END {print r+0, w+0}' /proc/$c/io 2>/dev/null); echo "${f:-0} ${io:-0 0} 1"; done; } | awk '{f+=$1; r+=$2; w+=$3; n+=$4} END {print f, r, w, n}'; }
idle() { awk '/^cpu / {print $5 + $6, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
pgcpu() { local pm; pm=$(head -1 "$work/data/postmaster.pid")
  { sed 's/.*) //' "/proc/$pm/stat" | awk '{print $12+$13+$14+$15}'
    for c in $(pgrep -P "$pm"); do sed 's/.*) //' "/proc/$c/stat" 2>/dev/null | awk '{print $12+$13}'; done; } | awk '{s+=$1} END {print s}'; }
measured() { local pid=$1 port=$2; shift 2; local b a tps ib ia
  b=$(usage "$pid"); ib=$(idle); gb=$(pgcpu); xb=$(pgextra); sb=$(awk '/^Tcp: [0-9]/ {print $12}' /proc/net/snmp); st0=$(awk '/^cpu / {print $9}' /proc/stat); perf stat -a -x, -e context-switches,cpu-migrations -o "$work/perf.txt" -- sleep "$DURATION" 2>/dev/null & ppid=$!; tps=$(run "$port" "$@"); wait $ppid || true; sa=$(awk '/^Tcp: [0-9]/ {print $12}' /proc/net/snmp); st1=$(awk '/^cpu / {print $9}' /proc/stat); a=$(usage "$pid"); ia=$(idle); ga=$(pgcpu); xa=$(pgextra)
  awk -v b="$b" -v a="$a" -v ib="$ib" -v ia="$ia" -v tx="$(cat "$work/last_tx")" -v tps="$tps" -v hz="$(getconf CLK_TCK)" -v gb="$gb" -v ga="$ga" \
    'BEGIN {split(b, x, " "); split(a, y, " "); split(ib, p, " "); split(ia, q, " "); u=1e6/hz/tx;
     printf "%9.0f %5.1f %4.2f inv %4.3f idle%3.0f%% pg %5.1f all %5.1f", tps, (y[1]-x[1])*u, (y[2]-x[2])/tx, (y[3]-x[3])/tx, 100*(q[1]-p[1])/(q[2]-p[2]), (ga-gb)*u, ((q[2]-p[2])-(q[1]-p[1]))*u}'
  awk -F, -v tx="$(cat "$work/last_tx")" -v sb="$sb" -v sa="$sa" -v st="$((st1-st0))" -v pb="$(cat "$work/time")" '/context-switches/ {c=$1} /cpu-migrations/ {m=$1} END {split(pb, t, " "); printf " pgbench %.1f cs/tx %.2f mig/tx %.3f segs/tx %.2f steal %d", (t[1]+t[2])*1e6/tx, c/tx, m/tx, (sa-sb)/tx, st}' "$work/perf.txt"; awk -v b="$xb" -v a="$xa" -v tx="$(cat "$work/last_tx")" 'BEGIN {split(b,x," "); split(a,y," "); printf " pgflt/tx %.2f (live %d->%d) pgsysr/tx %.2f", (y[1]-x[1])/tx, x[4], y[4], (y[2]-x[2])/tx}'; }
echo "== warm-up" >&2
for mode in simple extended prepared; do for port in "${ports[@]}"; do
  DURATION=${WARMUP:-$DURATION} run "$port" "$mode" -S >/dev/null; DURATION=${WARMUP:-$DURATION} run "$port" "$mode" >/dev/null; done; done
printf '%s load %s; variants: %s\n' "$(date -u '+%F %H:%M')" "$(cut -d' ' -f1-3 /proc/loadavg)" "${names[*]}"
bpid=$(cat "$work/pgbouncer.pid")
for r in $(seq 1 "$ROUNDS"); do
  for pair in $PAIRS; do
    script=${pair%%:*}; mode=${pair#*:}; args=(); [[ $script == select-only ]] && args=(-S)
    line=$(printf '%-11s %-8s bouncer %s' "$script" "$mode" "$(measured "$bpid" "$BOUNCER_PORT" "$mode" "${args[@]}")")
    bt=$(echo "$line" | awk '{print $4}')
    for k in "${!names[@]}"; do
      m=$(measured "${vpids[$k]}" "${ports[$k]}" "$mode" "${args[@]}")
      line="$line | ${names[$k]} $m $(awk -v p="$(echo "$m" | awk '{print $1}')" -v b="$bt" 'BEGIN{printf "%.2fx", p/b}')"
    done
    echo "$line"
  done
done
printf 'end %s load %s\n' "$(date -u '+%H:%M')" "$(cut -d' ' -f1-3 /proc/loadavg)"
