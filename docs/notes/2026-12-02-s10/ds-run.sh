#!/usr/bin/env bash
# usage: ds-run.sh SHARDS "JAVA_OPTS"  -> wall, copy seconds, JVM CPU, servers' CPU (postmaster + reaped children)
# (bench/copy/run.sh 1 has run once and left its servers and configs in /tmp/pgreshard-bench)
cd "$(dirname "$0")/../../.."; export PGPASSWORD=bench; n=$1; cfg=/tmp/pgreshard-bench/pgreshard-$n
for ((i=0;i<n;i++)); do psql -X -q -h 127.0.0.1 -p 5442 -U postgres -c "DROP DATABASE IF EXISTS s${n}_$i WITH (FORCE)" -c "CREATE DATABASE s${n}_$i" 2>/dev/null; done
./pgreshard schema-sync src dst bench_pub --config $cfg/pgreshard.toml >/dev/null
pmcpu() { local out=""; for d in /tmp/pgreshard-bench/src /tmp/pgreshard-bench/dst; do t=0; p=$(head -1 $d/postmaster.pid); for q in $p $(pgrep -P $p); do t=$((t + $(awk "{print \$14+\$15+\$16+\$17}" /proc/$q/stat))); done; out="$out $t"; done; echo $out; }
c0=$(pmcpu); s=$(date +%s.%N)
out=$(PGRESHARD_JAVA_OPTS="-Xmx256m $2" /usr/bin/time -f "JVMCPU %U %S" ./pgreshard data-sync src dst bench_pub --sync-only --config $cfg/pgreshard.toml 2>&1 | grep "copied 4\|JVMCPU")
e=$(date +%s.%N); sleep 0.5; c1=$(pmcpu)
jvm=$(echo "$out" | awk '/JVMCPU/{print $2+$3}')
echo "$(echo "$e - $s" | bc | cut -c1-5) whole; $(echo "$out" | grep copied | sed -E 's/.* in ([0-9.]+) s .*/\1/') copy; jvm ${jvm}s; servers src,dst $(python3 -c "a=\"$c0\".split(); b=\"$c1\".split(); print((int(b[0])-int(a[0]))/100, (int(b[1])-int(a[1]))/100)"); load $(cut -d' ' -f1 /proc/loadavg); opts=[$2]"
