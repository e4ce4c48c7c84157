#!/bin/bash
cd "$(dirname "$0")/../../.."
for i in 1 2; do
  for t in epoll io_uring; do
    echo "### $t run $i $(date -u +%H:%M) $(uptime | sed 's/.*load/load/')"
    PGRESHARD_JAR=cli/target/pgreshard.jar PGRESHARD_JAVA_OPTS="-Xms512m -Xmx512m -Dpgreshard.proxy.transport=$t" DURATION=8 bench/proxy 2>&1 | grep -v "^\[\|^done\|^==\|^PgBouncer\|^pgbench"
  done
done
