#!/usr/bin/env bash
# compat/postgres-js/run.sh: postgres.js's own test suite (porsager/postgres, a second client with its own
# protocol implementation: pipelining, extended protocol for every query, COPY, LISTEN/NOTIFY, cancel),
# directly against PostgreSQL and through the pgreshard proxy (one shard), counts side by side.
#
#   compat/postgres-js/run.sh CHECKOUT        (run by hand as root)
#
# The package comes from the npm registry at the version pinned below; its tests are not published there, so
# CHECKOUT must be a source tree of github porsager/postgres at that release (its tests/ is copied next to the
# installed package). Nothing of postgres.js is kept in this repository.
#
# What the harness changes in the suite (each the same on both sides; listed in compat/README.md):
# - tests/test.js stops running tests after the first failure ("ignored"); here every test runs, so that the
#   two sides' counts compare test by test;
# - bootstrap.js creates role postgres_js_test without a password (the suite's pg_hba trusts it); the proxy
#   asks every client for its users.toml password, so the role gets one and PGPASSWORD carries it (PostgreSQL
#   still trusts it directly, with the suite's own pg_hba.conf);
# - psql/dropdb/createdb, which the suite runs as the superuser (bootstrap, ALTER SYSTEM ssl), reach the server
#   directly on both sides (PATH wrappers), as the CI's own administration would;
# - the three places that name port 5432 use PGPORT;
# - the shared options' connect_timeout is 5 s, not 1 s (see below).
# Environment: COMPAT_SIDES (default "direct proxy").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
checkout="${1:?usage: compat/postgres-js/run.sh POSTGRES_JS_CHECKOUT (a source tree of github porsager/postgres)}"
checkout="$(cd "$checkout" && pwd)"
POSTGRES_JS=3.4.9
# a git directory (e.g. a bare clone) is read at the release's tag v$POSTGRES_JS
if git --git-dir="$checkout" rev-parse -q --verify "refs/tags/v$POSTGRES_JS" >/dev/null 2>&1; then
  extracted=$(mktemp -d /tmp/pgreshard-compat-src.XXXXXX)
  git --git-dir="$checkout" archive "v$POSTGRES_JS" | tar -x -C "$extracted"
  echo "compat: tests from tag v$POSTGRES_JS of $checkout" >&2
  checkout=$extracted
fi
[[ -f "$checkout/tests/index.js" ]] || { echo "compat: $checkout has no tests/index.js; give a porsager/postgres checkout" >&2; exit 2; }

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
COMPAT_SIDES=${COMPAT_SIDES:-direct proxy}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1200}
have=$(node -p "require('$checkout/package.json').version")
[[ $have == "$POSTGRES_JS" ]] || echo "compat: warning: the checkout is postgres $have, the npm package under test $POSTGRES_JS" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT=$(free_port)
PROXY_PORT=$(free_port)
CONTROL_PORT=$(free_port)
work="$(mktemp -d /tmp/pgreshard-compat-pjs.XXXXXX)"
chmod 755 "$work" && chown postgres "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -d "$work/data" ]] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"
  [[ -z ${extracted:-} ]] || rm -rf "$extracted"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

echo "== PostgreSQL 15 on port $PG_PORT (work dir $work)" >&2
mkdir -p "$work/data" && chown postgres "$work/data"
echo postgres > "$work/pwfile" && chown postgres "$work/pwfile"
runuser -u postgres -- "$PGBIN/initdb" -D "$work/data" -A scram-sha-256 --pwfile="$work/pwfile" -U postgres >/dev/null
cp "$checkout/tests/pg_hba.conf" "$work/data/pg_hba.conf"   # the suite's own: trust, md5 and scram roles
# the superuser logs in with its password over TCP (the wrappers below), the suite's roles as its pg_hba says
sed -i '1i host all postgres 127.0.0.1/32 scram-sha-256' "$work/data/pg_hba.conf"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
chown postgres "$work/tls.key" "$work/tls.crt" && chmod 600 "$work/tls.key"
cat >> "$work/data/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = '$work/tls.crt'
ssl_key_file = '$work/tls.key'
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
max_connections = 300
max_prepared_transactions = 50
CONF
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -l "$work/pg.log" -w start >/dev/null
# 'Unix socket' connects to PGSOCKET/.s.PGSQL.<PGPORT>; the proxy has no Unix socket, so on the proxy's side that
# name leads to PostgreSQL's own socket: the test reaches the server directly on both sides, as documented
ln -s "$work/.s.PGSQL.$PG_PORT" "$work/.s.PGSQL.$PROXY_PORT"
# postgres_js_test now only so that the proxy's start can be checked there (bootstrap.js drops and creates it)
PGPASSWORD=postgres psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE pgreshard_control" \
  -c "CREATE DATABASE postgres_js_test"

