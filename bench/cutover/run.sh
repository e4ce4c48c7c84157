#!/usr/bin/env bash
# Cutover benchmark: what clients feel. pgreshard's cutover + rollback, repeated under an 8-client write
# load through one proxy, then through two; per switch the longest commit of any client around it (the
# headline) next to the pause; then PgBouncer's own PAUSE + RESUME under the same load (the floor of any
# proxy-side switch: it moves no data and swaps nothing).
#
#   bench/cutover/run.sh [CYCLES=10] [PROXIES=1,2]   # each cycle = RESHARD (automatic cutover) + rollback = 2 switches
#   SERVERS=one bench/cutover/run.sh ...             # all databases on one server (default: 4 separate servers)
#   PROXY_JVM=shared bench/cutover/run.sh ...        # proxies in the bench's JVM (default: each its own JVM, as in production)
#   CLIENTS_JVM=shared bench/cutover/run.sh ...      # the 8 clients in the bench's JVM (default: a JVM of their own, as an application's)
#   PROXY_JAVA_OPTS=... / CLIENTS_JAVA_OPTS=... / JAVA_OPTS=...  # JVM options of each proxy / of the clients (both default
#                                                    # -XX:+UseZGC) / of the bench's JVM (worker, Temporal test server)
#
# Source, shard 0, shard 1 and the control store run on separate embedded PostgreSQL 15 servers (zonky:
# separate server processes); the embedded Temporal test server.
# Needs pgbouncer (apt-get install pgbouncer). Run by hand; not part of mvn verify.
set -euo pipefail
CYCLES=${1:-10}
PROXIES=${2:-1,2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CP_FILE=/tmp/pgreshard-bench-cutover.cp
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "bench/cutover needs pgbouncer: apt-get install -y pgbouncer" >&2
  exit 2
fi
echo "== building pgreshard (test classes + classpath)"
(cd "$ROOT" && mvn -B -q -pl cli -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null)
CP="$ROOT/cli/target/test-classes:$ROOT/cli/target/classes"
for m in core workflows activities proxy; do CP="$CP:$ROOT/$m/target/classes"; done
CP="$CP:$ROOT/core/target/test-classes:$(cat "$CP_FILE")"
echo "== $CYCLES cycles (reshard + automatic cutover + rollback) under load, then the pgbouncer peer"
exec java ${JAVA_OPTS:-} -Dlogback.configurationFile="$ROOT/bench/cutover/logback.xml" -cp "$CP" dev.pgreshard.cli.CutoverBench "$CYCLES" \
    "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" "$PROXIES"
