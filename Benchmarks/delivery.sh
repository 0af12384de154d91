#!/usr/bin/env bash
# Benchmarks/delivery.sh: end-to-end delivery figures (channel message POST → panel receipt) on a
# release build with the SQLite store (synchronous=FULL). Usage: bash Benchmarks/delivery.sh
# Environment: MESSAGES, RATE, SECONDS, CONVERSATIONS, CONCURRENCY (see delivery.mjs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --scratch-path .build-bench --product relevo >&2
TMP="$(mktemp -d)"
PORT="${PORT:-18650}"
.build-bench/release/relevo serve --port "$PORT" --database "sqlite://$TMP/relevo.sqlite" --rate-limit 0 \
  --allow-insecure-webhooks >"$TMP/stdout.log" 2>"$TMP/stderr.log" &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 0.1; done
PROJECT="$(awk '$1 == "projectId:" { print $2; exit }' "$TMP/stdout.log")"
KEY="$(awk '$1 == "x-api-key:" { print $2; exit }' "$TMP/stdout.log")"
node Benchmarks/delivery.mjs "http://127.0.0.1:$PORT" "$PROJECT" "$KEY"
