#!/usr/bin/env bash
# Runs README.md's "Your own databases" literally: every fenced block that follows a
# `<!-- readme-test[: flags] -->` marker in that section, in order, from the repository root.
# Flags: as-non-root (run as user postgres when we are root: initdb refuses root), expect-fail (the
# block must exit non-zero), background until="TEXT" (start it, wait until its output shows TEXT),
# stop-background (first stop the background blocks, as the text before the block asks the reader).
# Needs Debian's PostgreSQL server binaries (/usr/lib/postgresql/*/bin), psql, and ./pgreshard's jar
# (built by `mvn verify`, or by ./pgreshard itself). Everything it starts is stopped at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="$(mktemp -d /tmp/readme-own-databases.XXXXXX)"
chmod 755 "$work"
block_timeout="${README_BLOCK_TIMEOUT:-600}"
export PGRESHARD_LOG_LEVEL="${PGRESHARD_LOG_LEVEL:-INFO}" # each step of `run` in its log, shown when a block fails
background=()

stop_background() {
  for pid in "${background[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${background[@]}"; do
    for _ in $(seq 1 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  background=()
}

cleanup() {
  local rc=$?
  stop_background
  # the throw-away servers of step 0, whatever happened to the blocks
  if [[ -d /tmp/pgreshard-try ]]; then
    pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    for d in /tmp/pgreshard-try/544?; do
      [[ -f "$d/postmaster.pid" ]] || continue
      as_non_root "$pgbin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf /tmp/pgreshard-try
  fi
  if ((rc != 0)); then
    for log in "$work"/*.log; do
      [[ -f "$log" ]] && { echo "---- $log (last 60 lines, stack frames left out)"; grep -v $'^\t\\|^\tat \\|^\t\\.\\.\\.' "$log" | tail -n 60; }
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

as_non_root() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

if [[ -e /tmp/pgreshard-try ]]; then
  echo "readme-own-databases: /tmp/pgreshard-try exists (a walk-through still running?); remove it first" >&2
  exit 1
fi
for port in 5441 5442 5443 5444 6432 6433 6442 6443 7233; do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "readme-own-databases: port $port is in use; the walk-through needs it" >&2
    exit 1
  fi
done

# extract: block files plus one line of flags each
awk -v dir="$work" '
  /^### Your own databases/ { inside = 1; next }
  inside && /^##/ { inside = 0 }
  !inside { next }
  /^<!-- readme-test/ { flags = $0; sub(/^<!-- readme-test:? ?/, "", flags); sub(/ ?-->$/, "", flags); armed = 1; next }
  armed && /^```bash$/ { n++; file = sprintf("%s/block%02d.sh", dir, n); printf "" > file; print flags > (dir "/flags" sprintf("%02d", n)); armed = 0; copying = 1; next }
  copying && /^```$/ { copying = 0; close(file); next }
  copying { print >> file }
' README.md
blocks=("$work"/block*.sh)
((${#blocks[@]} >= 10)) || { echo "readme-own-databases: found only ${#blocks[@]} marked blocks in README.md" >&2; exit 1; }
chmod 644 "$work"/block*.sh

for block in "${blocks[@]}"; do
  n="$(basename "$block" .sh)"; n="${n#block}"
  flags="$(cat "$work/flags$n")"
  log="$work/block$n.log"
  echo "==== block $n${flags:+ ($flags)}"
  sed 's/^/    /' "$block"
  if [[ "$flags" == *background* ]]; then
    until_text="$(sed -n 's/.*until="\([^"]*\)".*/\1/p' <<<"$flags")"
    setsid bash -euo pipefail "$block" >"$log" 2>&1 &
    background+=("$!")
    for _ in $(seq 1 "$((block_timeout * 2))"); do
      grep -q "$until_text" "$log" && break
      kill -0 "$!" 2>/dev/null || { echo "block $n exited before printing '$until_text'" >&2; exit 1; }
      sleep 0.5
    done
    grep -q "$until_text" "$log" || { echo "block $n: no '$until_text' after ${block_timeout}s" >&2; exit 1; }
    continue
  fi
  if [[ "$flags" == *stop-background* ]]; then
    stop_background # the block's text asks the reader to stop what the background blocks started
  fi
  set +e
  if [[ "$flags" == *as-non-root* ]]; then
    (cd /tmp && as_non_root timeout "$block_timeout" bash -euo pipefail "$block") >"$log" 2>&1
  else
    timeout "$block_timeout" bash -euo pipefail "$block" >"$log" 2>&1
  fi
  rc=$?
  set -e
  sed 's/^/  | /' "$log"
  if [[ "$flags" == *expect-fail* ]]; then
    ((rc != 0)) || { echo "block $n was expected to fail (exit non-zero) but exited 0" >&2; exit 1; }
  elif ((rc != 0)); then
    echo "block $n failed with exit $rc" >&2
    exit 1
  fi
done
echo "readme-own-databases: all ${#blocks[@]} blocks of README \"Your own databases\" ran as documented"
