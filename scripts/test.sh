#!/usr/bin/env bash
# The test command: installs the off-the-shelf verifier the interop test uses, runs `swift test`,
# then the crash test (SIGKILL under load) against the binary swift test just built.
# Node.js 20 and Python 3 are expected on the machine (the interop and JSON tests run them).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import standardwebhooks" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check standardwebhooks==1.1.0
swift test "$@"
python3 scripts/crash_test.py "$(swift build --show-bin-path)/relevo"
