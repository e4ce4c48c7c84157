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
# python3, make, g++ and Node's headers in /usr/include/node); COMPAT_TLS=1 also runs pg-native's large-result
# tests (huge-query, load, copy-to) with TLS (PGSSLMODE=require) COMPAT_TLS_RUNS=N times (default 5) directly
# and N times through the proxy, counting hangs; COMPAT_SIDES (default "direct proxy shards2").
# PostgreSQL and the proxy both offer TLS with the same certificate; the suites choose when to use it.
# SSLMODE=require runs the suites over TLS on both sides (PGSSLMODE for libpq; the pure-JS client would
# verify the certificate). COMPAT_SUITES="name,name" runs only those suites (names as printed: "pg (pure JS)", "pg-cursor",
# "pg-query-stream", "pg (native, libpq)", "pg-native").
# Needs Debian's PostgreSQL 15 binaries, node and npm. Not part of `mvn verify`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
checkout="${1:?usage: compat/node-postgres/run.sh NODE_POSTGRES_CHECKOUT (a source tree or git directory of github brianc/node-postgres)}"
checkout="$(cd "$checkout" && pwd)"

# the packages under test, from the npm registry (one release: the four tags are one commit)
PG=8.23.0
PG_NATIVE=3.9.0
PG_CURSOR=2.22.0
PG_QUERY_STREAM=4.17.0
# A git directory (e.g. a bare clone) is read at the release's tag. A source tree must be at that release:
# the main branch keeps its package.json versions until the next release while its tests already test
# unreleased behaviour (pg 8.23.0's version at main of 2026-08-14 failed pipeline-portal-tests on both sides).
if git --git-dir="$checkout" rev-parse -q --verify "refs/tags/pg@$PG" >/dev/null 2>&1 \
   || git --git-dir="$checkout/.git" rev-parse -q --verify "refs/tags/pg@$PG" >/dev/null 2>&1; then
  gitdir=$checkout; [[ -d $checkout/.git ]] && gitdir=$checkout/.git
  extracted=$(mktemp -d /tmp/pgreshard-compat-src.XXXXXX)
  git --git-dir="$gitdir" archive "pg@$PG" packages | tar -x -C "$extracted"
  echo "compat: tests from tag pg@$PG ($(git --git-dir="$gitdir" rev-parse --short "pg@$PG")) of $checkout" >&2
  checkout=$extracted
fi
[[ -d "$checkout/packages/pg/test/integration" ]] || { echo "compat: $checkout has no packages/pg/test/integration; give a node-postgres checkout" >&2; exit 2; }
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
  [[ -z ${extracted:-} ]] || rm -rf "$extracted"
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
max_prepared_transactions = 200
CONF
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -l "$work/pg.log" -w start >/dev/null
# what node-postgres's CI sets up (.github/workflows/ci.yml)
PGPASSWORD=postgres psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
  -c "CREATE DATABASE ci_db_test" -c "CREATE DATABASE ci_db_direct" -c "CREATE DATABASE pgreshard_control" \
  -c "CREATE DATABASE ci_db_s0" -c "CREATE DATABASE ci_db_s1" \
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

# two shards (two databases of the same server): the third column. No [[sharded_tables]]: the suites' tables
# are all omnisharded (written on both shards, read from one), their temp tables created on both
[[databases]]
name = "ci_db_sharded"
host = "127.0.0.1"
port = $PG_PORT
database_name = "ci_db_s0"
shard = 0

[[databases]]
name = "ci_db_sharded"
host = "127.0.0.1"
port = $PG_PORT
database_name = "ci_db_s1"
shard = 1

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
database = "ci_db_sharded"
password = "postgres"

[[users]]
name = "scram_test"
database = "ci_db_sharded"
password = "test4scram"

