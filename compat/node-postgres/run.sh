#!/usr/bin/env bash
# compat/node-postgres/run.sh: node-postgres's own integration suites, directly against PostgreSQL and
# through the pgreshard proxy (one shard), counts side by side. The goal is equal counts.
#
#   compat/node-postgres/run.sh CHECKOUT        (run by hand as root; or: mvn -B -pl cli -am -Pcompat package
#                                                 -DskipTests -Dcompat.checkout=CHECKOUT)
#
# The packages under test come from the npm registry at the versions pinned below. Their test suites are
# not published on npm (the tarballs hold lib/ only), so CHECKOUT must be a node-postgres source tree
# (github brianc/node-postgres, at the release matching the pins): its packages/*/test directories are
# copied next to the installed packages. Nothing of node-postgres is kept in this repository.
#
# Environment: COMPAT_NATIVE=0 skips pg-native (it builds libpq bindings with node-gyp: needs libpq-dev,
# python3, make, g++ and Node's headers in /usr/include/node); COMPAT_TLS=1 also runs the libpq-based
# suite through the proxy with TLS (PGSSLMODE=require), COMPAT_TLS_RUNS=N times (default 5), counting hangs.
# PostgreSQL and the proxy both offer TLS with the same certificate; the suites choose when to use it.
# SSLMODE=require runs the suites over TLS on both sides (PGSSLMODE for libpq; the pure-JS client would
# verify the certificate). COMPAT_SUITES="name,name" runs only those suites (names as printed: "pg (pure JS)", "pg-cursor",
# "pg-query-stream", "pg (native, libpq)", "pg-native").
# Needs Debian's PostgreSQL 15 binaries, node and npm. Not part of `mvn verify`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
checkout="${1:?usage: compat/node-postgres/run.sh NODE_POSTGRES_CHECKOUT (a source tree of github brianc/node-postgres)}"
checkout="$(cd "$checkout" && pwd)"
[[ -d "$checkout/packages/pg/test/integration" ]] || { echo "compat: $checkout has no packages/pg/test/integration; give a node-postgres checkout" >&2; exit 2; }

# the packages under test, from the npm registry
PG=8.23.0
PG_NATIVE=3.9.0
PG_CURSOR=2.22.0
PG_QUERY_STREAM=4.17.0
COMPAT_NATIVE=${COMPAT_NATIVE:-1}
COMPAT_TLS=${COMPAT_TLS:-0}
COMPAT_TLS_RUNS=${COMPAT_TLS_RUNS:-5}
FILE_TIMEOUT=${FILE_TIMEOUT:-600}
# mocha's default of 2 s per test (tests that set no timeout of their own) is raised: on a busy machine
# those tests failed on time, not on answers, directly and through the proxy alike
MOCHA_TIMEOUT_MS=${MOCHA_TIMEOUT_MS:-30000}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

for pkg in pg pg-native pg-cursor pg-query-stream; do
  want=$(case $pkg in pg) echo $PG;; pg-native) echo $PG_NATIVE;; pg-cursor) echo $PG_CURSOR;; pg-query-stream) echo $PG_QUERY_STREAM;; esac)
  have=$(node -p "require('$checkout/packages/$pkg/package.json').version")
  [[ $have == "$want" ]] || echo "compat: warning: the checkout's $pkg is $have, the npm package under test $want; tests may not match" >&2
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT=$(free_port)
PROXY_PORT=$(free_port)
CONTROL_PORT=$(free_port)
work="$(mktemp -d /tmp/pgreshard-compat.XXXXXX)"
chmod 755 "$work"
chown postgres "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -d "$work/data" ]] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' INT TERM   # so that a kill still stops the servers this script started

echo "== PostgreSQL 15 on port $PG_PORT (work dir $work)" >&2
mkdir -p "$work/data" && chown postgres "$work/data"
echo postgres > "$work/pwfile" && chown postgres "$work/pwfile"
runuser -u postgres -- "$PGBIN/initdb" -D "$work/data" -A scram-sha-256 --pwfile="$work/pwfile" -U postgres >/dev/null
# TLS on both sides, with one certificate, as node-postgres's CI server has it (its ssl tests run on both)
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
CONF
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -l "$work/pg.log" -w start >/dev/null
# what node-postgres's CI sets up (.github/workflows/ci.yml)
PGPASSWORD=postgres psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
  -c "CREATE DATABASE ci_db_test" -c "CREATE DATABASE ci_db_direct" -c "CREATE DATABASE pgreshard_control" \
  -c "SET password_encryption = 'scram-sha-256'" \
  -c "CREATE ROLE scram_test LOGIN PASSWORD 'test4scram'" \
  -c "CREATE ROLE scram_unicode_test LOGIN PASSWORD U&'IX-\2168'"

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
name = "ci_db_test"
host = "127.0.0.1"
port = $PG_PORT
database_name = "ci_db_test"

