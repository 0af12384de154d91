#!/usr/bin/env bash
# Benchmarks/delivery.sh: end-to-end delivery on a release build with the SQLite store (synchronous=FULL).
#  (a) throughput: events/s from channel messages accepted to panel 2xx, against the physical ceiling
#      measured in the same run (wrk POSTing the same kind of body straight to the same panel);
#  (b) latency p50/p99 at a fixed arrival rate (RATE, default 500 events/s);
#  (d) peak resident memory of Relevo over the run (VmHWM).
# Usage: bash Benchmarks/delivery.sh   Env: MESSAGES, RATE, SECONDS, CONVERSATIONS, CONCURRENCY (delivery.mjs)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
swift build -c release --scratch-path .build-bench --product relevo >&2
TMP="$(mktemp -d)"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$TMP"' EXIT

node Benchmarks/panel.mjs >"$TMP/panel.json" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$TMP/panel.json" ]] && break; sleep 0.05; done
PANEL_PORT="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$TMP/panel.json")"
PANEL_START="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["start"])' "$TMP/panel.json")"

echo "== ceiling: wrk POSTing a message event straight to the panel (10 s, 64 connections)" >&2
CEILING="$(wrk -t2 -c64 -d10s -s Benchmarks/post.lua "http://127.0.0.1:$PANEL_PORT/hook" | awk '/Requests\/sec/ { print $2 }')"

PORT="${PORT:-18650}"
.build-bench/release/relevo serve --port "$PORT" --database "sqlite://$TMP/relevo.sqlite" --rate-limit 0 \
  --allow-insecure-webhooks >"$TMP/stdout.log" 2>"$TMP/stderr.log" &
SERVER_PID=$!
PIDS+=($SERVER_PID)
for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 0.1; done
PROJECT="$(awk '$1 == "projectId:" { print $2; exit }' "$TMP/stdout.log")"
KEY="$(awk '$1 == "x-api-key:" { print $2; exit }' "$TMP/stdout.log")"

RATE="${RATE:-500}" PANEL_URL="http://127.0.0.1:$PANEL_PORT" PANEL_START_NS="$PANEL_START" \
  node Benchmarks/delivery.mjs "http://127.0.0.1:$PORT" "$PROJECT" "$KEY" | tee "$TMP/delivery.txt"
PEAK_KB="$(awk '/VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")"
RESULT="$(sed -n 's/^RESULT //p' "$TMP/delivery.txt")"
python3 - "$CEILING" "$PEAK_KB" "$RESULT" <<'PY'
import json, sys
ceiling, peak_kb, result = float(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
ratio = result["eventsPerSecond"] / ceiling
print()
print(f"(a) delivery {result['eventsPerSecond']:.0f} events/s vs ceiling {ceiling:.0f} req/s (wrk → panel): ratio {ratio:.3f} (target >= 0.25: {'yes' if ratio >= 0.25 else 'no'})")
print(f"(b) latency at {result['rate']} events/s: p50 {result['p50']} ms, p99 {result['p99']} ms")
print(f"(d) peak RSS of relevo over the run: {peak_kb / 1024:.1f} MiB")
PY