[[users]]
name = "scram_unicode_test"
database = "ci_db_sharded"
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
# Three sides, one after the other (never at the same time: the machine is shared): directly (database
# ci_db_direct), through the proxy with one shard (ci_db_test, pass-through), and through the proxy with two
# shards (ci_db_sharded = databases ci_db_s0 and ci_db_s1). Each sees current_database() = PGDATABASE on one
# shard; on two shards every table the suites create is omnisharded (no [[sharded_tables]]).
COMPAT_SIDES=${COMPAT_SIDES:-direct proxy shards2}
side_port() { [[ $1 == direct ]] && echo "$PG_PORT" || echo "$PROXY_PORT"; }
side_db() { case $1 in direct) echo ci_db_direct;; proxy) echo ci_db_test;; shards2) echo ci_db_sharded;; esac; }
common_env() { # side command...
  env PGHOST=127.0.0.1 PGPORT="$(side_port "$1")" PGUSER=postgres PGPASSWORD=postgres PGDATABASE="$(side_db "$1")" \
    PGTESTNOSSL=true SCRAM_TEST_PGUSER=scram_test SCRAM_TEST_PGPASSWORD=test4scram \
    SCRAM_TEST_PGUSER_UNICODE=scram_unicode_test SCRAM_TEST_PGPASSWORD_UNICODE=$'IX-\u2168' "${@:2}"
}
# statements the proxy refused so far (its /metrics: pgreshard_proxy_errors_total{kind="refused"})
refused_so_far() {
  curl -s -u admin:admin "http://127.0.0.1:$CONTROL_PORT/metrics" \
    | awk '/^pgreshard_proxy_errors_total\{/ && /kind="refused"/ {s += $NF} END {printf "%d\n", s}'
}
# pg's own runner (test/suite.js): one process per file, '✔' per passed test; a failure ends its file. Its
# arguments are the Makefile's: `node FILE postgres:// [native]` (appname-tests reads argv[2] as a URL).
# A failed file is run once more (listed in retries.*.txt), and its second run counts. A failed file during
# which the proxy refused statements (0A000) is counted as "refused", not "failed".
run_pg_files() { # side mode(js|native) → prints "passed failed hung refused"
  local side=$1 mode=$2 passed=0 failed=0 hung=0 refused=0 files
  cd "$work/suite-pg"
  files=$(find test/integration -name '*-tests.js' | sort)
  [[ $mode == native ]] && files="$(find test/native -name '*-tests.js' | sort) $files"
  for f in $files; do
    local out rc=0 before after
    before=$(refused_so_far)
    out=$(common_env "$side" ${SSLMODE:+PGSSLMODE=$SSLMODE} timeout "$FILE_TIMEOUT" node "$f" postgres:// $([[ $mode == native ]] && echo native) 2>&1) || rc=$?
    if [[ $rc != 0 && $rc != 124 ]]; then
      # once more: suite.js gives each test 5 s, which a busy machine misses; a wrong answer fails again
      echo "[$side $mode] retried $f after: $(grep -m1 'FAILED!\|did not complete\|Error' <<<"$out")" >>"$work/retries.$side.txt"
      rc=0
      out=$(common_env "$side" ${SSLMODE:+PGSSLMODE=$SSLMODE} timeout "$FILE_TIMEOUT" node "$f" postgres:// $([[ $mode == native ]] && echo native) 2>&1) || rc=$?
    fi
    after=$(refused_so_far)
    passed=$((passed + $(grep -c '✔' <<<"$out" || true)))
    if [[ $rc == 124 ]]; then hung=$((hung + 1)); echo "[$side $mode] HUNG $f" >>"$work/failures.$side.txt"
    elif [[ $rc != 0 && $side == shards2 && $after != "$before" ]]; then
      refused=$((refused + 1))
      { echo "[$side $mode] REFUSED ($((after - before)) statements) $f"; grep -m3 -i 'shard\|0A000' <<<"$out"; } >>"$work/refusals.$side.txt"
    elif [[ $rc != 0 ]]; then failed=$((failed + 1)); { echo "[$side $mode] FAILED $f"; grep -A8 'FAILED!\|Error' <<<"$out" | head -12; } >>"$work/failures.$side.txt"
    fi
  done
  echo "$passed $failed $hung $refused"
}
run_mocha() { # dir side [mocha args...] → prints "passed failed hung refused"; a failing test whose error
  local dir=$1 side=$2; shift 2       # names a shard (the proxy's 0A000 refusals do) counts as refused
  local out rc=0
  cd "$work/$dir"
  out=$(common_env "$side" ${SSLMODE:+PGSSLMODE=$SSLMODE} TS_NODE_TRANSPILE_ONLY=true \
    TS_NODE_COMPILER_OPTIONS='{"module":"commonjs","moduleResolution":"node","ignoreDeprecations":"6.0"}' \
    timeout "$FILE_TIMEOUT" npx mocha --exit --reporter dot --timeout "$MOCHA_TIMEOUT_MS" "$@" 2>&1) || rc=$?
  local passed failed refused=0
  passed=$(grep -oE '[0-9]+ passing' <<<"$out" | awk '{print $1}' || true)
  failed=$(grep -oE '[0-9]+ failing' <<<"$out" | awk '{print $1}' || true)
  [[ $rc != 0 && $rc != 124 && -z $passed ]] && { echo "[$side $dir] mocha did not run:" ; tail -15 <<<"$out"; } >>"$work/failures.$side.txt"
  if [[ ${failed:-0} != 0 ]]; then
    if [[ $side == shards2 ]]; then
      refused=$(sed -n '/failing/,$p' <<<"$out" | awk '/^  [0-9]+\) / {if (b) n++; b=0} /shard|0A000/ {b=1} END {if (b) n++; print n+0}')
      { echo "[$side $dir]"; sed -n '/failing/,$p' <<<"$out" | grep -B3 -i 'shard\|0A000' | head -40; } >>"$work/refusals.$side.txt"
    fi
    { echo "[$side $dir]"; sed -n '/failing/,$p' <<<"$out" | head -60; } >>"$work/failures.$side.txt"
  fi
  echo "${passed:-0} $((${failed:-0} - refused)) $([[ $rc == 124 ]] && echo 1 || echo 0) $refused"
}

suites=("pg (pure JS)" "pg-cursor" "pg-query-stream")
[[ $native_built == 1 ]] && suites+=("pg (native, libpq)" "pg-native")
if [[ -n ${COMPAT_SUITES:-} ]]; then   # e.g. COMPAT_SUITES="pg (native, libpq),pg-cursor"
  chosen=()
  for s in "${suites[@]}"; do [[ ",$COMPAT_SUITES," == *",$s,"* ]] && chosen+=("$s"); done
  suites=("${chosen[@]}")
fi
run_suite() { # name side
  case $1 in
    "pg (pure JS)") run_pg_files "$2" js ;;
    "pg (native, libpq)") run_pg_files "$2" native ;;
    pg-cursor) run_mocha suite-pg-cursor "$2" test/ ;;
    pg-query-stream) run_mocha suite-pg-query-stream "$2" -r ts-node/register 'test/**/*.ts' ;;
    pg-native) run_mocha suite-pg-native "$2" test/ ;;
  esac
}
declare -A result
for side in $COMPAT_SIDES; do
  for s in "${suites[@]}"; do
    echo "== $s: $side ($(date -u +%H:%M:%S), load $(uptime | sed 's/.*load average: //'))" >&2
    result["$s|$side"]=$(run_suite "$s" "$side")
    echo "== result $s: $side passed/failed/hung/refused ${result["$s|$side"]// //}" >&2   # kept if the run is cut short
  done
