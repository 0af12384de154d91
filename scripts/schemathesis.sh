#!/usr/bin/env bash
# scripts/schemathesis.sh: Relevo against its own OpenAPI document, by an independent tool.
#
# Starts a release build of `relevo serve` on a new SQLite file and the benchmark panel
# (Benchmarks/panel.mjs), gives the project an integration pointing at that panel and a bot, then
# runs schemathesis (pip, installed if missing) over every operation: examples, fuzzing and stateful
# phases, every check but the two that test how strict the document's schemas are. Those two
# (positive_data_acceptance, negative_data_rejection) report rules JSON Schema cannot state —
# an opaque cursor, the day of a month, a `basic` credential's form — which the document says in
# words; `CHECKS=all` runs them too. Exits non-zero on any failure (a 5xx, a status, header or
# body the document does not list). On demand, not in `.ci/run`: it takes a few minutes and
# schemathesis draws new cases every run (`SEED=N` repeats one).
# Usage: bash scripts/schemathesis.sh   Env: MAX_EXAMPLES (default 60), SEED, CHECKS, PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import schemathesis" 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check schemathesis==4.32.5
swift build -c release --static-swift-stdlib --scratch-path .build-bench --product relevo >&2

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

node Benchmarks/panel.mjs >"$TMP/panel.json" &
PIDS+=($!)
PORT="${PORT:-18990}"
.build-bench/release/relevo serve --port "$PORT" --database "sqlite://$TMP/relevo.sqlite" \
  --allow-insecure-webhooks --rate-limit 0 >"$TMP/relevo.out" 2>"$TMP/relevo.err" &
PIDS+=($!)
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf -o /dev/null "$BASE/health" && [[ -s "$TMP/panel.json" ]] && break; sleep 0.1; done
curl -sf -o /dev/null "$BASE/health" || { cat "$TMP/relevo.err" >&2; echo "relevo did not start" >&2; exit 1; }

PROJECT="$(awk '$1 == "projectId:" { print $2; exit }' "$TMP/relevo.out")"
KEY="$(awk '$1 == "x-api-key:" { print $2; exit }' "$TMP/relevo.out")"
PANEL_PORT="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$TMP/panel.json")"
post() { curl -sf -X POST "$BASE$1" -H "x-api-key: $KEY" -H 'content-type: application/json' -d "$2" >/dev/null; }
post "/v1/external-support/$PROJECT" "{\"webhookUrl\":\"http://127.0.0.1:$PANEL_PORT/hook\",\"authType\":\"bearer\",\"authorization\":\"panel-token\"}"
post "/v1/projects/$PROJECT/bots" '{"id":"bot-1","name":"Schemathesis bot"}'

# Every path names the one project whose key is sent: other ids would only ever be 401.
printf '[parameters]\n"path.projectId" = "%s"\n' "$PROJECT" >"$TMP/schemathesis.toml"
CHECKS_ARGS=(--checks all --exclude-checks positive_data_acceptance,negative_data_rejection)
[[ "${CHECKS:-}" == all ]] && CHECKS_ARGS=(--checks all)
status=0
schemathesis --config-file "$TMP/schemathesis.toml" --no-color run "$BASE/openapi.yaml" \
  -H "x-api-key: $KEY" "${CHECKS_ARGS[@]}" --phases examples,fuzzing,stateful \
  --max-examples "${MAX_EXAMPLES:-60}" --workers 2 ${SEED:+--seed "$SEED"} || status=$?
# A 5xx is also logged by the server: show anything above notice.
grep -v -E '^\S+ (info|notice|debug|trace) ' "$TMP/relevo.err" | grep -v 'allow-insecure-webhooks is on' >&2 || true
exit "$status"
