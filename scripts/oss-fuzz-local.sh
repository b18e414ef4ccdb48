#!/usr/bin/env bash
# Runs oss-fuzz/build.sh outside Docker with the environment OSS-Fuzz gives
# it, once per sanitizer in oss-fuzz/project.yaml (address, undefined), then
# runs every fuzzer it put in $OUT for a bounded number of runs on its seed
# corpus, with its .options, as ClusterFuzz would.
#
#   scripts/oss-fuzz-local.sh [runs-per-fuzzer]      (default 2000)
#
# Differences from the real thing: the host's clang and libstdc++ instead of
# OSS-Fuzz's clang and libc++, and the system's tl::expected.
# Exits non-zero if the build fails or any fuzzer fails.
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

  for fuzzer in "$OUT"/fuzz_*; do
    [[ -x "$fuzzer" && ! -d "$fuzzer" ]] || continue
    name="$(basename "$fuzzer")"
    corpus="$scratch/$sanitizer/corpus/$name"
    mkdir -p "$corpus"
    [[ -f "$OUT/${name}_seed_corpus.zip" ]] || { echo "missing ${name}_seed_corpus.zip" >&2; status=1; }
    unzip -q -o "$OUT/${name}_seed_corpus.zip" -d "$corpus"
    mapfile -t flags < <("$root/fuzz/libfuzzer-flags.sh" "${name#fuzz_}")
    [[ -f "$OUT/$name.options" ]] || { echo "missing $name.options" >&2; status=1; }
    if (cd "$scratch" && "$fuzzer" "${flags[@]}" -runs="$runs" -timeout=25 "$corpus") \
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