done

# Fidelity C: libpq (pg-native, non-blocking reads) on large results over TLS, directly and through the proxy.
# A run that exceeds TLS_RUN_TIMEOUT, or a test that mocha times out, is a hang.
TLS_RUN_TIMEOUT=${TLS_RUN_TIMEOUT:-240}
declare -A tls
if [[ $COMPAT_TLS == 1 && $native_built == 1 ]]; then
  for side in direct proxy; do
    ok=0 bad=0 hang=0
    for i in $(seq 1 "$COMPAT_TLS_RUNS"); do
      cd "$work/suite-pg-native"
      rc=0 t0=$(date +%s)
      out=$(common_env "$side" PGSSLMODE=require timeout "$TLS_RUN_TIMEOUT" npx mocha --exit --reporter dot \
        --timeout 120000 test/huge-query.js test/load.js test/copy-to.js 2>&1) || rc=$?
      took=$(( $(date +%s) - t0 ))
      if [[ $rc == 124 ]] || grep -q 'Timeout of' <<<"$out"; then hang=$((hang + 1)); verdict=HUNG
      elif [[ $rc != 0 ]]; then bad=$((bad + 1)); verdict=FAILED
      else ok=$((ok + 1)); verdict=passed; fi
      echo "[tls $side] run $i: $verdict in ${took}s ($(grep -oE '[0-9]+ passing' <<<"$out" || echo 'no summary'))" | tee -a "$work/tls.txt" >&2
      [[ $verdict == passed ]] || { echo "[tls $side] run $i"; tail -30 <<<"$out"; } >>"$work/failures.tls.txt"
    done
    tls[$side]="$ok $bad $hang"
    echo "== result TLS $side: passed/failed/hung runs ${tls[$side]// //}" >&2
  done
