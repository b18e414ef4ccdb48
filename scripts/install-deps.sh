#!/usr/bin/env bash
# Installs the Debian packages wrt-platform builds with; does nothing when
# they are all present. Needs root (or sudo) only when something is missing.
set -euo pipefail
packages=(g++ clang clang-format llvm libclang-rt-14-dev cmake ninja-build pkg-config zip
          googletest libgtest-dev libgmock-dev librapidcheck-dev libexpected-dev libbenchmark-dev
          python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "install-deps: all ${#packages[@]} packages present"; exit 0; }
echo "install-deps: installing ${missing[*]}"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
