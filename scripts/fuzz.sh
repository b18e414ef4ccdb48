#!/usr/bin/env bash
# Fuzzes every harness in fuzz/ for a time budget and reports the findings.
#
#   scripts/fuzz.sh [--merge] [seconds-per-harness]      (default 20 s)
#
# Interface (stable; scripts/test.sh and scripts/main-job.sh call it):
# - Builds the libFuzzer harnesses with clang: ASan+UBSan with the CMake
#   preset `fuzz` in build/fuzz (every harness; the matrix's `fuzz`
#   configuration shares that build), TSan in build/fuzz-tsan (the harnesses
#   with threads, listed in tsan_harnesses below; those also in
#   asan_and_tsan_harnesses are fuzzed under both).
# - Runs every (harness, sanitizer) pair for the budget, up to FUZZ_JOBS at a
#   time (default: the core count), starting from fuzz/corpus/<harness>/.
#   New inputs go to a scratch directory under build/fuzz-runs/; the working
#   tree is left untouched unless --merge is given, which then merges the
#   inputs that add edges into fuzz/corpus/<harness>/ (libFuzzer -merge=1
#   -use_counters=0, so the committed corpora stay small).
# - Prints one table row per run: harness, sanitizer, execs, exec/s, cov
#   (libFuzzer's "cov:"), corpus inputs added (with --merge), findings.
# - Exit status 0 when no run found anything, 1 on any finding (crash,
#   leak, timeout, OOM, sanitizer report, or a run that failed to start),
#   2 on bad usage; a build failure exits non-zero too. Each finding's input
#   is kept in build/fuzz-runs/artifacts/<harness>.<sanitizer>/ (outside the
#   tracked tree) and its path and log are printed.
# Run time on 2 cores: 20 s budget ~1m05s (+~35 s for a cold build), 60 s
# budget ~3m20s (6 runs, 2 at a time).
# Environment: FUZZ_JOBS (parallel runs), ASAN_OPTIONS / UBSAN_OPTIONS /
# TSAN_OPTIONS are extended, not replaced.
set -euo pipefail

usage() { echo "usage: $0 [--merge] [seconds-per-harness]" >&2; exit 2; }
merge=0
seconds=20
for arg in "$@"; do
  case "$arg" in
    --merge) merge=1 ;;
    *[!0-9]* | "") usage ;;
    *) seconds="$arg" ;;
  esac
done
((seconds > 0)) || usage
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${FUZZ_JOBS:-$(nproc)}"
runs_dir="$root/build/fuzz-runs"
artifacts="$runs_dir/artifacts"

# <build dir> <targets...>: builds the targets in a configured build directory.
build_targets() {
  local dir="$1"
  shift
  cmake --build "$dir" -j "$jobs" --target "$@" >>"$dir/fuzz-build.log" 2>&1 ||
    { cat "$dir/fuzz-build.log" >&2; echo "fuzz: build failed ($dir)" >&2; exit 1; }
}

harnesses=()
for source in "$root"/fuzz/fuzz_*.cpp; do
  name="$(basename "$source" .cpp)"
  harnesses+=("${name#fuzz_}")
done
asan_targets=()
for h in "${harnesses[@]}"; do asan_targets+=("fuzz_$h"); done
echo "fuzz: building (build/fuzz, build/fuzz-tsan)"
declare -A build_dirs=([asan]="$root/build/fuzz" [tsan]="$root/build/fuzz-tsan")
mkdir -p "${build_dirs[@]}"
(cd "$root" && cmake --preset fuzz) >"${build_dirs[asan]}/fuzz-build.log" 2>&1 ||
  { cat "${build_dirs[asan]}/fuzz-build.log" >&2; echo "fuzz: configure failed" >&2; exit 1; }
build_targets "${build_dirs[asan]}" "${asan_targets[@]}"
# Harnesses with threads: fuzzed under TSan instead of ASan, or under both
# when also listed in asan_and_tsan_harnesses.
tsan_harnesses=(futex_threads wasm_atomics wasm_accesses tenants)
asan_and_tsan_harnesses=(wasm_atomics wasm_accesses tenants)
# The ASan preset's settings with TSan instead.
cmake -S "$root" -B "${build_dirs[tsan]}" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="-O1 -fno-omit-frame-pointer -fsanitize=thread,fuzzer-no-link -fno-sanitize-recover=all" \
  -DWRT_PLATFORM_BUILD_FUZZERS=ON -DWRT_PLATFORM_BUILD_TESTS=OFF \
  -DWRT_PLATFORM_BUILD_FUZZ_REPLAY=OFF -DWRT_PLATFORM_FAULT_INJECTION=ON \
  >"${build_dirs[tsan]}/fuzz-build.log" 2>&1 ||
  { cat "${build_dirs[tsan]}/fuzz-build.log" >&2; echo "fuzz: configure failed (TSan)" >&2; exit 1; }
