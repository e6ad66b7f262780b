#!/usr/bin/env bash
# Installs what is missing (test tools included), builds with warnings as errors, and runs every
# test: unit, integration (real binary + curl/httpie/httpx/htpasswd), and fuzz-smoke.
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
cmake --preset ci >/dev/null
cmake --build --preset ci
ctest --preset ci --timeout 1200 "$@"
