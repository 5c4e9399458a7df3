#!/usr/bin/env bash
# Runs the whole suite with node's test runner: unit tests beside the code,
# integration tests (real kernel, dockerd, browser) under test/.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(find dist/src dist/test -name '*.test.js' | sort)
exec node --test --test-concurrency=1 --test-reporter=spec --test-timeout=600000 $files
