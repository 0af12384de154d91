#!/usr/bin/env bash
# Benchmarks/run.sh: load-test Relevo's GET /v1/external-support/:projectId against the
# GET /version baseline with wrk, and check the target keeps at least 80% of the baseline's rps.
#
# Usage (from the repo root):  bash Benchmarks/run.sh
# Environment:
#   DURATION=15s     length of each measured wrk run
#   CONNECTIONS=64   wrk connections (2 threads)
#   RUNS=3           interleaved measured runs per route (their mean is reported)
#   PORT=18600       first port tried; the next free one is used
#
# Builds in .build-bench (never the shared .build), runs the server on a throw-away SQLite
# database in a temp dir, and always stops the server and removes that dir on exit.
set -euo pipefail

DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-64}"
RUNS="${RUNS:-3}"
THREADS=2
WARMUP=3s
THRESHOLD=0.80

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root, wherever the script is called from

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# 1. wrk, from Debian's archive when missing.
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

# 2. Release build, in its own scratch folder.
log "building relevo (release, .build-bench)"
swift build -c release --static-swift-stdlib --scratch-path .build-bench --product relevo
BIN=.build-bench/release/relevo

# 3. Server on an empty database, in a temp dir cleaned up at exit.
TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # run the EXIT trap on Ctrl-C too

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT="${PORT:-18600}"
while port_in_use "$PORT"; do PORT=$((PORT + 1)); done
BASE="http://127.0.0.1:$PORT"

log "starting relevo on $BASE (logs in $TMP)"
"$BIN" serve --host 127.0.0.1 --port "$PORT" --database "sqlite://$TMP/relevo.sqlite" --rate-limit 0 \
  >"$TMP/stdout.log" 2>"$TMP/stderr.log" &
SERVER_PID=$!

for ((i = 0; i < 300; i++)); do   # 300 x 0.1 s = 30 s
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health" || true)" == 200 ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/stderr.log" >&2; die "server exited during start"; }
  sleep 0.1
done
((i < 300)) || die "GET /health did not answer 200 within 30 s"

# The first start on an empty database prints the seeded project and its key once.
PROJECT="$(awk '$1 == "projectId:" { print $2; exit }' "$TMP/stdout.log")"
KEY="$(awk '$1 == "x-api-key:" { print $2; exit }' "$TMP/stdout.log")"
[[ -n "$PROJECT" && -n "$KEY" ]] || die "no projectId / x-api-key in server output: $(cat "$TMP/stdout.log")"
log "project $PROJECT"

# 4. The integration the target route reads.
TARGET_URL="$BASE/v1/external-support/$PROJECT"
status="$(curl -s -o "$TMP/create.json" -w '%{http_code}' -X POST "$TARGET_URL" \
  -H "x-api-key: $KEY" -H 'content-type: application/json' \
  -d '{"webhookUrl":"https://93.184.215.14/hook","authType":"bearer","authorization":"tok"}')"
[[ "$status" == 200 ]] || die "creating the integration answered $status: $(cat "$TMP/create.json")"

# 5. wrk runs. run_wrk NAME URL [HEADER]: runs wrk, keeps its output in $TMP/NAME.txt.
run_wrk() {
  local name="$1" url="$2" duration="$3"; shift 3
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency)
  if (($#)); then args+=(-H "$1"); fi
  wrk "${args[@]}" "$url" >"$TMP/$name.txt"
  if grep -q 'Non-2xx or 3xx responses' "$TMP/$name.txt"; then
    cat "$TMP/$name.txt" >&2
    die "$name: wrk saw non-2xx responses"
  fi
  if grep -q 'Socket errors' "$TMP/$name.txt"; then   # reported, not fatal
    log "warning: $name: $(grep 'Socket errors' "$TMP/$name.txt" | sed 's/^ *//')"
  fi
}

# to_ms VALUE: wrk latency ("850.00us", "1.23ms", "2.00s", "1.00m") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f < 0) { print "bad latency unit: " v > "/dev/stderr"; exit 1 }
    printf "%.3f", n * f }'
}

# parse FILE: prints "rps p50_ms p99_ms".
parse() {
  local rps p50 p99
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$1")"
  p50="$(awk '/Latency Distribution/ { d = 1 } d && $1 == "50%" { print $2; exit }' "$1")"
  p99="$(awk '/Latency Distribution/ { d = 1 } d && $1 == "99%" { print $2; exit }' "$1")"
  [[ -n "$rps" && -n "$p50" && -n "$p99" ]] || die "cannot parse wrk output $1"
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

TARGET_HEADER="x-api-key: $KEY"
log "warming up ($WARMUP per route)"
run_wrk warmup-baseline "$BASE/version" "$WARMUP"
run_wrk warmup-target "$TARGET_URL" "$WARMUP" "$TARGET_HEADER"

# Interleaved (baseline, target, baseline, target, …): drift on a noisy machine hits both alike.
for ((run = 1; run <= RUNS; run++)); do
  log "run $run/$RUNS: baseline GET /version ($DURATION, $CONNECTIONS connections)"
  run_wrk "baseline-$run" "$BASE/version" "$DURATION"
  log "run $run/$RUNS: target GET /v1/external-support/:projectId"
  run_wrk "target-$run" "$TARGET_URL" "$DURATION" "$TARGET_HEADER"
done

# 6. Means of the two runs, and the verdict.
mean() { # mean NAME: "rps p50 p99" averaged over NAME-1 … NAME-RUNS
  for ((run = 1; run <= RUNS; run++)); do parse "$TMP/$1-$run.txt"; done |
    awk '{ r += $1; a += $2; b += $3 } END { printf "%.2f %.3f %.3f", r / NR, a / NR, b / NR }'
}
for ((run = 1; run <= RUNS; run++)); do   # each run's figures, to see the noise behind the mean
  printf 'run %d: baseline %s rps, target %s rps\n' "$run" \
    "$(parse "$TMP/baseline-$run.txt" | cut -d' ' -f1)" "$(parse "$TMP/target-$run.txt" | cut -d' ' -f1)"
done
read -r B_RPS B_P50 B_P99 <<<"$(mean baseline)"
read -r T_RPS T_P50 T_P99 <<<"$(mean target)"

echo
echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION x $RUNS runs per route (mean)"
printf '%-36s %12s %10s %10s\n' route requests/s 'p50 (ms)' 'p99 (ms)'
printf '%-36s %12.2f %10.3f %10.3f\n' 'baseline GET /version' "$B_RPS" "$B_P50" "$B_P99"
printf '%-36s %12.2f %10.3f %10.3f\n' 'target GET /v1/external-support/:id' "$T_RPS" "$T_P50" "$T_P99"
awk -v t="$T_RPS" -v b="$B_RPS" -v th="$THRESHOLD" 'BEGIN {
  r = t / b
  printf "ratio (target/baseline rps) = %.2f\n", r
  printf "target >= %.2f: %s\n", th, (r >= th ? "yes" : "no") }'
