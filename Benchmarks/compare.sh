#!/usr/bin/env bash
# Benchmarks/compare.sh: is B faster than A? Two builds (or one build in two settings) of Relevo
# measured the way Benchmarks/delivery.sh measures them, in rounds of A, B, B, A on the same panel.
# Single runs here swing widely as the machine drifts within minutes; within a round the drift
# mostly cancels, so the per-round ratios B/A and their mean are what to read.
#
# Usage: bash Benchmarks/compare.sh "A=/path/to/relevo" "B=/path/to/relevo[:VAR=VALUE …]"
#   a name, "=", a binary, and optionally ":" and environment settings for that side (for example
#   "jemalloc=.build-bench/release/relevo:LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2").
#   MALLOC=glibc is the default here, so that the sides run exactly as given.
# Env: ROUNDS (default 4), SECONDS_A (throughput phase per run, default 6), SECONDS_B (latency
#      phase at RATE events/s, default 1), CONVERSATIONS, CONNECTIONS, PORT.
# Prints per run: events/s and the server's CPU per event (user + system over its whole life ÷ the
# events it handled); per round: the ratios B/A of both; at the end: their means.
set -euo pipefail
[[ $# -eq 2 ]] || { sed -n '2,14p' "$0" >&2; exit 2; }
export MALLOC="${MALLOC:-glibc}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
RELEVO_BIN="${RELEVO_BIN:-/dev/null}" bench_init  # the sides name their binaries: nothing to build
export SECONDS_A="${SECONDS_A:-6}" SECONDS="${SECONDS_B:-1}"

declare -A BINARY SETTINGS
NAMES=()
for side in "$1" "$2"; do
  name="${side%%=*}" rest="${side#*=}"
  [[ -n "$name" && "$rest" != "$side" ]] || { echo "not NAME=BINARY[:VAR=VALUE …]: $side" >&2; exit 2; }
  BINARY[$name]="${rest%%:*}"
  SETTINGS[$name]=""; [[ "$rest" == *:* ]] && SETTINGS[$name]="${rest#*:}"
  [[ -x "${BINARY[$name]}" ]] || { echo "$name: ${BINARY[$name]} is not an executable" >&2; exit 2; }
  NAMES+=("$name")
done
A="${NAMES[0]}" B="${NAMES[1]}"

# One run of side $1 on a new database → RUN_RESULT="events/s cpu-µs-per-event" (not printed: run in
# this shell, so that the EXIT trap still knows the server if the run is interrupted).
run_side() {
  local name=$1 run=$2 settings=()
  read -r -a settings <<<"${SETTINGS[$name]}"
  start_server "$name-$run" env ${settings[@]+"${settings[@]}"} "${BINARY[$name]}" serve --port PORT \
    --database "sqlite://$TMP/$name-$run.sqlite" --rate-limit 0 --allow-insecure-webhooks
  local pid=$RELEVO_PID
  read_banner "$name-$run"
  run_delivery "$RELEVO_BASE" "$PROJECT" "$KEY" "$TMP/$name-$run.txt" >/dev/null
  local cpu
  cpu="$(cpu_of "$pid")"
  stop_processes "$pid"
  RUN_RESULT="$(python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print("%.0f %.0f" % (r["eventsPerSecond"], float(sys.argv[2]) * 1e6 / r["handled"]))' \
    "$RESULT_JSON" "$cpu")"
}

start_panel
LINES=()
runs=0
for ((round = 1; round <= ${ROUNDS:-4}; round++)); do
  line="$round"
  for name in "$A" "$B" "$B" "$A"; do
    runs=$((runs + 1))
    run_side "$name" "$runs"
    echo "round $round $name: ${RUN_RESULT% *} events/s, ${RUN_RESULT#* } us CPU per event" >&2
    line+=" $RUN_RESULT"
  done
  LINES+=("$line")
done
python3 - "$A" "$B" "${LINES[@]}" <<'PY'
import statistics, sys
a_name, b_name = sys.argv[1], sys.argv[2]
events, cpus = [], []
for line in sys.argv[3:]:
    r, *v = line.split()
    a1e, a1c, b1e, b1c, b2e, b2c, a2e, a2c = map(float, v)
    ea, eb, ca, cb = (a1e + a2e) / 2, (b1e + b2e) / 2, (a1c + a2c) / 2, (b1c + b2c) / 2
    events.append(eb / ea); cpus.append(cb / ca)
    print(f"round {r}: {a_name} {ea:.0f} events/s {ca:.0f} us, {b_name} {eb:.0f} events/s {cb:.0f} us: "
          f"{b_name}/{a_name} events/s {eb / ea:.3f}, CPU per event {cb / ca:.3f}")
print(f"over {len(events)} rounds, {b_name}/{a_name}: events/s mean {statistics.mean(events):.3f} "
      f"(min {min(events):.3f}, max {max(events):.3f}); CPU per event mean {statistics.mean(cpus):.3f} "
      f"(min {min(cpus):.3f}, max {max(cpus):.3f})")
PY
