#!/usr/bin/env bash
# The test command (what CI runs): installs the Debian packages, then builds
# and runs every test with g++ and with clang.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
for preset in dev clang; do
  echo "== test.sh: preset $preset"
  cmake --preset "$preset"
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done
