#!/bin/bash -eu
# OSS-Fuzz build script for wrt-platform. Follows the OSS-Fuzz contract:
# compiles with $CXX $CXXFLAGS (sanitizer and coverage flags included),
# links with $LIB_FUZZING_ENGINE, builds in $WORK and puts every fuzzer with
# its <fuzzer>_seed_corpus.zip, .options and .dict into $OUT.
# Two builds of the library: a release-like one for most harnesses, and one
# with WRT_PLATFORM_FAULT_INJECTION=ON (the system-call seam) for
# fuzz_allocator_faults, which fails mmap/mprotect/munmap on purpose.
# scripts/oss-fuzz-local.sh runs this script outside Docker.

project="${WRT_PLATFORM_SRC:-$SRC/wrt-platform}"

# tl::expected: the Docker image clones it; a local run may use the system's.
cmake_prefix=""
if [[ -d "$SRC/expected" ]]; then
  cmake -S "$SRC/expected" -B "$WORK/expected-build" -DEXPECTED_BUILD_TESTS=OFF \
    -DCMAKE_INSTALL_PREFIX="$WORK/deps" >/dev/null
  cmake --install "$WORK/expected-build" >/dev/null
  cmake_prefix="$WORK/deps"
fi

build() {  # <build dir> <fault injection ON|OFF>
  cmake -S "$project" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE= \
    -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
    -DCMAKE_PREFIX_PATH="$cmake_prefix" \
    -DWRT_PLATFORM_BUILD_FUZZERS=ON -DWRT_PLATFORM_BUILD_TESTS=OFF \
    -DWRT_PLATFORM_BUILD_FUZZ_REPLAY=OFF -DWRT_PLATFORM_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
    -DWRT_PLATFORM_FAULT_INJECTION="$2"
  cmake --build "$1" -j "$(nproc)"
}

build "$WORK/wrt-fuzz" OFF
build "$WORK/wrt-fuzz-faults" ON

for source in "$project"/fuzz/fuzz_*.cpp; do
  fuzzer="$(basename "$source" .cpp)"
  harness="${fuzzer#fuzz_}"
  dir="$WORK/wrt-fuzz"
  if [[ "$harness" == allocator_faults ]]; then dir="$WORK/wrt-fuzz-faults"; fi
  cp "$dir/fuzz/$fuzzer" "$OUT/"
  if [[ -d "$project/fuzz/corpus/$harness" ]]; then
    rm -f "$OUT/${fuzzer}_seed_corpus.zip"
    (cd "$project/fuzz/corpus/$harness" && zip -q -r "$OUT/${fuzzer}_seed_corpus.zip" .)
  fi
  if [[ -f "$project/fuzz/options/$harness.options" ]]; then
    cp "$project/fuzz/options/$harness.options" "$OUT/$fuzzer.options"
  fi
  if [[ -f "$project/fuzz/dict/$harness.dict" ]]; then
    cp "$project/fuzz/dict/$harness.dict" "$OUT/$fuzzer.dict"
  fi
done
