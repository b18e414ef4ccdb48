#!/usr/bin/env bash
# Builds and runs the sanitizer matrix and prints one table:
# configuration, tests run, passed, failed, skipped, time.
#
#   sanitizers/run-matrix.sh [--fuzz-seconds N] [configuration...]
#
# Configurations are the CMake presets dev, clang, asan, tsan, portable, msan,
# fuzz and coverage (configure + build + ctest --preset: unit, property and
# corpus-replay tests, with the sanitizer options of sanitizers/*.options),
# plus fuzz-smoke: scripts/fuzz.sh for N seconds per harness (default 20;
# tests = fuzz runs, failed = runs with a finding).
# Default: dev asan tsan portable fuzz-smoke.
# The table is also written to build/matrix/table.txt. Exit status 1 when
# any configuration fails to build, has a failing test, a sanitizer report
# or a fuzz finding.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
fuzz_seconds=20
if [[ "${1:-}" == --fuzz-seconds ]]; then
  fuzz_seconds="${2:?usage: $0 [--fuzz-seconds N] [configuration...]}"
  shift 2
fi
configs=("$@")
((${#configs[@]})) || configs=(dev asan tsan portable fuzz-smoke)
jobs="${JOBS:-2}"
out="$root/build/matrix"
mkdir -p "$out"
# A report that somehow did not fail its test still fails the configuration.
# Death tests keep their children's (expected) reports to themselves.
report_pattern='SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer|LeakSanitizer|MemorySanitizer)|WARNING: ThreadSanitizer'

rows=()
status=0
row() {  # <config> <tests> <passed> <failed> <skipped> <seconds> <note>
  rows+=("$(printf '%-12s %6s %7s %7s %8s %7ss  %s' "$@")")
}

run_preset() {  # <preset>: one ctest configuration
  local preset="$1" log="$out/$1.log" build_dir="$root/build/$1" start=$SECONDS
  echo "== matrix: $preset (log: build/matrix/$preset.log)"
  if ! { cmake --preset "$preset" && cmake --build --preset "$preset" -j "$jobs"; } >"$log" 2>&1; then
    tail -30 "$log"
    row "$preset" - - - - $((SECONDS - start)) "BUILD FAILED"
    return 1
  fi
  local ok=0
  ctest --preset "$preset" --output-junit "$out/$preset.junit.xml" >>"$log" 2>&1 || ok=1
  local tests failed skipped note=""
  tests="$(grep -Eo 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+$')"
  failed="$(grep -Eo 'tests passed, [0-9]+ tests? failed' "$log" | tail -1 | grep -Eo '[0-9]+ tests? failed' | grep -Eo '^[0-9]+')"
  skipped="$(grep -c '(Skipped)' "$log")"
  if grep -Eq "$report_pattern" "$build_dir/Testing/Temporary/LastTest.log" 2>/dev/null; then
    note="sanitizer report (see $build_dir/Testing/Temporary/LastTest.log)"
    ok=1
  fi
  if ((ok != 0)); then
    grep -E '^\s+[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Not Run|Exception)' "$log" | head -20
    [[ -n "$note" ]] || note="FAILED"
  fi
  tests="${tests:-0}" failed="${failed:-0}"
  row "$preset" "$tests" $((tests - failed - skipped)) "$failed" "$skipped" $((SECONDS - start)) "$note"
  return "$ok"
}

run_fuzz_smoke() {
  local log="$out/fuzz-smoke.log" start=$SECONDS ok=0
  echo "== matrix: fuzz-smoke, ${fuzz_seconds}s per harness (log: build/matrix/fuzz-smoke.log)"
  FUZZ_JOBS="$jobs" bash scripts/fuzz.sh "$fuzz_seconds" >"$log" 2>&1 || ok=1
  # The rows of fuzz.sh's table: harness sanitizer execs exec/s cov added findings.
  local runs failed
  runs="$(awk '/^harness +sanitizer/ {t = 1; next} t && NF == 7 {n++} END {print n + 0}' "$log")"
  failed="$(awk '/^harness +sanitizer/ {t = 1; next} t && NF == 7 && $7 > 0 {n++} END {print n + 0}' "$log")"
  sed -n '/^harness +sanitizer/,$p' "$log"
  if ((ok != 0)); then
    tail -30 "$log"
    ((runs > 0)) || { row fuzz-smoke - - - - $((SECONDS - start)) "BUILD OR RUN FAILED"; return 1; }
  fi
  row fuzz-smoke "$runs" $((runs - failed)) "$failed" 0 $((SECONDS - start)) \
    "$( ((ok == 0)) && echo "${fuzz_seconds}s per harness, no findings" || echo FINDINGS)"
  return "$ok"
}

for config in "${configs[@]}"; do
  case "$config" in
    fuzz-smoke) run_fuzz_smoke || status=1 ;;
    dev | clang | asan | tsan | portable | fuzz | msan | coverage) run_preset "$config" || status=1 ;;
    *) echo "run-matrix: unknown configuration $config" >&2; exit 2 ;;
  esac
done

{
  printf '%-12s %6s %7s %7s %8s %8s  %s\n' configuration tests passed failed skipped time note
  printf '%s\n' "${rows[@]}"
} | tee "$out/table.txt"
exit "$status"
