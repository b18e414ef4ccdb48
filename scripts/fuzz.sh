#!/usr/bin/env bash
# Fuzzes every harness in fuzz/ for a time budget and reports the findings.
#
#   scripts/fuzz.sh [seconds-per-harness]      (default 20)
#
# Builds the libFuzzer harnesses with clang: ASan+UBSan in build/fuzz-asan,
# the futex harness also under TSan in build/fuzz-tsan. Runs each harness
# for the budget (up to FUZZ_JOBS at a time, default: the core count),
# merges inputs that add coverage into fuzz/corpus/<harness>/ (libFuzzer
# -merge=1, so the committed corpora stay small) and prints a table:
# harness, execs, exec/s, coverage, corpus inputs added, findings. Crash,
# leak, timeout and OOM inputs go to build/fuzz-artifacts/<harness>/.
# Exits non-zero when any harness has a finding.
set -euo pipefail

seconds="${1:-20}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [seconds-per-harness]" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${FUZZ_JOBS:-$(nproc)}"
artifacts="$root/build/fuzz-artifacts"
logs="$root/build/fuzz-logs"

configure_and_build() {  # <build dir> <sanitizers> <targets...>
  local dir="$1" sanitizers="$2"
  shift 2
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE= \
    -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=$sanitizers,fuzzer-no-link -fno-sanitize-recover=all" \
    -DWRT_PLATFORM_BUILD_FUZZERS=ON -DWRT_PLATFORM_BUILD_TESTS=OFF \
    -DWRT_PLATFORM_BUILD_FUZZ_REPLAY=OFF -DWRT_PLATFORM_FAULT_INJECTION=ON >/dev/null
  cmake --build "$dir" -j "$jobs" --target "$@"
}

harnesses=()
for source in "$root"/fuzz/fuzz_*.cpp; do
  name="$(basename "$source" .cpp)"
  harnesses+=("${name#fuzz_}")
done
asan_targets=()
for h in "${harnesses[@]}"; do asan_targets+=("fuzz_$h"); done
configure_and_build "$root/build/fuzz-asan" address,undefined "${asan_targets[@]}"
configure_and_build "$root/build/fuzz-tsan" thread fuzz_futex_threads

# One run: <label> <binary> <harness>. Fuzzes into a scratch directory,
# then merges what adds coverage into the committed corpus.
run_one() {
  local label="$1" binary="$2" h="$3"
  local corpus="$root/fuzz/corpus/$h" fresh="$logs/$label.new" log="$logs/$label.log"
  local flags
  mapfile -t flags < <("$root/fuzz/libfuzzer-flags.sh" "$h")
  rm -rf "$fresh" "${artifacts:?}/$label"
  mkdir -p "$corpus" "$fresh" "$artifacts/$label"
  local status=0
  "$binary" "${flags[@]}" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$label/" "$fresh" "$corpus" >"$log" 2>&1 || status=$?
  echo "exit_status: $status" >>"$log"
  local before after
  before="$(find "$corpus" -type f | wc -l)"
  # -use_counters=0: keep an input only for new edges, not for new hit
  # counts, so the committed corpus stays small.
  "$binary" "${flags[@]}" -merge=1 -use_counters=0 -artifact_prefix="$artifacts/$label/" \
    "$corpus" "$fresh" >"$log.merge" 2>&1 || true
  after="$(find "$corpus" -type f | wc -l)"
  echo "corpus_added: $((after - before))" >>"$log"
  rm -rf "$fresh"
}

mkdir -p "$logs" "$artifacts"
# Clang 14 TSan flags libFuzzer's own coverage counters; see fuzz/tsan.supp.
export TSAN_OPTIONS="suppressions=$root/fuzz/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
runs=()
for h in "${harnesses[@]}"; do runs+=("asan:$h"); done
runs+=("tsan:futex_threads")
running=0
for run in "${runs[@]}"; do
  san="${run%%:*}" h="${run#*:}"
  run_one "$h.$san" "$root/build/fuzz-$san/fuzz/fuzz_$h" "$h" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

status=0
printf '\n%-26s %12s %9s %7s %7s %9s\n' harness execs exec/s cov added findings
for run in "${runs[@]}"; do
  san="${run%%:*}" h="${run#*:}" label="$h.$san" log="$logs/$h.$san.log"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
  added="$(sed -n 's/^corpus_added: *//p' "$log")"
  exit_status="$(sed -n 's/^exit_status: *//p' "$log")"
  findings="$(find "$artifacts/$label" -type f \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)"
  # A non-zero exit without an artifact (e.g. a sanitizer report on a
  # thread, or a failed start) is a finding too.
  ((findings == 0 && exit_status != 0)) && findings=1
  ((findings > 0)) && status=1
  printf '%-26s %12s %9s %7s %7s %9s\n' "$label" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${added:-?}" "$findings"
done
if ((status != 0)); then
  echo "fuzz: FINDINGS - logs in build/fuzz-logs/, inputs in build/fuzz-artifacts/" >&2
else
  echo "fuzz: no findings (${seconds}s per harness)"
fi
exit "$status"
