#!/usr/bin/env bash
# usage: ab.sh ROUNDS SHARDS "A_DIR|A_OPTS" "B_DIR|B_OPTS" -> medians of whole/start/JVM CPU of small.sh, A and B interleaved
R=$1; n=$2; shift 2
for spec in "$@"; do :; done
declare -A W S C
for ((r=0;r<R;r++)); do
  i=0
  for spec in "$@"; do
    dir=${spec%%|*}; opts=${spec#*|}
    out=$(DIR=$dir /tmp/s15/small.sh $n "$opts")
    W[$i]+="$(echo $out | cut -d' ' -f1) "; S[$i]+="$(echo $out | cut -d' ' -f2) "; C[$i]+="$(echo $out | cut -d' ' -f4) "
    i=$((i+1))
  done
done
med() { echo $1 | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
i=0
for spec in "$@"; do
  echo "$spec: median whole $(med "${W[$i]}") s, start $(med "${S[$i]}") s, jvm $(med "${C[$i]}") CPU-s; whole runs: ${W[$i]}"
  i=$((i+1))
done
