#!/usr/bin/env bash
# Clang source-based coverage of src/ over every test: unit, property and
# corpus replay (ctest --preset coverage). Writes an HTML report to
# build/coverage/html/, the uncovered lines of src/ to
# build/coverage/uncovered.txt, and prints one summary line (also in
# build/coverage/summary.txt):
#   coverage src/: lines L% (covered/total), branches B% (covered/total)
# Exits non-zero when src/ is below the bar: 100% of lines and 95% of
# branches of the code compiled on Linux. Files left out of the bar are
# listed, each with its reason, in sanitizers/coverage-exceptions.txt.
#
#   scripts/coverage.sh [--no-bar]      (--no-bar: report only, exit 0)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
enforce=1
[[ "${1:-}" == --no-bar ]] && enforce=0
line_bar=100
branch_bar=95
out="$root/build/coverage"
llvm_cov="$(command -v llvm-cov-14 || command -v llvm-cov)"
llvm_profdata="$(command -v llvm-profdata-14 || command -v llvm-profdata)"

# ccache with a base_dir rewrites the sources' paths to relative ones, and
# the report would no longer find src/ in them.
unset CCACHE_BASEDIR
cmake --preset coverage >/dev/null
cmake --build --preset coverage -j "${JOBS:-2}"
rm -rf "$out/profraw" "$out/html" "$out/summary.txt"
mkdir -p "$out/profraw"
# The preset sets LLVM_PROFILE_FILE=build/coverage/profraw/%c%p.profraw: one
# file per process, so forked children and death tests add theirs. %c
# (continuous mode, with -mllvm -runtime-counter-relocation in the preset's
# flags) keeps the counters in the mapped file as they change, so a child
# that dies of a signal (the trap handler's default-action path, T3) counts too.
ctest --preset coverage
"$llvm_profdata" merge -sparse -o "$out/all.profdata" "$out"/profraw/*.profraw

# Every test executable of the build; the first is the object, the rest -object.
mapfile -t binaries < <(find "$out/tests" "$out/proptests" "$out/fuzz" -maxdepth 1 -type f \
  -perm -u+x \( -name 'wrt_platform_*' -o -name 'fuzz_*_replay' \) | sort)
objects=("${binaries[0]}")
for b in "${binaries[@]:1}"; do objects+=(-object "$b"); done

# Exceptions: one path (relative to the repository) per line, '#' comments.
ignore='$^'
while read -r path; do
  ignore+="|^$root/$path\$"
done < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' sanitizers/coverage-exceptions.txt)
cov_args=(-instr-profile="$out/all.profdata" -ignore-filename-regex="$ignore")
# Each fuzz replay binary has its own LLVMFuzzerTestOneInput (and main):
# same name, different code. llvm-cov warns about that; it is expected.
quiet() { "$@" 2> >(grep -avE 'functions have mismatched data|^.\[0m$' >&2); }

quiet "$llvm_cov" show "${objects[@]}" "${cov_args[@]}" -format=html -show-branches=count \
  -output-dir="$out/html" "$root/src" >/dev/null
# Uncovered lines of src/, as file:line, for the gap list.
quiet "$llvm_cov" show "${objects[@]}" "${cov_args[@]}" -format=text -show-instantiations=false \
  "$root/src" | awk -v root="$root/" '
    /^\/.*:$/ { file = substr($0, 1, length($0) - 1); sub(root, "", file); next }
    match($0, /^ *[0-9]+\| *0\|/) { split($0, f, "|"); gsub(/ /, "", f[1]); print file ":" f[1] }
  ' >"$out/uncovered.txt"

quiet "$llvm_cov" export "${objects[@]}" "${cov_args[@]}" -summary-only "$root/src" >"$out/summary.json"
read -r lines_pct lines_cov lines_n branches_pct branches_cov branches_n < <(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["data"][0]["totals"]
l, b = t["lines"], t["branches"]
print("%.2f %d %d %.2f %d %d" % (l["percent"], l["covered"], l["count"], b["percent"], b["covered"], b["count"]))
' "$out/summary.json")

verdict="meets the bar (${line_bar}% lines, ${branch_bar}% branches)"
status=0
if python3 -c "import sys; sys.exit(0 if float('$lines_pct') >= $line_bar and float('$branches_pct') >= $branch_bar else 1)"; then :; else
  verdict="BELOW the bar (${line_bar}% lines, ${branch_bar}% branches); uncovered lines: build/coverage/uncovered.txt"
  status=$enforce
fi
echo "coverage src/: lines ${lines_pct}% (${lines_cov}/${lines_n}), branches ${branches_pct}% (${branches_cov}/${branches_n}) - $verdict; report: build/coverage/html/index.html" |
  tee "$out/summary.txt"
exit "$status"
