#!/usr/bin/env bash
# Soak: Relevo (release build, SQLite, jemalloc) under channel messages at a fixed rate for a long
# time, with the panel slow for the middle third; RSS, open descriptors, WAL size and queue depth
# sampled every 10 s. Prints the samples as a table and draws them (matplotlib, from PyPI, installed
# if missing) into $OUT.png; the samples stay in $OUT.csv.
#
#   bash Benchmarks/soak.sh                      # 30 minutes at 1 000 messages/s, OUT=/tmp/relevo-soak
#   MINUTES=3 RATE=500 bash Benchmarks/soak.sh   # a short look
# Env: MINUTES, RATE, SAMPLE, CONVERSATIONS, SLOW_MS (see Benchmarks/soak.mjs), OUT.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_init
OUT="${OUT:-/tmp/relevo-soak}"
python3 -c "import matplotlib" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check matplotlib
start_panel
start_relevo soak "sqlite://$TMP/soak/relevo.sqlite"
read_banner soak
echo "== soak: ${MINUTES:-30} min at ${RATE:-1000} messages/s, the panel slow (${SLOW_MS:-50} ms an answer) for the middle third" >&2
node Benchmarks/soak.mjs "$RELEVO_BASE" "$PROJECT" "$KEY" "http://127.0.0.1:$PANEL_PORT/hook" "$RELEVO_PID" \
  "$TMP/soak/relevo.sqlite" >"$OUT.csv" &
load=$!
PIDS+=("$load")
wait "$load"
log_summary soak
python3 Benchmarks/soak_plot.py "$OUT.csv" "$OUT.png"
