#!/usr/bin/env bash
# Simulates the OSS-Fuzz build locally: runs oss-fuzz/build.sh outside
# Docker with the environment OSS-Fuzz gives it ($CC $CXX $CFLAGS $CXXFLAGS
# $LIB_FUZZING_ENGINE $OUT $SRC $WORK $SANITIZER ...), once per sanitizer in
# oss-fuzz/project.yaml (address, undefined), checks that $OUT holds every
# harness of fuzz/ with its <fuzzer>_seed_corpus.zip and .options (and .dict
# where fuzz/dict/ has one), then runs each fuzzer for a bounded number of
# runs on its unpacked seed corpus with its options, as ClusterFuzz would.
#
#   scripts/oss-fuzz-local.sh [runs-per-fuzzer]      (default 2000)
#
# Interface (stable; CI calls it): exit 0 when both builds and every run
# pass; 1 when build.sh fails, something is missing in $OUT, or a fuzzer
# fails (its log tail is printed); 2 on bad usage. Everything it makes goes
# to a temporary directory that is removed at exit; the working tree is not
# touched. Needs only Debian packages (clang, libclang-rt-14-dev, cmake,
# ninja-build, zip, python3, libexpected-dev): no Docker, no pip.
# Takes 1-2 minutes on 2 cores, depending on the load (four library builds
# dominate; the 12 bounded runs take seconds).
#
# Differences from the real thing: the host's clang and libstdc++ instead of
# OSS-Fuzz's clang and libc++, and the system's tl::expected.
set -euo pipefail

runs="${1:-2000}"
[[ "$runs" =~ ^[0-9]+$ ]] || { echo "usage: $0 [runs-per-fuzzer]" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/wrt-oss-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# As in OSS-Fuzz's base-builder image (infra/base-images/base-builder).
base_flags="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
declare -A sanitizer_flags=(
  [address]="-fsanitize=address -fsanitize-address-use-after-scope"
  [undefined]="-fsanitize=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr -fno-sanitize-recover=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
)
# As ClusterFuzz runs them; unsigned wrap-around is reported but not a crash.
export ASAN_OPTIONS="alloc_dealloc_mismatch=0:allocator_may_return_null=1:detect_leaks=1:detect_stack_use_after_return=1:handle_abort=1:strict_memcmp=0:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1"

status=0
for sanitizer in address undefined; do
  echo "== oss-fuzz build: SANITIZER=$sanitizer"
  export SRC="$scratch/$sanitizer/src" WORK="$scratch/$sanitizer/work" OUT="$scratch/$sanitizer/out"
  mkdir -p "$SRC" "$WORK" "$OUT"
  ln -s "$root" "$SRC/wrt-platform"
  cp "$root/oss-fuzz/build.sh" "$SRC/build.sh"
  export SANITIZER="$sanitizer" FUZZING_ENGINE=libfuzzer FUZZING_LANGUAGE=c++ ARCHITECTURE=x86_64
  export CC=clang CXX=clang++
  export CFLAGS="$base_flags ${sanitizer_flags[$sanitizer]} -fsanitize=fuzzer-no-link"
  export CXXFLAGS="$CFLAGS"
  export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
  (cd "$SRC/wrt-platform" && bash -eu "$SRC/build.sh") >"$scratch/$sanitizer/build.log" 2>&1 ||
    { cat "$scratch/$sanitizer/build.log"; echo "oss-fuzz-local: build.sh failed ($sanitizer)" >&2; exit 1; }

  # Every harness in fuzz/ must be in $OUT with its seed corpus and options
  # (dictionaries are optional: fuzz/dict/<harness>.dict when there is one).
  for source in "$root"/fuzz/fuzz_*.cpp; do
    name="$(basename "$source" .cpp)"
    fuzzer="$OUT/$name"
    missing=()
    [[ -x "$fuzzer" ]] || missing+=("$name")
    [[ -f "$OUT/${name}_seed_corpus.zip" ]] || missing+=("${name}_seed_corpus.zip")
    [[ -f "$OUT/$name.options" ]] || missing+=("$name.options")
    if [[ -f "$root/fuzz/dict/${name#fuzz_}.dict" && ! -f "$OUT/$name.dict" ]]; then
      missing+=("$name.dict")
    fi
    if ((${#missing[@]} > 0)); then
      printf '  %-28s FAIL missing in $OUT: %s\n' "$name" "${missing[*]}"
      status=1
      continue
    fi
    corpus="$scratch/$sanitizer/corpus/$name"
    mkdir -p "$corpus"
    python3 -m zipfile -e "$OUT/${name}_seed_corpus.zip" "$corpus"  # unzip may be absent
    mapfile -t flags < <("$root/fuzz/libfuzzer-flags.sh" "${name#fuzz_}")
    # As ClusterFuzz does: the .options file's [asan] section extends ASAN_OPTIONS
    # (fuzz_guard_traps: allow_user_segv_handler=1).
    asan_extra="$(sed -n '/^\[asan\]/,/^\[/{/^[a-z_]/{s/[[:space:]]//g;p;}}' "$OUT/$name.options" | paste -sd:)"
    if (cd "$scratch" && ASAN_OPTIONS="$ASAN_OPTIONS${asan_extra:+:$asan_extra}" \
      "$fuzzer" "${flags[@]}" -runs="$runs" -timeout=25 "$corpus") \
      >"$scratch/$sanitizer/$name.log" 2>&1; then
      printf '  %-28s ok   %s\n' "$name" "$(grep -o 'cov: [0-9]*' "$scratch/$sanitizer/$name.log" | tail -1)"
    else
      printf '  %-28s FAIL\n' "$name"
      tail -40 "$scratch/$sanitizer/$name.log"
      status=1
    fi
  done
done
exit "$status"
