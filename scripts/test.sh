#!/usr/bin/env bash
# The test command, in two modes; other arguments go to `swift test` (e.g. --filter).
#
#   bash scripts/test.sh [swift test arguments]         everything (what CI runs):
#     1. `swift test`: every Swift suite, on SQLite and on PostgreSQL; and the panel SDK's dependency
#        graph (scripts/panel_sdk_graph_test.py: none of the server's code or packages);
#     2. against the binary swift test just built, the fault tests: the crash test (SIGKILL under
#        load), the CLI stress test (CLI writes on a live server's SQLite file), the backup test
#        (`relevo backup` of a live SQLite store under a write load), the copy test (`relevo copy`
#        SQLite → PostgreSQL → SQLite with deliveries waiting for a panel that is down), the disk-full test
#        (SQLite on a tmpfs that fills up; it mounts one, so it runs as root, as CI does), the
#        multi-instance test (two servers on one PostgreSQL, one killed) and the PostgreSQL-restart
#        test (two servers under load while PostgreSQL restarts);
#     3. the panel guide's snippets against a live server (scripts/panel_guide_test.py), and the
#        Swift panel example (examples/swift-panel, its own package built in .build-examples) as the
#        panel of a live server (scripts/swift_panel_test.py);
#     4. the operator console and the web chat in headless Chromium driven by Playwright
#        (scripts/console_test.py, scripts/webchat_test.py; both are installed here when missing:
#        Debian's chromium package, Playwright for Python), and a web chat stream on one instance
#        woken by a reply through another on one PostgreSQL (scripts/webchat_instances_test.py);
#     5. the docs check (scripts/docs_test.py);
#     6. the formatting check (swift format lint, with .swift-format);
#     7. a short run of each fuzz target (scripts/fuzz.sh: libFuzzer with AddressSanitizer, a build
#        of its own in .build-fuzz) and the canonical writer against Node.
#   It needs PostgreSQL 15 at /usr/lib/postgresql/15/bin (the tests start and stop their own
#   throwaway servers with scripts/pg_server.py), Node.js 20 and Python 3.
#
#   bash scripts/test.sh fast [swift test arguments]    the fast Swift tests only, seconds after a build:
#     units, the API through the router (in process), the outbound HTTP client against in-process
#     servers, and the store contract on SQLite; no PostgreSQL, no Node.js, Python or openssl, no
#     live `relevo` process. The suites and tests that need one are listed below and skipped, and
#     RELEVO_TEST_BACKENDS=sqlite keeps the tests written for both stores to their SQLite case.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == fast ]]; then
  shift
  # Patterns Swift Testing looks for in test IDs (Module.Suite/test()): a suite's name skips all its tests.
  slow=(
    RelevoTests.AttemptClassificationTests        # live `relevo serve`
    RelevoTests.CommandLineTests                  # the `relevo` binary, live servers
    RelevoTests.ConversationFlowTests             # live servers, PostgreSQL
    RelevoTests.DeliveryFairnessTests             # live server, the CLI
    RelevoTests.EventLogTests                     # live servers, PostgreSQL
    RelevoTests.InteropTests                      # node, python3, live servers, PostgreSQL
    RelevoTests.NulCharacterTests                 # live servers, PostgreSQL
    RelevoTests.PostgresOperationsTests           # PostgreSQL, live server
    RelevoTests.OpenAPIValidityTests              # python3
    RelevoTests.PanelClientTests                  # live `relevo serve`
    RelevoTests.CanonicalJSONTests/outputMatchesNodeJSONStringify                      # node
    RelevoTests.SigningTests/jelouSignatureMatchesAFixedVector                         # openssl
    RelevoTests.SigningTests/standardWebhooksSignsIdTimestampAndBodyWithEverySecret    # openssl
    RelevoTests.MalformedInputTests/aChunkedBodyPastTheLimitIs413                      # live server
    RelevoTests.PersistenceTests/serveRefusesAMasterKeyThatCannotOpenTheStoredSecrets  # live servers
    RelevoTests.PersistenceTests/aDatabaseWithBotsButNoIntegrationRefusesAnotherMasterKey  # live server
    RelevoTests.DeliveryStoreContractTests/postgres                                    # PostgreSQL only
  )
  skips=()
  for id in "${slow[@]}"; do skips+=(--skip "$id"); done
  RELEVO_TEST_BACKENDS=sqlite exec swift test "${skips[@]}" "$@"
fi

python3 -c "import standardwebhooks" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check standardwebhooks==1.1.0
swift test "$@"
python3 scripts/panel_sdk_graph_test.py
relevo="$(swift build --show-bin-path)/relevo"
python3 scripts/crash_test.py "$relevo"
python3 scripts/cli_stress_test.py "$relevo"
python3 scripts/backup_test.py "$relevo"
python3 scripts/copy_test.py "$relevo"
python3 scripts/disk_full_test.py "$relevo"
python3 scripts/multi_instance_test.py "$relevo"
python3 scripts/pg_restart_test.py "$relevo"
python3 scripts/panel_guide_test.py "$relevo"
swift build --package-path examples/swift-panel --scratch-path .build-examples
python3 scripts/swift_panel_test.py "$relevo" "$(swift build --package-path examples/swift-panel --scratch-path .build-examples --show-bin-path)/SwiftPanel"
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
python3 -c "import playwright" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check playwright==1.65.2
python3 scripts/console_test.py "$relevo"
python3 scripts/webchat_test.py "$relevo"
python3 scripts/webchat_instances_test.py "$relevo"
python3 scripts/docs_test.py
# Formatting is part of the test: a file that drifts from .swift-format fails the run, not a review.
swift format lint --strict --configuration .swift-format -r Sources Tests Benchmarks/Sources Fuzz Package.swift Benchmarks/Package.swift \
  examples/swift-panel
bash scripts/fuzz.sh 10
