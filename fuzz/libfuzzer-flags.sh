#!/usr/bin/env bash
# Prints the libFuzzer flags a harness runs with: the [libfuzzer] section of
# fuzz/options/<harness>.options as -key=value, and -dict= for
# fuzz/dict/<harness>.dict when there is one. The same files go to OSS-Fuzz,
# which reads them itself; scripts/fuzz.sh and scripts/oss-fuzz-local.sh use
# this so that local runs match.
#   fuzz/libfuzzer-flags.sh <harness>
set -euo pipefail
fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
harness="$1"
options="$fuzz_dir/options/$harness.options"
if [[ -f "$options" ]]; then
  section=""
  while IFS='=' read -r key value; do
    key="${key//[[:space:]]/}" value="${value//[[:space:]]/}"
    if [[ "$key" == \[*\] ]]; then section="$key"; continue; fi
    if [[ "$section" == "[libfuzzer]" && -n "$key" && "$key" != \#* ]]; then
      printf -- '-%s=%s\n' "$key" "$value"
    fi
  done <"$options"
fi
if [[ -f "$fuzz_dir/dict/$harness.dict" ]]; then printf -- '-dict=%s\n' "$fuzz_dir/dict/$harness.dict"; fi
