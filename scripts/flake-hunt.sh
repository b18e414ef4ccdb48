#!/usr/bin/env bash
# Flake hunt (contract clause X4): runs the test suite of one preset
# (unit, property and corpus-replay tests; not the bench smoke nor the X4
# under-load tests, which bring their own load) N times while
# the machine is oversubscribed, and reports every test that failed at least
# once, with how often. Exit 1 if any test failed.
#
#   scripts/flake-hunt.sh [N] [PRESET]        N defaults to 20, PRESET to dev
#   BUSY=8 scripts/flake-hunt.sh 20           busy processes (default 2x cores)
#   FLAKE_TESTS='F4_' scripts/flake-hunt.sh   only tests matching a ctest -R regex
#
# The load: BUSY processes that spin on the CPU for the whole hunt (2x the
# cores by default), started after the build and ended by a trap on exit, so
# every test runs with fewer CPUs than runnable threads. Logs of failed runs:
# build/flake-hunt/<preset>/run-<i>.log.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
preset="${2:-dev}"
busy="${BUSY:-$((2 * $(nproc)))}"
pattern="${FLAKE_TESTS:-.}"
logs="build/flake-hunt/$preset"

cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" -j2 >/dev/null ||
  { echo "flake-hunt: building preset $preset failed" >&2; exit 2; }
rm -rf "$logs" && mkdir -p "$logs"

source scripts/busy-load.sh
ctest_pid=""
stop_everything() {
  [ -n "$ctest_pid" ] && kill "$ctest_pid" 2>/dev/null
  stop_busy_load
}
trap stop_everything EXIT
trap 'exit 130' INT TERM
start_busy_load "$busy"

declare -A failures=()
failed_runs=0
start=$SECONDS
failed_list="build/$preset/Testing/Temporary/LastTestsFailed.log"
for ((run = 1; run <= runs; run++)); do
  log="$logs/run-$run.log"
  t=$SECONDS
  rm -f "$failed_list"
  # In the background and waited for, so that Ctrl-C reaches the traps at once.
  ctest --preset "$preset" -LE "bench-smoke|under-load" -R "$pattern" >"$log" 2>&1 &
  ctest_pid=$!
  if wait "$ctest_pid"; then
    echo "flake-hunt: run $run/$runs ok ($((SECONDS - t))s, $busy busy processes)"
    rm -f "$log"
    continue
  fi
  failed_runs=$((failed_runs + 1))
  echo "flake-hunt: run $run/$runs FAILED ($((SECONDS - t))s), log: $log"
  if [ -s "$failed_list" ]; then
    while IFS=: read -r _ name; do
      failures["$name"]=$((${failures["$name"]:-0} + 1))
    done <"$failed_list"
  else
    failures["(ctest itself, see $log)"]=$((${failures["(ctest itself, see $log)"]:-0} + 1))
  fi
done

echo
echo "flake-hunt: preset $preset, $runs runs, $busy busy processes on $(nproc) cores," \
  "$((SECONDS - start))s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if ((failed_runs == 0)); then
  echo "flake-hunt: no test failed"
  exit 0
fi
echo "flake-hunt: $failed_runs of $runs runs failed; tests that failed at least once:"
for name in "${!failures[@]}"; do
  printf '  %3d  %s\n' "${failures[$name]}" "$name"
done | sort -rn
exit 1