# psql, dropdb, createdb as the suite runs them: the superuser, directly at the server, on both sides
mkdir -p "$work/bin"
for tool in psql dropdb createdb; do
  cat > "$work/bin/$tool" <<SH
#!/bin/sh
exec env PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres PGPASSWORD=postgres PGDATABASE=postgres PGSSLMODE=disable /usr/bin/$tool "\$@"
SH
  chmod 755 "$work/bin/$tool"
done

echo "== pgreshard proxy on port $PROXY_PORT" >&2
cat > "$work/pgreshard.toml" <<TOML
[general]
host = "127.0.0.1"
port = $PROXY_PORT
control_port = $CONTROL_PORT
tls_certificate = "$work/tls.crt"
tls_private_key = "$work/tls.key"

[control]
url = "jdbc:postgresql://127.0.0.1:$PG_PORT/pgreshard_control"
user = "postgres"
password = "postgres"

[admin]
user = "admin"
password = "admin"

[[databases]]
name = "postgres_js_test"
host = "127.0.0.1"
port = $PG_PORT
TOML
cat > "$work/users.toml" <<TOML
[[users]]
name = "postgres"
database = "postgres_js_test"
password = "postgres"

[[users]]
name = "postgres_js_test"
database = "postgres_js_test"
password = "postgres_js_test"

[[users]]
name = "postgres_js_test_md5"
database = "postgres_js_test"
password = "postgres_js_test_md5"

[[users]]
name = "postgres_js_test_scram"
database = "postgres_js_test"
password = "postgres_js_test_scram"
TOML
jar=${PGRESHARD_JAR:-$root/cli/target/pgreshard.jar}
[[ -n ${PGRESHARD_JAR:-} ]] || "$root/pgreshard" --help >/dev/null

