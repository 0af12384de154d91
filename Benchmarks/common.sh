# Benchmarks/common.sh: shared by delivery.sh and instances.sh (source it, don't run it).
#
#   bench_init          repo root, wrk (from Debian if missing), the release build in .build-bench (never
#                       the shared .build; RELEVO_BIN=path runs that binary instead, unbuilt, to compare
#                       two builds in alternating runs), a temp dir $TMP, and EXIT/INT/TERM traps that stop every
#                       process started here (relevo, panel, PostgreSQL) and remove $TMP; and the allocator
#                       the servers run with, as in production (README, Configuration): jemalloc (Debian's
#                       libjemalloc2, installed if missing) through LD_PRELOAD; MALLOC=glibc runs them on
#                       glibc's malloc instead
#   start_panel         Benchmarks/panel.mjs → PANEL_PORT, PANEL_START (its monotonic start, ns)
#   measure_ceiling     wrk POSTing a message event straight to the panel → prints req/s
#   start_postgres      throwaway PostgreSQL 15 (scripts/pg_server.py) → PG_URL (database `relevo`)
#   create_database N   another empty database on it → prints its URL
#   start_relevo N URL  `relevo serve` named N on URL, at a free port from $PORT, up once /health answers
#                       → RELEVO_PID, RELEVO_BASE; logs in $TMP/N.stdout.log and $TMP/N.stderr.log
#   start_server N CMD… the same for any server command (the word PORT in it becomes the port)
#   read_banner N       projectId / x-api-key printed by instance N (the first on an empty database)
#                       → PROJECT, KEY
#   run_delivery BASES PROJECT KEY OUT   Benchmarks/delivery.mjs (BASES comma-separated) → OUT, then
#                       stdout; returns its status; RESULT_JSON is its RESULT line
#   stop_processes PID… SIGTERM, wait for each (SIGKILL after 60 s), forget them
#   cpu_of PID          CPU seconds (user + system) of a running process so far
#   log_summary N       stderr of instance N: line count and its non-info lines, grouped

BIN="${RELEVO_BIN:-.build-bench/release/relevo}"
PIDS=()

bench_init() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  SERVER_ENV=()
  if [[ "${MALLOC:-jemalloc}" == jemalloc ]]; then
    local jemalloc
    jemalloc="$(find_jemalloc)" || { apt-get update -qq && apt-get install -y -qq libjemalloc2 >/dev/null; jemalloc="$(find_jemalloc)"; } \
      || { echo "libjemalloc.so.2 not found (MALLOC=glibc runs without it)" >&2; return 1; }
    SERVER_ENV=(env "LD_PRELOAD=$jemalloc")
    echo "== servers run with jemalloc ($jemalloc); MALLOC=glibc for glibc's malloc" >&2
  else
    echo "== servers run with glibc's malloc" >&2
  fi
  [[ -n "${RELEVO_BIN:-}" ]] || swift build -c release --static-swift-stdlib --scratch-path .build-bench --product relevo >&2
  TMP="$(mktemp -d)"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM  # the EXIT trap runs on Ctrl-C and kill too
}

find_jemalloc() {
  local path
  for path in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
    [[ -e "$path" ]] && { echo "$path"; return 0; }
  done
  return 1
}

