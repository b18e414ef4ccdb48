#!/usr/bin/env bash
# Shows that each sanitizer configuration catches a bug of its kind: plants
# the bug in a scratch copy of the repository (never in the repository),
# builds the unit-test binary there with the configuration's preset, runs
# the tests that reach the bug, and looks for the sanitizer's report. Each
# test command is first run on the unplanted copy, which must pass. Prints:
# configuration, planted bug, clean run, planted run, report.
#
#   sanitizers/plant-bugs.sh            (scratch copy: /tmp/wrt-plant-bugs)
#
# Not part of CI (two extra builds); run it after changing sanitizer flags.
# Exit status 1 when a planted bug goes unreported or a clean run fails.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${PLANT_DIR:-/tmp/wrt-plant-bugs}"
jobs="${JOBS:-2}"
[[ "$scratch" != "$root"* ]] || { echo "plant-bugs: scratch must be outside the repository" >&2; exit 2; }

rm -rf "$scratch"
mkdir -p "$scratch"
tar -C "$root" --exclude=./build --exclude=./.git -cf - . | tar -C "$scratch" -xf -
cd "$scratch"
export ASAN_OPTIONS="include=$scratch/sanitizers/asan.options"
export UBSAN_OPTIONS="include=$scratch/sanitizers/ubsan.options"
export TSAN_OPTIONS="include=$scratch/sanitizers/tsan.options"

build() {  # <preset>: builds the unit-test binary of the scratch copy
  { cmake --preset "$1" && cmake --build --preset "$1" -j "$jobs" --target wrt_platform_tests; } \
    >"$scratch/build-$1.log" 2>&1 || { tail -30 "$scratch/build-$1.log"; exit 1; }
}

# Replaces the exact text <old> by <new> in <file>; fails if <old> is gone
# (the code changed: update the plant).
replace() {  # <file> <old> <new>
  python3 - "$@" <<'PY' || exit 1
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"plant-bugs: the text to replace is not in {path} exactly once; update the plant")
open(path, "w").write(text.replace(old, new))
PY
}

rows=()
status=0
# <preset> <label> <file> <old> <new> <gtest filter> <report regex>
plant() {
  local preset="$1" label="$2" file="$3" old="$4" new="$5" filter="$6" report="$7"
  local binary="$scratch/build/$preset/tests/wrt_platform_tests" log="$scratch/${label// /-}"
  echo "== plant-bugs: $preset: $label"
  local clean=pass planted=missed found=""
  "$binary" --gtest_filter="$filter" >"$log.clean.log" 2>&1 || { clean=FAIL; status=1; }
  cp "$file" "$file.orig"
  replace "$file" "$old" "$new"
  cmake --build "$scratch/build/$preset" -j "$jobs" --target wrt_platform_tests >"$log.build.log" 2>&1 ||
    { tail -20 "$log.build.log"; exit 1; }
  "$binary" --gtest_filter="$filter" >"$log.planted.log" 2>&1
  found="$(grep -Eo "$report" "$log.planted.log" | head -1)"
  if [[ -n "$found" ]]; then planted=caught; else status=1; found="(none; log: $log.planted.log)"; fi
  mv "$file.orig" "$file"
  touch "$file"  # newer than the planted build, so ninja rebuilds
  cmake --build "$scratch/build/$preset" -j "$jobs" --target wrt_platform_tests >/dev/null 2>&1
  rows+=("$(printf '%-6s %-52s %-6s %-7s %s' "$preset" "$label" "$clean" "$planted" "$found")")
}

build asan
plant asan "heap overflow: read() copies one byte more" \
  include/wrt/platform/memory_provider.hpp \
  'std::memmove(bytes.data(), data() + offset, bytes.size());' \
  'std::memmove(bytes.data(), data() + offset, bytes.size() + 1);' \
  'MemoryProvider*' 'AddressSanitizer: heap-buffer-overflow'
plant asan "unsigned overflow in page math (-fsanitize=integer)" \
  src/allocator/page_policy.hpp \
  'std::uint32_t new_pages = 0;
  if (__builtin_add_overflow(current_pages, additional_pages, &new_pages))
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "grow: current_pages + additional_pages overflows"));' \
  'const std::uint32_t new_pages = current_pages + additional_pages;' \
  '*' 'page_policy.hpp:[0-9:]+: runtime error: unsigned integer overflow'
plant asan "released static memory left unpoisoned" \
  src/allocator/static_page_allocator.cpp \
  'ASAN_POISON_MEMORY_REGION(p, bytes);' '(void)p, (void)bytes;' \
  'StaticAsan*' 'failed to die'

build tsan
plant tsan "data race: parking-lot wake without the lock" \
  src/futex/portable_backend.cpp \
  'Bucket& bucket = bucket_for(addr);
  const std::lock_guard lock(bucket.mutex);
  std::uint32_t woken = 0;' \
  'Bucket& bucket = bucket_for(addr);
  std::uint32_t woken = 0;' \
  'FutexCoreTest/Portable*' 'WARNING: ThreadSanitizer: data race'

echo
printf '%-6s %-52s %-6s %-7s %s\n' config "planted bug" clean planted report
printf '%s\n' "${rows[@]}"
exit "$status"