build_targets "${build_dirs[tsan]}" "${tsan_harnesses[@]/#/fuzz_}"

# One run: <label> <binary> <harness>. Fuzzes into a scratch directory
# (libFuzzer writes new inputs only into its first corpus directory), then
# with --merge merges what adds edges into the committed corpus.
run_one() {
  local label="$1" binary="$2" h="$3"
  local corpus="$root/fuzz/corpus/$h" fresh="$runs_dir/$label.new" log="$runs_dir/$label.log"
  local flags
  mapfile -t flags < <("$root/fuzz/libfuzzer-flags.sh" "$h")
  rm -rf "$fresh" "${artifacts:?}/$label"
  mkdir -p "$fresh" "$artifacts/$label"
  local status=0
  # The watchdog turns a run that hangs (e.g. in a crash handler) into a finding.
  timeout -k 10 $((seconds + 120)) \
    "$binary" "${flags[@]}" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$label/" "$fresh" "$corpus" >"$log" 2>&1 ||
    status=$?
  echo "exit_status: $status" >>"$log"
  if ((merge && status == 0)); then
    local before after
    before="$(find "$corpus" -type f | wc -l)"
    "$binary" "${flags[@]}" -merge=1 -use_counters=0 -artifact_prefix="$artifacts/$label/" \
      "$corpus" "$fresh" >"$log.merge" 2>&1 || true
    after="$(find "$corpus" -type f | wc -l)"
    echo "corpus_added: $((after - before))" >>"$log"
  fi
  rm -rf "$fresh"
}

mkdir -p "$runs_dir" "$artifacts"
# Stop at the first report, so that every report leaves an input behind.
# allow_user_segv_handler=1: fuzz_guard_traps installs the trap handler,
# which chains every fault that is not a trap to ASan's (docs/SPEC.md, T).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:allow_user_segv_handler=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
# Clang 14 TSan flags libFuzzer's own coverage counters; see fuzz/tsan.supp.
# report_signal_unsafe=0: libFuzzer's crash handler (after an abort from a
# FUZZ_CHECK) calls malloc; TSan reporting that from the signal handler
# deadlocked the run instead of letting it save the crash input.
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}halt_on_error=1:report_signal_unsafe=0:suppressions=$root/fuzz/tsan.supp"
runs=()
for h in "${harnesses[@]}"; do
  if [[ " ${tsan_harnesses[*]} " != *" $h "* || " ${asan_and_tsan_harnesses[*]} " == *" $h "* ]]; then
    runs+=("asan:$h")
  fi
  if [[ " ${tsan_harnesses[*]} " == *" $h "* ]]; then runs+=("tsan:$h"); fi
done
echo "fuzz: ${#runs[@]} runs of ${seconds}s, $jobs at a time"
running=0
for run in "${runs[@]}"; do
  san="${run%%:*}" h="${run#*:}"
  run_one "$h.$san" "${build_dirs[$san]}/fuzz/fuzz_$h" "$h" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

# A sanitizer report that did not stop the run still counts.
report_pattern='ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|WARNING: ThreadSanitizer|runtime error:|FUZZ MODEL MISMATCH'
status=0
found=()
printf '\n%-18s %-9s %12s %9s %6s %6s %9s\n' harness sanitizer execs exec/s cov added findings
for run in "${runs[@]}"; do
  san="${run%%:*}" h="${run#*:}" label="$h.$san" log="$runs_dir/$h.$san.log"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
  added="$(sed -n 's/^corpus_added: *//p' "$log")"
  exit_status="$(sed -n 's/^exit_status: *//p' "$log")"
  mapfile -t inputs < <(find "$artifacts/$label" -type f | sort)
  findings="${#inputs[@]}"
  if ((findings == 0)) && { [[ "$exit_status" != 0 ]] || grep -Eq "$report_pattern" "$log"; }; then
    findings=1
  fi
  if ((findings > 0)); then
    status=1
    found+=("$label: log $log" "${inputs[@]/#/  input }")
  fi
  printf '%-18s %-9s %12s %9s %6s %6s %9s\n' "$h" "$san" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${added:--}" "$findings"
done
if ((status != 0)); then
  echo "fuzz: FINDINGS (replay one with its fuzzer binary: build/fuzz/fuzz/fuzz_<harness> or build/fuzz-tsan/fuzz/fuzz_<harness> <input>)" >&2
  printf '  %s\n' "${found[@]}" >&2
else
  echo "fuzz: no findings (${seconds}s per harness)"
fi
exit "$status"
