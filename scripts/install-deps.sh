#!/usr/bin/env bash
# Installs the Debian packages wrt-platform builds with; does nothing when
# they are all present. Needs root (or sudo) only when something is missing.
set -euo pipefail
packages=(g++ clang clang-format llvm libclang-rt-14-dev cmake ninja-build pkg-config zip
          googletest libgtest-dev libgmock-dev librapidcheck-dev libexpected-dev libbenchmark-dev
          python3)
# The cross presets (clause X, README "Platforms"): i686 and aarch64 use
# Debian's cross compilers with the i386/arm64 multiarch builds of the test
# libraries (qemu-user runs aarch64); windows uses mingw-w64 (posix threads)
# with GoogleTest built from the googletest source package, run by Wine.
foreign_architectures=(i386 arm64)
packages+=(g++-i686-linux-gnu libgtest-dev:i386 libgmock-dev:i386 librapidcheck-dev:i386
           g++-aarch64-linux-gnu libgtest-dev:arm64 libgmock-dev:arm64 librapidcheck-dev:arm64
           qemu-user g++-mingw-w64-x86-64-posix wine64)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "install-deps: all ${#packages[@]} packages present"; exit 0; }
echo "install-deps: installing ${missing[*]}"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
for arch in "${foreign_architectures[@]}"; do
  dpkg --print-foreign-architectures | grep -qx "$arch" || $sudo dpkg --add-architecture "$arch"
done
# A mirror caught mid-sync fails one index; the install below still fails
# if a package is really missing.
$sudo apt-get update -qq || echo "install-deps: apt-get update reported errors, trying anyway" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