# gh-issues/130-tests.js runs psql on template1 (PGHOST/PGPORT: through the proxy) to pg_terminate_backend
[[databases]]
name = "template1"
host = "127.0.0.1"
port = $PG_PORT
TOML
cat > "$work/users.toml" <<TOML
[[users]]
name = "postgres"
database = "ci_db_test"
password = "postgres"

[[users]]
name = "scram_test"
database = "ci_db_test"
password = "test4scram"

[[users]]
name = "scram_unicode_test"
database = "ci_db_test"
password = "IX-\u2168"

[[users]]
name = "postgres"
database = "template1"
password = "postgres"
TOML
# PGRESHARD_JAR=path uses that jar as it is; else the launcher builds cli/target/pgreshard.jar when needed
# (then it is run directly: no second build if sources change meanwhile)
jar=${PGRESHARD_JAR:-$root/cli/target/pgreshard.jar}
[[ -n ${PGRESHARD_JAR:-} ]] || "$root/pgreshard" --help >/dev/null
java ${PGRESHARD_JAVA_OPTS:--Xmx512m} -jar "$jar" proxy --config "$work/pgreshard.toml" >"$work/proxy.log" 2>&1 &
pids+=($!)
up=
for _ in $(seq 1 600); do   # up to 2 minutes: a loaded machine starts a JVM slowly
  PGPASSWORD=postgres PGSSLMODE=prefer psql -h 127.0.0.1 -p "$PROXY_PORT" -U postgres -d ci_db_test -Atc "select 1" >/dev/null 2>&1 && { up=1; break; }
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 0.2
done
[[ -n $up ]] || { echo "compat: the proxy did not start:" >&2; cat "$work/proxy.log" >&2; exit 1; }