fi

printf '\nnode-postgres suites (pg %s, pg-cursor %s, pg-query-stream %s, pg-native %s), %s, load %s\n' "$PG" "$PG_CURSOR" \
  "$PG_QUERY_STREAM" "$([[ $native_built == 1 ]] && echo "$PG_NATIVE" || echo 'not built')" "$(date -u '+%Y-%m-%d %H:%M UTC')" \
  "$(uptime | sed 's/.*load average: //')"
printf 'passed/failed/hung (pg (pure JS) and native: tests passed / files failed / files hung; mocha suites: tests);\n'
printf 'two shards: passed/failed/hung + refused (0A000: files or tests that failed on a refusal, see refusals.shards2)\n'
printf '%-20s %-16s %-16s %-5s %s\n' suite direct "proxy, 1 shard" same "proxy, 2 shards"
differ=0
show() { local r=${1:-}; [[ -z $r ]] && { echo -; return; }; set -- $r; echo "$1/$2/$3"; }
for s in "${suites[@]}"; do
  d=$(show "${result["$s|direct"]:-}"); p=$(show "${result["$s|proxy"]:-}"); t=$(show "${result["$s|shards2"]:-}")
  [[ $t != - ]] && t="$t + $(awk '{print $4}' <<<"${result["$s|shards2"]}") refused"
  same=yes; [[ $d == "$p" ]] || { same=NO; differ=1; }
  printf '%-20s %-16s %-16s %-5s %s\n' "$s" "$d" "$p" "$same" "$t"
done
if [[ $COMPAT_TLS == 1 && $native_built == 1 ]]; then
  printf '\npg-native huge-query + load + copy-to over TLS (PGSSLMODE=require), %s runs per side: passed/failed/hung runs\n' "$COMPAT_TLS_RUNS"
  printf '%-20s %-16s %-16s\n' "" "$(show "${tls[direct]}")" "$(show "${tls[proxy]}")"
  [[ ${tls[direct]} == "${tls[proxy]}" ]] || differ=1
fi
for f in "$work"/failures.*.txt "$work"/refusals.*.txt "$work"/retries.*.txt; do
  [[ -s $f ]] || continue
  printf '\n%s:\n' "$(basename "$f" .txt)"
  cat "$f"
done
exit $differ
