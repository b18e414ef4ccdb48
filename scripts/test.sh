#!/usr/bin/env bash
# The test command (what CI runs, .ci/run) and the engine of the main job
# (scripts/main-job.sh runs this script with a longer fuzz budget, so the two
# README commands run the same steps). Installs the Debian packages, then
# runs every step, never stopping at the first failure:
#   1. the matrix (sanitizers/run-matrix.sh): g++ dev (unit, property,
#      corpus-replay tests, benchmark smoke, the X4 suites under load), clang
#      ASan+UBSan (+integer), clang TSan, the portable futex backend (g++),
#      the libFuzzer build replaying the corpora (ASan+UBSan),
#      MemorySanitizer, and a fuzz smoke of FUZZ_SECONDS (default 20) per
#      harness, 2 at a time; the plain clang build of every test is step 4's
#      (the `clang` preset would compile and run the same a second time);
#   2. the OSS-Fuzz build simulation (scripts/oss-fuzz-local.sh);
#   3. consumers of the installed package, by CMake and pkg-config, and the
#      example guest examples/shared_guest.cpp (scripts/check-install.sh);
#   4. clang source-based coverage of src/ with its bar, over every test of
#      the clang build (scripts/coverage.sh;
#      COVERAGE_BAR=report only reports it);
#   5. the platform workflows i686, aarch64 (qemu-user) and windows (Wine).
# Prints what ran and what it found; exit status 1 when any test failed,
# anything was found, or coverage is below the bar (unless report only).
# Times on 2 cores: sanitizers/README.md, "CI".
set -uo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
fuzz_seconds="${FUZZ_SECONDS:-20}"
bash scripts/install-deps.sh || { echo "test.sh: installing dependencies failed" >&2; exit 1; }
mkdir -p build/matrix

results=()
status=0
step() {  # <name> <log or -> <command...>: runs a step, records its result and time
  local name="$1" log="$2" t=$SECONDS ok=0
  shift 2
  echo
  echo "==== test.sh: $name"
  if [[ "$log" == - ]]; then "$@" || ok=1; else "$@" >"$log" 2>&1 || ok=1; fi
  local verdict=ok
  if ((ok != 0)); then
    verdict=FAILED
    status=1
    [[ "$log" == - ]] || { tail -30 "$log"; verdict="FAILED ($log)"; }
  fi
  results+=("$(printf '%-22s %6ss  %s' "$name" $((SECONDS - t)) "$verdict")")
}

step "matrix" - bash sanitizers/run-matrix.sh --fuzz-seconds "$fuzz_seconds" \
  dev asan tsan portable fuzz msan fuzz-smoke
step "oss-fuzz simulation" - bash scripts/oss-fuzz-local.sh
step "installed package" - bash scripts/check-install.sh
coverage_args=()
[[ "${COVERAGE_BAR:-}" == report ]] && coverage_args=(--no-bar)
step "coverage" - bash scripts/coverage.sh "${coverage_args[@]}"
for preset in i686 aarch64 windows; do
  step "$preset" "build/matrix/$preset.log" env WINEDEBUG=-all cmake --workflow --preset "$preset"
done

echo
echo "==== test.sh: what ran and what it found"
printf '%s\n' "${results[@]}"
echo
cat build/matrix/table.txt 2>/dev/null
echo
echo "fuzz smoke (scripts/fuzz.sh, ${fuzz_seconds}s per harness):"
sed -n '/^harness  *sanitizer/,$p' build/matrix/fuzz-smoke.log 2>/dev/null
echo
echo "installed package (scripts/check-install.sh):"
cat build/check-install/ran.txt 2>/dev/null || echo "  (did not run to the end)"
cat build/coverage/summary.txt 2>/dev/null
# Why each failed test failed (GoogleTest's messages, sanitizer and Wine
# reports; at most 40 lines a log), last, where a truncated CI log keeps it.
for log in build/matrix/*.log; do
  grep -q -E 'The following tests FAILED|: Failure$' "$log" || continue
  echo "why tests failed in $log:"
  grep -E -A3 ': Failure$|\[  FAILED  \]|ERROR: |runtime error|WARNING: ThreadSanitizer|wine client error' \
    "$log" | head -40
done
echo "test.sh: $( ((status == 0)) && echo PASSED || echo FAILED ) in $((SECONDS - start))s"
exit "$status"