# ---- the suites: each package from npm, its tests from the checkout, its own node_modules
export npm_config_nodedir=${npm_config_nodedir:-/usr}   # Node's headers for node-gyp (no download)
prepare() { # dir package version [drop-dev-deps...]: installs package@version from npm and the checkout's tests
  local dir=$1 pkg=$2 version=$3; shift 3
  mkdir -p "$work/$dir" && cd "$work/$dir"
  npm pack --silent "$pkg@$version" >/dev/null
  tar xzf ./*.tgz --strip-components=1 && rm ./*.tgz
  cp -r "$checkout/packages/$pkg/test" .
  [[ -f "$checkout/packages/$pkg/tsconfig.json" ]] && cp "$checkout/packages/$pkg/tsconfig.json" .
  # dev dependencies the suite needs (not the bundlers, linters and worker runtimes); pg at the version under test
  node -e '
    const fs = require("fs"); const p = JSON.parse(fs.readFileSync("package.json"));
    const drop = process.argv.slice(1);
    const dev = p.devDependencies || {};
    for (const d of Object.keys(dev)) if (drop.some(x => d === x || d.startsWith(x + "/"))) delete dev[d];
    const pins = { pg: process.env.PG, "pg-cursor": process.env.PG_CURSOR };
    p.overrides = {};
    for (const [name, version] of Object.entries(pins)) {
      if (name === p.name) continue;
      let direct = false;
      for (const deps of [p.dependencies, dev]) if (deps && deps[name]) { deps[name] = version; direct = true; }
      if (!direct) p.overrides[name] = version;   // npm refuses an override of a direct dependency
    }
    delete p.scripts; fs.writeFileSync("package.json", JSON.stringify(p, null, 2));' "$@"
  PG=$PG PG_CURSOR=$PG_CURSOR npm install --silent --no-audit --no-fund >"$work/$dir.npm.log" 2>&1
}
echo "== installing pg $PG, pg-cursor $PG_CURSOR, pg-query-stream $PG_QUERY_STREAM${COMPAT_NATIVE:+, pg-native $PG_NATIVE} from npm" >&2
export PG PG_CURSOR
prepare suite-pg pg "$PG" @cloudflare typescript vitest wrangler
prepare suite-pg-cursor pg-cursor "$PG_CURSOR"
prepare suite-pg-query-stream pg-query-stream "$PG_QUERY_STREAM" eslint-plugin-promise
native_built=0
if [[ $COMPAT_NATIVE == 1 ]]; then
  if prepare suite-pg-native pg-native "$PG_NATIVE" node-gyp \
      && node -e 'require(process.argv[1])' "$work/suite-pg-native"; then
    # pg's native mode requires 'pg-native': the one just built (npm would not run libpq's build script
    # for a dependency of a dependency, nor install a package pg lists as its own optional peer)
    ln -s "$work/suite-pg-native" "$work/suite-pg/node_modules/pg-native"
    native_built=1
  else
    echo "compat: pg-native did not build (see the npm log below); its suites are left out" >&2
    tail -20 "$work/suite-pg-native.npm.log" >&2 || true
  fi
fi

# ---- running
# The direct run uses database ci_db_direct, the proxied one ci_db_test (the proxy serves it from the server's
# ci_db_test): the two run at the same time without touching each other's tables, and each sees
# current_database() = PGDATABASE.
common_env() { # port
  local db=ci_db_test; [[ $1 == "$PG_PORT" ]] && db=ci_db_direct
  env PGHOST=127.0.0.1 PGPORT="$1" PGUSER=postgres PGPASSWORD=postgres PGDATABASE=$db PGTESTNOSSL=true \
    SCRAM_TEST_PGUSER=scram_test SCRAM_TEST_PGPASSWORD=test4scram SCRAM_TEST_PGUSER_UNICODE=scram_unicode_test \
    SCRAM_TEST_PGPASSWORD_UNICODE=$'IX-\u2168' "${@:2}"
}
# pg's own runner (test/suite.js): one process per file, '✔' per passed test; a failure ends its file.
# A failed file is run once more (listed in retries.*.txt), and its second run counts.
run_pg_files() { # port label mode(js|native) → prints "passed failed hung"
  local port=$1 label=$2 mode=$3 passed=0 failed=0 hung=0 files
  cd "$work/suite-pg"
  files=$(find test/integration -name '*-tests.js' | sort)
  [[ $mode == native ]] && files="$(find test/native -name '*-tests.js' | sort) $files"
  for f in $files; do
    local out rc=0
    out=$(common_env "$port" ${SSLMODE:+PGSSLMODE=$SSLMODE} timeout "$FILE_TIMEOUT" node "$f" $([[ $mode == native ]] && echo native) 2>&1) || rc=$?
    if [[ $rc != 0 && $rc != 124 ]]; then
      # once more: suite.js gives each test 5 s, which a busy machine misses; a wrong answer fails again
      echo "[$label $mode] retried $f after: $(grep -m1 'FAILED!\|did not complete\|Error' <<<"$out")" >>"$work/retries.${label// /_}.txt"
      rc=0
      out=$(common_env "$port" ${SSLMODE:+PGSSLMODE=$SSLMODE} timeout "$FILE_TIMEOUT" node "$f" $([[ $mode == native ]] && echo native) 2>&1) || rc=$?
    fi
    passed=$((passed + $(grep -c '✔' <<<"$out" || true)))
    if [[ $rc == 124 ]]; then hung=$((hung + 1)); echo "[$label $mode] HUNG $f" >>"$work/failures.${label// /_}.txt"
    elif [[ $rc != 0 ]]; then failed=$((failed + 1)); { echo "[$label $mode] FAILED $f"; grep -A8 'FAILED!\|Error' <<<"$out" | head -12; } >>"$work/failures.${label// /_}.txt"
    fi
  done
  echo "$passed $failed $hung"
}
run_mocha() { # dir port label [mocha args...] → prints "passed failed hung"
  local dir=$1 port=$2 label=$3; shift 3
  local out rc=0
  cd "$work/$dir"
  out=$(common_env "$port" ${SSLMODE:+PGSSLMODE=$SSLMODE} TS_NODE_TRANSPILE_ONLY=true \
    TS_NODE_COMPILER_OPTIONS='{"module":"commonjs","moduleResolution":"node","ignoreDeprecations":"6.0"}' \
    timeout "$FILE_TIMEOUT" npx mocha --exit --reporter dot --timeout "$MOCHA_TIMEOUT_MS" "$@" 2>&1) || rc=$?
  local passed failed
  passed=$(grep -oE '[0-9]+ passing' <<<"$out" | awk '{print $1}' || true)
  failed=$(grep -oE '[0-9]+ failing' <<<"$out" | awk '{print $1}' || true)
  [[ $rc != 0 && $rc != 124 && -z $passed ]] && { echo "[$label $dir] mocha did not run:" ; tail -15 <<<"$out"; } >>"$work/failures.${label// /_}.txt"
  [[ ${failed:-0} != 0 ]] && { echo "[$label $dir]"; sed -n '/failing/,$p' <<<"$out" | head -60; } >>"$work/failures.${label// /_}.txt"
  echo "${passed:-0} ${failed:-0} $([[ $rc == 124 ]] && echo 1 || echo 0)"
}

suites=("pg (pure JS)" "pg-cursor" "pg-query-stream")
[[ $native_built == 1 ]] && suites+=("pg (native, libpq)" "pg-native")
if [[ -n ${COMPAT_SUITES:-} ]]; then   # e.g. COMPAT_SUITES="pg (native, libpq),pg-cursor"
  chosen=()
  for s in "${suites[@]}"; do [[ $COMPAT_SUITES == *"$s"* ]] && chosen+=("$s"); done
  suites=("${chosen[@]}")
fi
run_suite() { # name port label
  case $1 in
    "pg (pure JS)") run_pg_files "$2" "$3" js ;;
    "pg (native, libpq)") run_pg_files "$2" "$3" native ;;
    pg-cursor) run_mocha suite-pg-cursor "$2" "$3" test/ ;;
    pg-query-stream) run_mocha suite-pg-query-stream "$2" "$3" -r ts-node/register 'test/**/*.ts' ;;
    pg-native) run_mocha suite-pg-native "$2" "$3" test/ ;;
  esac
}

