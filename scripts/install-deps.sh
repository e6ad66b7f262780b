#!/usr/bin/env bash
# Installs the Debian 12 packages gatehouse needs. Idempotent: only missing packages are installed.
#   scripts/install-deps.sh          build + run
#   scripts/install-deps.sh --test   also everything the test suite and benchmarks use
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libicu-dev libssl-dev libsodium-dev libsqlite3-dev libcrypt-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev libpugixml-dev
  libboost-url1.81-dev libkrb5-dev
)
test_pkgs=(
  googletest libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev clang-format
  curl httpie python3-httpx python3-requests apache2-utils
  nginx-light apache2 wrk python3-fastapi python3-uvicorn python3-uvloop python3-httptools python3-bcrypt
  python3-jwt python3-cryptography nodejs npm
  krb5-kdc krb5-admin-server krb5-user libapache2-mod-auth-gssapi python3-gssapi python3-requests-kerberos
  tinyproxy
)

want=("${build_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  # A Node.js that ships its own npm (e.g. NodeSource's nodejs, which conflicts with Debian's npm
  # package) already satisfies "npm".
  [[ "$p" == npm ]] && command -v npm >/dev/null 2>&1 && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  # Keep package post-install scripts from starting nginx/apache on standard ports.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages of the integration tests (tests/integration/node: `jose` for test_token_interop.py),
# installed exactly as package-lock.json says; skipped when node_modules already matches the lock.
if [[ "${1:-}" == "--test" ]]; then
  node_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/node"
  stamp="$node_dir/node_modules/.gatehouse-lock"
  if ! cmp -s "$node_dir/package-lock.json" "$stamp" 2>/dev/null; then
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$node_dir/package-lock.json" "$stamp"
  fi
fi
