#!/usr/bin/env bash
# Benchmarks/delivery.sh: end-to-end delivery on a release build with the SQLite store (synchronous=FULL).
#  (a) throughput: events/s from channel messages accepted to panel 2xx (wrk posting channel messages
#      over 500 conversations for 10 s), against the physical ceiling measured in the same run (wrk
#      POSTing the same kind of body straight to the same panel, same connections), before and after
#      the delivery run: the ratio is to their mean, since this kind of machine drifts within minutes;
#  (b) latency p50/p99 at a fixed arrival rate (RATE, default 500 events/s);
#  (d) peak resident memory of Relevo over the run (VmHWM).
# Usage: bash Benchmarks/delivery.sh   Env: SECONDS_A, CONNECTIONS, RATE, SECONDS, CONVERSATIONS (delivery.mjs),
#        PORT, KEEP_LOGS=1. SQLite vs PostgreSQL with one and two instances: Benchmarks/instances.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init

start_panel
CEILING_BEFORE="$(measure_ceiling)"

start_relevo relevo "sqlite://$TMP/relevo.sqlite"
SERVER_PID=$RELEVO_PID
read_banner relevo

run_delivery "$RELEVO_BASE" "$PROJECT" "$KEY" "$TMP/delivery.txt"
PEAK_KB="$(awk '/VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")"
CEILING_AFTER="$(measure_ceiling)"
python3 - "$CEILING_BEFORE" "$CEILING_AFTER" "$PEAK_KB" "$RESULT_JSON" <<'PY'
import json, sys
before, after, peak_kb, result = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
ceiling = (before + after) / 2
ratio = result["eventsPerSecond"] / ceiling
print()
print(f"ceiling (wrk → panel, 10 s, 64 connections): {before:.0f} req/s before, {after:.0f} after; mean {ceiling:.0f}")
print(f"(a) delivery {result['eventsPerSecond']:.0f} events/s vs the mean ceiling: ratio {ratio:.3f} (target >= 0.25: {'yes' if ratio >= 0.25 else 'no'})")
print(f"(b) latency at {result['rate']} events/s: p50 {result['p50']} ms, p99 {result['p99']} ms")
print(f"(d) peak RSS of relevo over the run: {peak_kb / 1024:.1f} MiB")
PY
