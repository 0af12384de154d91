#!/usr/bin/env bash
# The test command: installs the off-the-shelf verifier the interop test uses, then runs `swift test`.
# Node.js 20 and Python 3 are expected on the machine (the interop and JSON tests run them).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import standardwebhooks" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check standardwebhooks==1.1.0
swift test "$@"
