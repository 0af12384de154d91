#!/usr/bin/env bash
# Benchmarks/bound.sh: how far target (a) is from what this stack can reach on this machine at all.
# Alternates, RUNS times (default 2), each with the ceiling measured before and after:
#   relevo  the real pipeline, as Benchmarks/delivery.sh measures it (SQLite, synchronous=FULL);
#   bound   Benchmarks/ForwardBound: the same HTTP server and outbound client forwarding each channel
#           message to the panel before answering it, with no store, parsing, signing or queue.
# and prints each one's ratio to its ceiling, then the mean ratios and the server's CPU per event
# (user + system over its whole life, divided by every event it handled: the conversations started,
# the throughput phase and the latency phase, which is kept short here, SECONDS=2, since at a fixed
# low rate each event costs several times more than under load).
# Last it runs Benchmarks/PipelineCost (the store's part of an event, no sockets) and sets the three
# side by side: the CPU per event the target leaves Relevo, given the bound, and what the store
# alone takes of it.
# Usage: bash Benchmarks/bound.sh   Env: RUNS, SECONDS_A, CONNECTIONS, RATE, SECONDS, CONVERSATIONS, PORT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init
export SECONDS="${SECONDS_B:-2}"  # the latency phase (bash's own SECONDS is reset by this, harmlessly)
for product in relevo-forward-bound relevo-pipeline-cost; do
  swift build -c release --static-swift-stdlib --package-path Benchmarks --scratch-path .build-bench-tools -Xswiftc -enable-testing --product "$product" >&2
done

start_panel
CEILINGS=("$(measure_ceiling)")
LINES=()
for ((run = 1; run <= ${RUNS:-2}; run++)); do
  for kind in relevo bound; do
    if [[ $kind == relevo ]]; then start_relevo "relevo-$run" "sqlite://$TMP/relevo-$run.sqlite"; else
      start_server "bound-$run" .build-bench-tools/release/relevo-forward-bound --port PORT --panel "http://127.0.0.1:$PANEL_PORT/hook"
    fi
    SERVER_PID=$RELEVO_PID
    read_banner "$kind-$run"
    run_delivery "$RELEVO_BASE" "$PROJECT" "$KEY" "$TMP/$kind-$run.txt" >&2
    CPU="$(cpu_of "$SERVER_PID")"
    stop_processes "$SERVER_PID"
    CEILINGS+=("$(measure_ceiling)")
    LINES+=("$kind $CPU $RESULT_JSON")
  done
done
echo "== the store's part alone: Benchmarks/PipelineCost" >&2
STORE="$(${SERVER_ENV[@]+"${SERVER_ENV[@]}"} .build-bench-tools/release/relevo-pipeline-cost | tee /dev/stderr | awk '/us CPU each/ { for (i = 1; i <= NF; i++) if ($i == "us") s += $(i - 1) } END { print s }')"
python3 - "${CEILINGS[*]}" "$STORE" "${LINES[@]}" <<'PY'
import json, statistics, sys
ceilings = [float(c) for c in sys.argv[1].split()]
store = float(sys.argv[2])
events = {"relevo": [], "bound": []}
ratios = {"relevo": [], "bound": []}
cpus = {"relevo": [], "bound": []}
print()
for i, line in enumerate(sys.argv[3:]):
    kind, cpu, result = line.split(" ", 2)
    result = json.loads(result)
    ceiling = (ceilings[i] + ceilings[i + 1]) / 2
    ratio = result["eventsPerSecond"] / ceiling
    ratios[kind].append(ratio)
    events[kind].append(result["eventsPerSecond"])
    cpus[kind].append(float(cpu) * 1e6 / result["handled"])
    print(f"{kind:6s} {result['eventsPerSecond']:6.0f} events/s, ceiling {ceiling:6.0f} req/s: ratio {ratio:.3f}; "
          f"server CPU {cpus[kind][-1]:.0f} us per event ({result['handled']} events)")
print()
for kind in ratios:
    print(f"{kind:6s} mean ratio {statistics.mean(ratios[kind]):.3f}, server CPU {statistics.mean(cpus[kind]):.0f} us per event, over {len(ratios[kind])} runs")
print(f"relevo / bound: {statistics.mean(ratios['relevo']) / statistics.mean(ratios['bound']):.2f}")
# The machine is saturated in these runs, so its 2 cores divided by the events/s is what one event
# costs it in all (server, panel, load generator, kernel). At the target that is 2 / (0.25 × ceiling);
# the bound's is 2 / its events/s; the difference is what the contract's work may add to the bound
# server's own CPU, if the panel and the load generator cost the same per event in both.
ceiling = statistics.mean(ceilings)
target_machine = 2e6 / (0.25 * ceiling)
bound_machine = 2e6 / statistics.mean(events["bound"])
allowed = statistics.mean(cpus["bound"]) + target_machine - bound_machine
print(f"per event at ratio 0.25: {target_machine:.0f} us of the machine; the bound uses {bound_machine:.0f}, "
      f"so Relevo may use ~{allowed:.0f} us of CPU (now {statistics.mean(cpus['relevo']):.0f})")
print(f"of which the work the contract adds to the bound: ~{allowed - statistics.mean(cpus['bound']):.0f} us; "
      f"the store's part alone (PipelineCost: accept + claim and settle, no sockets): {store:.0f} us")
PY
