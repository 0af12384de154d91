#!/usr/bin/env bash
# Benchmarks/delivery.sh: end-to-end delivery on a release build with the SQLite store (synchronous=FULL).
#  (a) throughput: events/s from channel messages accepted to panel 2xx (wrk posting channel messages
#      over 500 conversations for 10 s), against the physical ceiling measured in the same run (wrk
#      POSTing the same kind of body straight to the same panel, same connections), before and after
#      the delivery run: the ratio is to their mean, since this kind of machine drifts within minutes;
#  (b) latency p50/p99 at a fixed arrival rate (RATE, default 500 events/s);
#  (d) peak resident memory of Relevo over the run (VmHWM).
# RUNS=N repeats the whole measure N times (each on a new database, with the ceiling measured between
# runs) and prints the mean ratio too, since single runs here swing widely.
# Usage: bash Benchmarks/delivery.sh   Env: RUNS (default 1), SECONDS_A, CONNECTIONS, RATE, SECONDS,
#        CONVERSATIONS (delivery.mjs), PORT, KEEP_LOGS=1. SQLite vs PostgreSQL with one and two instances: Benchmarks/instances.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init

start_panel
CEILINGS=("$(measure_ceiling)")
RESULTS=()
for ((run = 1; run <= ${RUNS:-1}; run++)); do
  # Each run on a new database, the ceiling measured again after it: a run's ratio is to the mean of
  # the ceilings around it.
  start_relevo "relevo-$run" "sqlite://$TMP/relevo-$run.sqlite"
  SERVER_PID=$RELEVO_PID
  read_banner "relevo-$run"
  run_delivery "$RELEVO_BASE" "$PROJECT" "$KEY" "$TMP/delivery-$run.txt"
  PEAK_KB="$(awk '/VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")"
  stop_processes "$SERVER_PID"
  CEILINGS+=("$(measure_ceiling)")
  RESULTS+=("$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["peakKiB"]=int(sys.argv[2]); print(json.dumps(r))' "$RESULT_JSON" "$PEAK_KB")")
done
python3 - "${CEILINGS[*]}" "${RESULTS[@]}" <<'PY'
import json, statistics, sys
ceilings = [float(c) for c in sys.argv[1].split()]
print()
ratios = []
for i, line in enumerate(sys.argv[2:]):
    result = json.loads(line)
    before, after = ceilings[i], ceilings[i + 1]
    ceiling = (before + after) / 2
    ratio = result["eventsPerSecond"] / ceiling
    ratios.append(ratio)
    if len(sys.argv) > 3:
        print(f"run {i + 1}:")
    print(f"ceiling (wrk → panel, 10 s, 64 connections): {before:.0f} req/s before, {after:.0f} after; mean {ceiling:.0f}")
    print(f"(a) delivery {result['eventsPerSecond']:.0f} events/s vs the mean ceiling: ratio {ratio:.3f} (target >= 0.25: {'yes' if ratio >= 0.25 else 'no'})")
    print(f"(b) latency at {result['rate']} events/s: p50 {result['p50']} ms, p99 {result['p99']} ms")
    print(f"(d) peak RSS of relevo over the run: {result['peakKiB'] / 1024:.1f} MiB")
if len(ratios) > 1:
    mean = statistics.mean(ratios)
    print(f"\n(a) over {len(ratios)} runs: ratio mean {mean:.3f}, min {min(ratios):.3f}, max {max(ratios):.3f} (target >= 0.25: {'yes' if mean >= 0.25 else 'no'})")
PY
