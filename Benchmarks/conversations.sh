#!/usr/bin/env bash
# Benchmarks/conversations.sh: conversation starts and closes per second (Benchmarks/conversations.mjs:
# USERS conversations started, CONCURRENCY requests at a time, then all closed), on a release build,
# with SQLite and with PostgreSQL 15 (one instance), each on an empty database, in one run; the
# PostgreSQL figures as ratios to SQLite's, the baseline measured in the same run. Every process shares
# this machine's cores. Delivery throughput and latency: Benchmarks/instances.sh.
# Usage: bash Benchmarks/conversations.sh   Env: USERS, CONCURRENCY, RUNS (default 2: alternating),
#        PORT, KEEP_LOGS=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init
: "${RELEVO_MASTER_KEY:=$(python3 -c 'import secrets; print(secrets.token_hex(32))')}"
export RELEVO_MASTER_KEY
start_panel
start_postgres

# measure NAME KIND DATABASE_URL: one Relevo on it, conversations.mjs against it; appends KIND and the
# JSON line it printed to $TMP/results.
measure() {
  start_relevo "$1" "$3"
  read_banner "$1"
  local result
  result="$(node Benchmarks/conversations.mjs "$RELEVO_BASE" "$PROJECT" "$KEY" "http://127.0.0.1:$PANEL_PORT")"
  echo "$2 $result" >>"$TMP/results"
  stop_processes "$RELEVO_PID"
}

for ((run = 1; run <= ${RUNS:-2}; run++)); do
  measure "sqlite-$run" sqlite "sqlite://$TMP/relevo-$run.sqlite"
  measure "pg-$run" pg1 "$(create_database "bench_$run")"
done

python3 - "$TMP/results" "${USERS:-1000}" "${CONCURRENCY:-32}" <<'PY'
import json, sys
runs = {"sqlite": [], "pg1": []}
for line in open(sys.argv[1]):
    name, result = line.split(" ", 1)
    runs[name].append(json.loads(result))
print(f"{sys.argv[2]} conversations started then closed, {sys.argv[3]} requests at a time; runs alternate")
for kind in ("starts", "closes"):
    sqlite = [r[kind] for r in runs["sqlite"]]
    pg = [r[kind] for r in runs["pg1"]]
    ratio = (sum(pg) / len(pg)) / (sum(sqlite) / len(sqlite))
    print(f"  {kind}/s  SQLite {', '.join(f'{x:.0f}' for x in sqlite)}   PostgreSQL {', '.join(f'{x:.0f}' for x in pg)}"
          f"   PostgreSQL / SQLite {ratio:.2f}")
PY
