#!/usr/bin/env bash
# Installs what is missing, builds the release binary and serves the embedded default:
# SQLite data in ./gatehouse-data, demo users admin/admin and demo/demo, http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DGATEHOUSE_TESTS=OFF -DGATEHOUSE_BENCH=OFF >/dev/null
cmake --build --preset release --target gatehouse
exec build/release/gatehouse serve "$@"
