#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer) of the code that reads untrusted bytes:
# the strict JSON parser, the JavaScript-canonical writer, the webhook address rule and the
# X-Jelou-Signature check (targets in Fuzz/, seed corpus in Fuzz/corpus/). Then the differential
# check of the writer: for every input of the corpus the parser accepts, the writer's output must
# equal Node's JSON.stringify(JSON.parse(input)) (scripts/canonical_differential.mjs).
#
#   bash scripts/fuzz.sh            # 10 s per target (the test command's short run)
#   bash scripts/fuzz.sh 600        # 10 minutes per target
#   FUZZ_KEEP=1 bash scripts/fuzz.sh 600   # and merge what grew the coverage into Fuzz/corpus/
# A find stops the run: libFuzzer prints the crash and the input is kept in the work folder it names.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
targets=(JSONParser CanonicalJSON WebhookURL SignatureHeader)
flags=(--scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
for target in "${targets[@]}"; do
  RELEVO_FUZZ=1 swift build "${flags[@]}" --product "fuzz-$target" >&2
done
bin="$(RELEVO_FUZZ=1 swift build "${flags[@]}" --show-bin-path)"
work="$(mktemp -d)"
export SWIFT_BACKTRACE=enable=no  # a trap is reported by libFuzzer, not by Swift's backtracer under ASan
trap 'status=$?; [[ $status -eq 0 ]] && rm -rf "$work" || echo "fuzz work folder kept: $work" >&2' EXIT

for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  "$bin/fuzz-$target" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/$target-" \
    "$work/$target" "Fuzz/corpus/$target" >"$work/$target.log" 2>&1 || { tail -40 "$work/$target.log" >&2; exit 1; }
  executions="$(awk '/stat::number_of_executed_units/ { print $2 }' "$work/$target.log")"
  coverage="$(grep -o 'cov: [0-9]*' "$work/$target.log" | tail -1)"
  echo "fuzz $target: $executions executions in $seconds s, $coverage, $(ls "$work/$target" | wc -l) new inputs, no find"
  if [[ -n "${FUZZ_KEEP:-}" ]]; then
    "$bin/fuzz-$target" -merge=1 "Fuzz/corpus/$target" "$work/$target" >/dev/null 2>&1
  fi
done

# The writer against Node, over the seed corpus and everything this run generated.
RELEVO_FUZZ_TRANSCRIPT="$work/transcript" "$bin/fuzz-CanonicalJSON" -runs=0 "$work/CanonicalJSON" "Fuzz/corpus/CanonicalJSON" \
  >"$work/transcript.log" 2>&1
node scripts/canonical_differential.mjs "$work/transcript"
