#!/usr/bin/env bash
# Benchmarks/webchat.sh: the web chat's live transcripts on SQLite — Relevo's memory and file
# descriptors with 10,000 idle streams (against the same server before they open, and against
# 10,000 idle keep-alive connections held by a server of their own), and the time from a panel
# reply to its arrival on a streaming visitor at 200 replies/s over 1,000 streams (against the
# webhook call's own answer time); then, on a third server, 10,000 idle streams each on a
# connection that served a request first. See Benchmarks/webchat.mjs.
# Usage: bash Benchmarks/webchat.sh   (env IDLE, STREAMS, RATE, SECONDS; RELEVO_BIN, MALLOC as in common.sh)
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_init
ulimit -n "$(ulimit -Hn)"
start_panel
start_server baseline "$BIN" serve --port PORT --database "sqlite://$TMP/baseline.sqlite" --rate-limit 0
MODE=keepalive node Benchmarks/webchat.mjs "$RELEVO_BASE" - - - "$RELEVO_PID"
stop_processes "$RELEVO_PID"
start_server relevo "$BIN" serve --port PORT --database "sqlite://$TMP/relevo.sqlite" --rate-limit 0 --webchat-rate-limit 0 \
  --allow-insecure-webhooks
read_banner relevo
node Benchmarks/webchat.mjs "$RELEVO_BASE" "$PROJECT" "$KEY" "http://127.0.0.1:$PANEL_PORT/events" "$RELEVO_PID"
log_summary relevo
stop_processes "$RELEVO_PID"
start_server shared "$BIN" serve --port PORT --database "sqlite://$TMP/shared.sqlite" --rate-limit 0 --webchat-rate-limit 0 \
  --allow-insecure-webhooks
read_banner shared
MODE=shared node Benchmarks/webchat.mjs "$RELEVO_BASE" "$PROJECT" "$KEY" "http://127.0.0.1:$PANEL_PORT/events" "$RELEVO_PID"
