#!/usr/bin/env bash
# Two-phase commit benchmark: pgbench-style transactions writing on two shards (UPDATE an account on
# each, INSERT a history row) through the proxy, which commits each with PREPARE TRANSACTION + a
# decision in the control store + COMMIT PREPARED, against the same transactions on one database
# (the peer: the application before resharding), in one run. Prints both throughputs and the ratio.
#
#   bench/twophase/run.sh [CLIENTS=4] [SECONDS=10] [ACCOUNTS_PER_SHARD=10000]
#
# Everything runs on one embedded PostgreSQL 15 (zonky): shards, the single database and the control
# store. Run by hand; not part of mvn verify.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CP_FILE=/tmp/pgreshard-bench-twophase.cp
echo "== building pgreshard (test classes + classpath)"
(cd "$ROOT" && mvn -B -q -pl cli -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null)
CP="$ROOT/cli/target/test-classes:$ROOT/cli/target/classes"
for m in core workflows activities proxy; do CP="$CP:$ROOT/$m/target/classes"; done
CP="$CP:$ROOT/core/target/test-classes:$(cat "$CP_FILE")"
echo "== ${1:-4} clients, ${2:-10} s per run"
exec java -Dlogback.configurationFile="$ROOT/bench/cutover/logback.xml" -cp "$CP" \
    dev.pgreshard.cli.twophase.TwoPhaseBench "${1:-4}" "${2:-10}" "${3:-10000}"