# direct and through the proxy at the same time (separate databases), each suite after the other
run_side() { # label port: one line "suite|passed failed hung" per suite into $work/result.label
  local s
  for s in "${suites[@]}"; do
    echo "== $s: $1" >&2
    echo "$s|$(run_suite "$s" "$2" "$1")" >>"$work/result.$1"
  done
}
run_side direct "$PG_PORT" &
direct_pid=$!
run_side proxy "$PROXY_PORT" &
proxy_pid=$!
wait "$direct_pid" "$proxy_pid"
declare -A result
while IFS='|' read -r s r; do result["$s|direct"]=$r; done <"$work/result.direct"
while IFS='|' read -r s r; do result["$s|proxy"]=$r; done <"$work/result.proxy"
if [[ $COMPAT_TLS == 1 && $native_built == 1 ]]; then
  for i in $(seq 1 "$COMPAT_TLS_RUNS"); do
    echo "== pg (native, libpq) through the proxy with TLS, run $i of $COMPAT_TLS_RUNS" >&2
    result["tls $i|proxy"]=$(SSLMODE=require run_suite "pg (native, libpq)" "$PROXY_PORT" "proxy tls")
  done
fi

printf '\nnode-postgres suites (pg %s, pg-cursor %s, pg-query-stream %s, pg-native %s), %s, load %s\n' "$PG" "$PG_CURSOR" \
  "$PG_QUERY_STREAM" "$([[ $native_built == 1 ]] && echo "$PG_NATIVE" || echo 'not built')" "$(date -u '+%Y-%m-%d %H:%M UTC')" \
  "$(uptime | sed 's/.*load average: //')"
printf '%-22s %-26s %-26s %s\n' suite "direct passed/failed/hung" "proxy passed/failed/hung" same
differ=0
for s in "${suites[@]}"; do
  d=${result["$s|direct"]}; p=${result["$s|proxy"]}
  same=yes; [[ $d == "$p" ]] || { same=NO; differ=1; }
  printf '%-22s %-26s %-26s %s\n' "$s" "${d// //}" "${p// //}" "$same"
done
if [[ $COMPAT_TLS == 1 && $native_built == 1 ]]; then
  for i in $(seq 1 "$COMPAT_TLS_RUNS"); do
    p=${result["tls $i|proxy"]}; d=${result["pg (native, libpq)|direct"]}
    same=yes; [[ $d == "$p" ]] || { same=NO; differ=1; }
    printf '%-22s %-26s %-26s %s\n' "native, TLS run $i" "${d// //}" "${p// //}" "$same"
  done
fi
for f in "$work"/failures.*.txt; do
  [[ -s $f ]] || continue
  printf '\n%s:\n' "$(basename "$f" .txt)"
  cat "$f"
done
exit $differ
