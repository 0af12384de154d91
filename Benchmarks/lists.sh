#!/usr/bin/env bash
# Benchmarks/lists.sh: the list routes (event log, conversations) at 1 000, 100 000 and 1 000 000
# events on SQLite and PostgreSQL, p50/p99 of a page of 50 against GET /version in the same run.
# Builds the release binary (.build-bench), then runs Benchmarks/lists.py (see its header).
# Usage: bash Benchmarks/lists.sh [--sizes 1000,100000] [--requests 300]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --scratch-path .build-bench --product relevo >&2
python3 Benchmarks/lists.py .build-bench/release/relevo "$@"
