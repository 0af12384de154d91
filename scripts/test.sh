#!/usr/bin/env bash
# The test command: installs the off-the-shelf verifier the interop test uses, runs `swift test`,
# then, against the binary swift test just built: the crash test (SIGKILL under load), the CLI
# stress test (CLI writes on a live server's SQLite file), the disk-full test (SQLite on a tmpfs
# that fills up; it mounts one, so it runs as root, as CI does), the multi-instance test (two
# servers on one PostgreSQL, one killed) and the PostgreSQL-restart test (two servers under load
# while PostgreSQL restarts); last, a short run of each fuzz target (scripts/fuzz.sh: libFuzzer
# with AddressSanitizer, a build of its own in .build-fuzz) and the canonical writer against Node. PostgreSQL 15 is expected at
# /usr/lib/postgresql/15/bin: the tests start and stop their own throwaway servers.
# Node.js 20 and Python 3 are expected on the machine (the interop and JSON tests run them).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import standardwebhooks" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check standardwebhooks==1.1.0
swift test "$@"
relevo="$(swift build --show-bin-path)/relevo"
python3 scripts/crash_test.py "$relevo"
python3 scripts/cli_stress_test.py "$relevo"
python3 scripts/disk_full_test.py "$relevo"
python3 scripts/multi_instance_test.py "$relevo"
python3 scripts/pg_restart_test.py "$relevo"
bash scripts/fuzz.sh 10
