#!/usr/bin/env bash
# the bench's raw pipe with CPU accounting: wall, psql CPU, servers' CPU
# (bench/copy/run.sh 1 has run once and left its servers and configs in /tmp/pgreshard-bench)
export PGPASSWORD=bench PGUSER=postgres PGHOST=127.0.0.1
psql -X -q -p 5442 -c "DROP DATABASE IF EXISTS raw WITH (FORCE)" -c "CREATE DATABASE raw"
pg_dump -p 5441 --schema-only --section=pre-data --no-publications app | grep -v '^\\' | psql -X -q -p 5442 -d raw >/dev/null
pmcpu() { local out=""; for d in /tmp/pgreshard-bench/src /tmp/pgreshard-bench/dst; do t=0; p=$(head -1 $d/postmaster.pid); for q in $p $(pgrep -P $p); do t=$((t + $(awk "{print \$14+\$15+\$16+\$17}" /proc/$q/stat))); done; out="$out $t"; done; echo $out; }
c0=$(pmcpu); s=$(date +%s.%N)
/usr/bin/time -f "PSQLCPU %U %S" bash -c 'for t in orders line_items events products; do psql -X -p 5441 -d app -c "COPY public.$t TO STDOUT" | psql -X -q -p 5442 -d raw -c "COPY public.$t FROM STDIN" & done; wait' 2>/tmp/raw.time
e=$(date +%s.%N); sleep 0.5; c1=$(pmcpu)
echo "$(echo "$e - $s" | bc | cut -c1-5) raw; psql $(awk '/PSQLCPU/{print $2+$3}' /tmp/raw.time)s; servers src,dst $(python3 -c "a=\"$c0\".split(); b=\"$c1\".split(); print((int(b[0])-int(a[0]))/100, (int(b[1])-int(a[1]))/100)"); load $(cut -d' ' -f1 /proc/loadavg)"
