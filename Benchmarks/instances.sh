#!/usr/bin/env bash
# Benchmarks/instances.sh: end-to-end delivery throughput (channel message POSTed to Relevo → `message`
# event at the panel, 2xx) of, in one run:
#   (1) SQLite, one instance (synchronous=FULL, as Benchmarks/delivery.sh);
#   (2) PostgreSQL 15, one instance;
#   (3) PostgreSQL 15, two instances sharing the database and its delivery queue (conversations spread
#       over them: each conversation lives on one instance, one message at a time, in order);
# each against the physical ceiling measured in the same run: wrk POSTing the same kind of body straight
# to the same panel, once before and once after the three; the ratio is to the mean of the two. Latency
# p50/p99 at a fixed arrival rate (RATE, default 500 events/s) is printed for information.
# Every configuration starts on an empty database (a new SQLite file, a new PostgreSQL database), with
# the same panel (Benchmarks/panel.mjs) and load generator (Benchmarks/delivery.mjs). PostgreSQL is a
# throwaway server (scripts/pg_server.py, default settings: fsync and synchronous_commit on).
# The load generator, the panel, PostgreSQL and Relevo all share this machine's cores.
#
# Usage: bash Benchmarks/instances.sh
# Env:   SECONDS_A, CONNECTIONS, RATE, SECONDS, CONVERSATIONS (delivery.mjs);
#        CONFIGS (default "sqlite pg1 pg2"), PORT (first port tried), KEEP_LOGS=1 (keep the temp dir).
# Every process started here (relevo, panel, PostgreSQL) is stopped on exit, failure and Ctrl-C too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init
# What was built (the tree may hold uncommitted work).
BUILT="$(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(git status --porcelain -- Sources Package.swift Package.resolved 2>/dev/null | wc -l) uncommitted file(s) under Sources/ and Package.*"
: "${RELEVO_MASTER_KEY:=$(python3 -c 'import secrets; print(secrets.token_hex(32))')}"
export RELEVO_MASTER_KEY  # the same for every instance
CONFIGS="${CONFIGS:-sqlite pg1 pg2}"
for config in $CONFIGS; do
  [[ " sqlite pg1 pg2 " == *" $config "* ]] || { echo "unknown configuration $config (sqlite, pg1, pg2)" >&2; exit 2; }
done
RESULTS="$TMP/results.tsv"
: >"$RESULTS"
: >"$TMP/logs.txt"

start_panel
[[ "$CONFIGS" == *pg* ]] && start_postgres
CEILING_BEFORE="$(measure_ceiling)"

# measure NAME TITLE DATABASE_URL INSTANCES: start the instances one after the other (the first seeds
# the project), run delivery.mjs across them, stop them, record RESULT and the stderr summaries.
measure() {
  local name=$1 title=$2 database=$3 count=$4 bases=() pids=() i status=0
  echo "== $title" >&2
  for ((i = 1; i <= count; i++)); do
    start_relevo "$name-$i" "$database"
    bases+=("$RELEVO_BASE")
    pids+=("$RELEVO_PID")
  done
  read_banner "$name-1"
  curl -sf -X DELETE "http://127.0.0.1:$PANEL_PORT/stats"
  echo "== $title: $(IFS=' '; echo "${bases[*]}")"
  run_delivery "$(IFS=,; echo "${bases[*]}")" "$PROJECT" "$KEY" "$TMP/$name.txt" || status=$?
  stop_processes "${pids[@]}"
  printf '%s\t%s\t%s\n' "$title" "$status" "${RESULT_JSON:-null}" >>"$RESULTS"
  for ((i = 1; i <= count; i++)); do log_summary "$name-$i" >>"$TMP/logs.txt"; done
}

for config in $CONFIGS; do
  case "$config" in
    sqlite) measure sqlite "SQLite, 1 instance" "sqlite://$TMP/relevo.sqlite" 1 ;;
    pg1) measure pg1 "PostgreSQL, 1 instance" "$(create_database bench_pg1)" 1 ;;
    pg2) measure pg2 "PostgreSQL, 2 instances" "$(create_database bench_pg2)" 2 ;;
  esac
done

CEILING_AFTER="$(measure_ceiling)"
echo
echo "relevo stderr logs:"
cat "$TMP/logs.txt"
python3 - "$CEILING_BEFORE" "$CEILING_AFTER" "$RESULTS" "$(nproc)" "${RATE:-500}" "${SECONDS_A:-10}" "$BUILT" <<'PY'
import json, sys
before, after, path, cores, rate, seconds, built = float(sys.argv[1]), float(sys.argv[2]), *sys.argv[3:]
ceiling = (before + after) / 2
print()
print(f"relevo: release build (.build-bench) of {built}")
print(f"ceiling (wrk → panel, 10 s, 64 connections): {before:.0f} req/s before, {after:.0f} after; mean {ceiling:.0f}")
print(f"all on {cores} cores: load generator (node), panel (node), PostgreSQL and relevo compete for them")
print()
rows = [("configuration", "events/s", "ratio", "accepted msg/s", "p50 ms", "p99 ms")]
for line in open(path):
    title, status, result = line.rstrip("\n").split("\t")
    r = json.loads(result)
    if r is None:
        rows.append((title, "failed", "", "", "", ""))
        continue
    mark = "" if status == "0" and r.get("complete", True) else " (INCOMPLETE)"
    rows.append((title, f"{r['eventsPerSecond']:.0f}{mark}", f"{r['eventsPerSecond'] / ceiling:.3f}",
                 f"{r['acceptedPerSecond']:.0f}", f"{r['p50']:.2f}", f"{r['p99']:.2f}"))
widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
for n, row in enumerate(rows):
    print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    if n == 0:
        print("  ".join("-" * w for w in widths))
print()
print(f"events/s: wrk posting channel messages for {seconds} s (64 connections), messages accepted / (last panel arrival - first post); ratio to the mean ceiling")
print(f"p50/p99: channel POST → panel receipt at a fixed {rate} events/s, for information")
PY
