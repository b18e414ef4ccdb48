#!/usr/bin/env bash
# Installs wrt-platform (release build, no tests) into a scratch prefix, then
# builds and runs against it, as a runtime would: tests/package/consumer.cpp
# twice (through the CMake package wrt_platform::wrt_platform and through
# pkg-config), the C consumer tests/package/consumer.c (pkg-config, strict
# C11), the conformance kit wrt_platform::conformance against the library's
# adapter (tests/package/conformance) and the example guests
# examples/shared_guest.cpp and examples/c_guest.c (CMake package).
# Fails if an install rule, a public name or a package dependency is missing,
# or if a program reports a surprise.
set -euo pipefail
cd "$(dirname "$0")/.."
work=build/check-install
log="$work/check-install.log"
rm -rf "$work"
mkdir -p "$work"
# What ran, one line per program, for the summaries of scripts/test.sh.
ran="$work/ran.txt"
trap 'echo "check-install: failed; last lines of $log:"; tail -20 "$log"' ERR
cmake -S . -B "$work/lib" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWRT_PLATFORM_BUILD_TESTS=OFF \
  -DCMAKE_INSTALL_PREFIX="$PWD/$work/prefix" > "$log"
cmake --build "$work/lib" >> "$log"
cmake --install "$work/lib" >> "$log"

cmake -S tests/package -B "$work/cmake-consumer" -G Ninja -DCMAKE_PREFIX_PATH="$PWD/$work/prefix" \
  >> "$log"
cmake --build "$work/cmake-consumer" >> "$log"
"$work/cmake-consumer/consumer"
echo "  consumer through the CMake package wrt_platform::wrt_platform: ran" >>"$ran"

export PKG_CONFIG_PATH="$PWD/$work/prefix/lib/pkgconfig:$PWD/$work/prefix/lib64/pkgconfig"
# shellcheck disable=SC2046  # pkg-config prints several flags on purpose
c++ -std=c++20 tests/package/consumer.cpp -o "$work/pkg-config-consumer" \
  $(pkg-config --cflags --libs wrt-platform)
"$work/pkg-config-consumer"
echo "  consumer through pkg-config wrt-platform: ran" >>"$ran"
# shellcheck disable=SC2046
cc -std=c11 -pedantic -Wall -Wextra -Werror tests/package/consumer.c -o "$work/pkg-config-c-consumer" \
  $(pkg-config --cflags --libs wrt-platform)
"$work/pkg-config-c-consumer"
echo "  consumer in C through pkg-config wrt-platform: ran" >>"$ran"

# The conformance kit (installed when GoogleTest is found, as here).
cmake -S tests/package/conformance -B "$work/conformance" -G Ninja \
  -DCMAKE_PREFIX_PATH="$PWD/$work/prefix" >> "$log"
cmake --build "$work/conformance" >> "$log"
"$work/conformance/conformance_consumer" >> "$log"
echo "  conformance kit through the CMake package: ran" >>"$ran"

cmake -S examples -B "$work/examples" -G Ninja -DCMAKE_PREFIX_PATH="$PWD/$work/prefix" >> "$log"
cmake --build "$work/examples" >> "$log"
"$work/examples/shared_guest"
echo "  example guest examples/shared_guest.cpp: ran" >>"$ran"
"$work/examples/c_guest"
echo "  example guest in C examples/c_guest.c: ran" >>"$ran"
echo "check-install: CMake package and pkg-config consumers (C++ and C), the conformance kit and the example guests built and ran"