bench_cleanup() {
  local status=$?
  set +e
  trap - INT TERM
  # One at a time, newest first: relevo (and the load generator) before the panel and the PostgreSQL
  # they talk to (relevo asked to stop while its database is gone may keep retrying until SIGKILL).
  while [[ ${#PIDS[@]} -gt 0 ]]; do stop_processes "${PIDS[-1]}"; done
  if [[ -n "${KEEP_LOGS:-}" ]]; then echo "logs kept in $TMP" >&2; else rm -rf "$TMP"; fi
  return "$status"
}

# Running (a child that exited but was not waited for is a zombie: not running).
running() {
  local state
  state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)"
  [[ -n "$state" && "$state" != Z ]]
}

cpu_of() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }

stop_processes() {
  local p _ kept=()
  for p; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 600); do
    kept=()
    for p; do running "$p" && kept+=("$p"); done
    [[ ${#kept[@]} -eq 0 ]] && break
    sleep 0.1
  done
  for p; do
    if running "$p"; then echo "pid $p still running 60 s after SIGTERM: SIGKILL" >&2; kill -KILL "$p" 2>/dev/null || true; fi
    wait "$p" 2>/dev/null || true
  done
  kept=()
  for p in "${PIDS[@]}"; do [[ " $* " == *" $p "* ]] || kept+=("$p"); done
  PIDS=(${kept[@]+"${kept[@]}"})
}

start_panel() {
  node Benchmarks/panel.mjs >"$TMP/panel.json" &
  PIDS+=($!)
  for _ in $(seq 100); do [[ -s "$TMP/panel.json" ]] && break; sleep 0.05; done
  PANEL_PORT="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$TMP/panel.json")"
  PANEL_START="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["start"])' "$TMP/panel.json")"
}

measure_ceiling() {
  echo "== ceiling: wrk POSTing a message event straight to the panel (10 s, 64 connections)" >&2
  wrk -t2 -c64 -d10s -s Benchmarks/post.lua "http://127.0.0.1:$PANEL_PORT/hook" | awk '/Requests\/sec/ { print $2 }'
}

start_postgres() {
  python3 scripts/pg_server.py --database relevo >"$TMP/pg.url" 2>"$TMP/pg.log" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1200); do
    [[ -s "$TMP/pg.url" ]] && break
    running "$pid" || { cat "$TMP/pg.log" >&2; echo "PostgreSQL did not start" >&2; return 1; }
    sleep 0.1
  done
  PG_URL="$(head -1 "$TMP/pg.url")"
  [[ -n "$PG_URL" ]] || { echo "PostgreSQL printed no URL" >&2; return 1; }
}

create_database() {
  psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $1" >&2
  echo "${PG_URL%/*}/$1?${PG_URL#*\?}"  # …/relevo?sslmode=disable → …/$1?sslmode=disable
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT="${PORT:-18650}"

start_relevo() {
  start_server "$1" "$BIN" serve --port PORT --database "$2" --rate-limit 0 --allow-insecure-webhooks
}

# start_server NAME COMMAND…: runs COMMAND with the word PORT replaced by a free port, until /health answers.
start_server() {
  local name=$1 port=$NEXT_PORT word command=()
  shift
  while port_in_use "$port"; do port=$((port + 1)); done
  NEXT_PORT=$((port + 1))
  for word; do command+=("${word/#PORT/$port}"); done
  ${SERVER_ENV[@]+"${SERVER_ENV[@]}"} "${command[@]}" >"$TMP/$name.stdout.log" 2>"$TMP/$name.stderr.log" &
  RELEVO_PID=$!
  PIDS+=("$RELEVO_PID")
  RELEVO_BASE="http://127.0.0.1:$port"
  for _ in $(seq 300); do
    curl -sf -o /dev/null "$RELEVO_BASE/health" && return 0
    running "$RELEVO_PID" || break
    sleep 0.1
  done
  tail -20 "$TMP/$name.stderr.log" >&2
  echo "$name did not come up on $RELEVO_BASE" >&2
  return 1
}

read_banner() {
  PROJECT="$(awk '$1 == "projectId:" { print $2; exit }' "$TMP/$1.stdout.log")"
  KEY="$(awk '$1 == "x-api-key:" { print $2; exit }' "$TMP/$1.stdout.log")"
  [[ -n "$PROJECT" && -n "$KEY" ]] || { echo "relevo $1 printed no projectId / x-api-key" >&2; return 1; }
}

run_delivery() {
  local status=0 pid
  # In the background and waited for, so that a TERM to this script is handled at once (bash runs
  # traps only between foreground commands); it prints only at the end anyway.
  RATE="${RATE:-500}" PANEL_URL="http://127.0.0.1:$PANEL_PORT" PANEL_START_NS="$PANEL_START" \
    node Benchmarks/delivery.mjs "$1" "$2" "$3" >"$4" &
  pid=$!
  PIDS+=("$pid")
  wait "$pid" || status=$?
  stop_processes "$pid"
  cat "$4"
  RESULT_JSON="$(sed -n 's/^RESULT //p' "$4")"
  return "$status"
}

log_summary() {
  local file="$TMP/$1.stderr.log"
  python3 - "$1" "$file" <<'PY'
import collections, re, sys
name, path = sys.argv[1], sys.argv[2]
lines = open(path, errors="replace").read().splitlines()
# swift-log's default handler: "<timestamp> <level> <label> : [metadata] message"
other = collections.Counter(re.sub(r"^\S+\s+", "", line) for line in lines
                            if not re.match(r"^\S+\s+(info|debug|trace|notice)\s", line))
print(f"  {name}: {len(lines)} stderr lines, {sum(other.values())} not info/notice"
      + "".join(f"\n    {count} × {line[:300]}" for line, count in other.most_common(10)))
PY
}