echo "== installing postgres $POSTGRES_JS from npm" >&2
mkdir -p "$work/suite" && cd "$work/suite"
npm pack --silent "postgres@$POSTGRES_JS" >/dev/null
tar xzf ./*.tgz --strip-components=1 && rm ./*.tgz
cp -r "$checkout/tests" .
# every test runs (the runner skips the rest after a first failure)
python3 - tests/test.js <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
old = "    failed\n      ? (ignored++, ignore)\n      : fn()"
assert old in s, "compat: tests/test.js changed: cannot make it run every test"
open(p, "w").write(s.replace(old, "    fn()"))
PY
grep -q "exec('psql', \['-c', 'create user postgres_js_test'\])" tests/bootstrap.js \
  || { echo "compat: tests/bootstrap.js changed: cannot give postgres_js_test a password" >&2; exit 2; }
sed -i "s/'create user postgres_js_test'/'create user postgres_js_test password \\\\'postgres_js_test\\\\''/" tests/bootstrap.js
sed -i "s/'@localhost:5432\\/'/'@localhost:' + process.env.PGPORT + '\\/'/; s/socket.connect(5432)/socket.connect(+process.env.PGPORT)/; s/'postgres:\\/\\/localhost:5432,localhost:5433'/'postgres:\\/\\/localhost:' + process.env.PGPORT + ',localhost:5433'/" tests/index.js
# the shared options give every connection 1 s to log in; through the proxy a login is two password exchanges
# (client-proxy, proxy-server) where the suite's own role logs in directly on trust, and on the loaded
# development machine it took over 1 s: an uncaught CONNECT_TIMEOUT then ended the whole suite. 5 s on both sides.
grep -q '^  connect_timeout: 1,$' tests/index.js || { echo "compat: tests/index.js's options changed" >&2; exit 2; }
sed -i 's/^  connect_timeout: 1,$/  connect_timeout: 5,/' tests/index.js
[[ $(grep -c '5432' tests/index.js) == 0 ]] || { echo "compat: tests/index.js still names 5432:" >&2; grep -n 5432 tests/index.js >&2; exit 2; }

java ${PGRESHARD_JAVA_OPTS:--Xmx512m} -jar "$jar" proxy --config "$work/pgreshard.toml" >"$work/proxy.log" 2>&1 &
pids+=($!)
up=
for _ in $(seq 1 600); do
  PGPASSWORD=postgres PGSSLMODE=prefer /usr/bin/psql -h 127.0.0.1 -p "$PROXY_PORT" -U postgres -d postgres_js_test -Atc "select 1" >/dev/null 2>&1 && { up=1; break; }
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 0.2
done
[[ -n $up ]] || { echo "compat: the proxy did not start:" >&2; cat "$work/proxy.log" >&2; exit 1; }

declare -A result
for side in $COMPAT_SIDES; do
  port=$PG_PORT; [[ $side == proxy ]] && port=$PROXY_PORT
  echo "== postgres.js suite: $side ($(date -u +%H:%M:%S), load $(uptime | sed 's/.*load average: //'))" >&2
  # The runner prints its summary once every test settled, but the process lives on while connections some
  # tests leave open (LISTEN, subscribe) stay up: the summary ends the run.
  (cd "$work/suite" && exec env PATH="$work/bin:$PATH" PGHOST=localhost PGPORT=$port PGUSER=postgres_js_test \
    PGPASSWORD=postgres_js_test PGDATABASE=postgres_js_test PGSOCKET="$work" \
    node tests/index.js >"$work/out.$side.txt" 2>&1) &
  node_pid=$!
  rc=124
  for _ in $(seq 1 "$SUITE_TIMEOUT"); do
    if grep -q '🎉\|Not good\|Not all tests were run\|ignored test' "$work/out.$side.txt"; then rc=0; sleep 2; break; fi
    kill -0 "$node_pid" 2>/dev/null || { rc=0; break; }
    sleep 1
  done
  kill "$node_pid" 2>/dev/null || true
  wait "$node_pid" 2>/dev/null || true
  out=$(cat "$work/out.$side.txt")
  passed=$(grep -o '✅' <<<"$out" | wc -l)
  failed=$(grep -c '⛔️' <<<"$out" || true)
  grep -o '⛔️.*' <<<"$out" | sed 's/ at line.*//; s/^⛔️ //' | sort >"$work/failed.$side.txt"
  result[$side]="$passed/$failed/$([[ $rc == 124 ]] && echo 1 || echo 0)"
done

printf '\npostgres.js %s suite, %s, load %s\n' "$POSTGRES_JS" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(uptime | sed 's/.*load average: //')"
printf '%-14s %-16s %-16s\n' "" "direct" "proxy, 1 shard"
printf '%-14s %-16s %-16s\n' "passed/failed/hung" "${result[direct]:--}" "${result[proxy]:--}"
differ=0
[[ ${result[direct]:-} == "${result[proxy]:-}" ]] || differ=1
for side in $COMPAT_SIDES; do
  printf '\nfailed %s:\n' "$side"; grep -A6 '⛔️' "$work/out.$side.txt" | head -150
done
if [[ -f $work/failed.direct.txt && -f $work/failed.proxy.txt ]]; then
  printf '\nfailed through the proxy only:\n'; comm -13 "$work/failed.direct.txt" "$work/failed.proxy.txt"
  printf 'failed directly only:\n'; comm -23 "$work/failed.direct.txt" "$work/failed.proxy.txt"
fi
exit $differ
