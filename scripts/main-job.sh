#!/usr/bin/env bash
# The main job: installs the Debian packages, builds and runs the example
# guest against the installed package, builds every configuration (g++ dev
# with benchmarks, clang, ASan+UBSan, TSan, portable futex backend,
# libFuzzer, MemorySanitizer, coverage; then the i686, aarch64 and windows
# workflows), runs the whole sanitizer matrix -
# unit, property and corpus-replay tests in each (MSan: the corpus replays
# it can run, see sanitizers/README.md), the benchmark smoke run in dev - and the fuzz
# matrix for FUZZ_SECONDS per harness (default 60), the OSS-Fuzz build
# simulation and the coverage report; then prints what ran and what it found.
#
#   scripts/main-job.sh            FUZZ_SECONDS=300 scripts/main-job.sh
#
# Unlike scripts/test.sh it does not stop at the coverage bar (it reports
# it). Exit status 1 when any test failed or anything was found.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/install-deps.sh || { echo "main-job: installing dependencies failed" >&2; exit 1; }
status=0
# First the example guest, built against the installed package like a runtime
# (shared LinearMemory, wait/notify, grow, traps); it prints what happened.
example=ok
bash scripts/check-install.sh || { example=FAILED; status=1; }
bash sanitizers/run-matrix.sh --fuzz-seconds "${FUZZ_SECONDS:-60}" \
  dev clang asan tsan portable fuzz msan fuzz-smoke || status=1
oss_fuzz=ok
bash scripts/oss-fuzz-local.sh || { oss_fuzz=FAILED; status=1; }
bash scripts/coverage.sh --no-bar || status=1
# The other platforms (clause X): unit and property tests per platform.
platforms=()
for preset in i686 aarch64 windows; do
  if WINEDEBUG=-all cmake --workflow --preset "$preset" >"build/matrix/$preset.log" 2>&1; then
    platforms+=("$preset ok")
  else
    platforms+=("$preset FAILED (build/matrix/$preset.log)")
    status=1
  fi
done

echo
echo "==== main-job: what ran and what it found"
cat build/matrix/table.txt
echo
echo "fuzz matrix (scripts/fuzz.sh, ${FUZZ_SECONDS:-60}s per harness):"
sed -n '/^harness  *sanitizer/,$p' build/matrix/fuzz-smoke.log
echo
echo "OSS-Fuzz build simulation: $oss_fuzz"
echo "platforms (cmake --workflow --preset): ${platforms[*]}"
echo "example guest and installed package (scripts/check-install.sh): $example"
cat build/coverage/summary.txt 2>/dev/null
echo "main-job: $( ((status == 0)) && echo "nothing found" || echo "FAILURES or FINDINGS above") in $((SECONDS - start))s"
exit "$status"
