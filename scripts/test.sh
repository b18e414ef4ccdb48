#!/usr/bin/env bash
# The test command (what CI runs, .ci/run): installs the Debian packages, then
# runs every test configuration and fails on any failing test, sanitizer
# report, fuzz finding, or coverage below the bar:
#   1. the matrix (sanitizers/run-matrix.sh): g++ dev, clang ASan+UBSan
#      (+integer), clang TSan, the portable futex backend (g++) - each runs
#      unit, property and corpus-replay tests - and a fuzz smoke of
#      FUZZ_SECONDS (default 20) per harness, 2 at a time;
#   2. the OSS-Fuzz build simulation (scripts/oss-fuzz-local.sh);
#   3. consumers of the installed package, by CMake and pkg-config, and the
#      example guest examples/shared_guest.cpp (scripts/check-install.sh);
#   4. clang source-based coverage of src/ with its bar (scripts/coverage.sh);
#   5. the platform workflows i686, aarch64 (qemu-user) and windows (Wine):
#      unit and property tests per platform (README, "Platforms").
# Prints a summary table at the end. Takes about 14 minutes (820 s) on 2 cores with
# the packages installed (measured: sanitizers/README.md, "CI").
set -uo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/install-deps.sh || { echo "test.sh: installing dependencies failed" >&2; exit 1; }

results=()
status=0
step() {  # <name> <command...>: runs a step, records its result and time
  local name="$1" t=$SECONDS
  shift
  echo
  echo "==== test.sh: $name"
  if "$@"; then
    results+=("$(printf '%-22s %-6s %6ss' "$name" ok $((SECONDS - t)))")
  else
    results+=("$(printf '%-22s %-6s %6ss' "$name" FAILED $((SECONDS - t)))")
    status=1
  fi
}

step "matrix" bash sanitizers/run-matrix.sh --fuzz-seconds "${FUZZ_SECONDS:-20}" \
  dev asan tsan portable fuzz-smoke
step "oss-fuzz simulation" bash scripts/oss-fuzz-local.sh
step "installed package" bash scripts/check-install.sh
step "coverage" bash scripts/coverage.sh
for preset in i686 aarch64 windows; do
  step "$preset" env WINEDEBUG=-all cmake --workflow --preset "$preset"
done

echo
echo "==== test.sh: summary"
printf '%s\n' "${results[@]}"
echo
cat build/matrix/table.txt 2>/dev/null
cat build/coverage/summary.txt 2>/dev/null
echo "test.sh: $( ((status == 0)) && echo PASSED || echo FAILED ) in $((SECONDS - start))s"
exit "$status"
