#!/usr/bin/env bash
# fuzz-smoke: builds the libFuzzer targets with clang in their own tree and runs each one for a
# bounded time on a copy of its seed corpus. Fails on any crash, leak or sanitizer report.
#   fuzz/smoke.sh BUILD_DIR [SECONDS_PER_TARGET]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?build dir}"
seconds="${2:-${GATEHOUSE_FUZZ_SECONDS:-20}}"
cmake -S "$here/tree" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build "$build"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for target in "$build"/*_fuzz; do
  name="$(basename "$target")"
  mkdir -p "$work/$name"
  [[ -d "$here/corpus/$name" ]] && cp -r "$here/corpus/$name/." "$work/$name/"
  echo "== $name (${seconds}s)"
  if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$work/" "$work/$name" 2>"$work/$name.log"; then
    tail -n 40 "$work/$name.log"
    echo "FAILED: $name"
    status=1
  else
    grep -E '^Done|#[0-9]+.*DONE' "$work/$name.log" | tail -n 1 || true
  fi
done
exit $status
