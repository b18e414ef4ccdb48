#!/usr/bin/env bash
# Builds the benchmarks (Release, build/bench), runs the whole suite once
# with repetitions, and writes docs/BENCHMARKS.md (the table of ratios
# against the raw calls and alternatives) and docs/bench-grow.svg (grow cost
# against memory size).
#
#   bash scripts/bench-report.sh
#
# Environment:
#   WRT_BENCH_REPETITIONS  repetitions of every benchmark but the ping-pong,
#                          which sets its own (default 5; the report uses the
#                          median)
#   WRT_BENCH_MIN_TIME     seconds per repetition (default 0.05)
#   WRT_BENCH_RUNS         whole runs (default 1); with more, the report
#                          keeps the quietest (lowest median coefficient of
#                          variation across repetitions)
#   WRT_BENCH_NICE         niceness of build and run (default 10: the machine
#                          is usually shared; 0 on a quiet machine)
#   CXX                    compiler (default clang++)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/bench"
repetitions=${WRT_BENCH_REPETITIONS:-5}
min_time=${WRT_BENCH_MIN_TIME:-0.05}
runs=${WRT_BENCH_RUNS:-1}
niceness=${WRT_BENCH_NICE:-10}
run_nice=(nice -n "$niceness")

"${run_nice[@]}" cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="${CXX:-clang++}" -DWRT_PLATFORM_BUILD_TESTS=OFF \
  -DWRT_PLATFORM_BUILD_FUZZ_REPLAY=OFF -DWRT_PLATFORM_BUILD_BENCHMARKS=ON \
  -DWRT_PLATFORM_FAULT_INJECTION=OFF >/dev/null
"${run_nice[@]}" cmake --build "$build" -j2 --target wrt_platform_bench

results=()
for run in $(seq 1 "$runs"); do
  out="$build/bench-run-$run.json"
  echo "bench-report: run $run of $runs ($repetitions repetitions x ${min_time}s)" >&2
  # Random interleaving spreads each benchmark's repetitions over the run,
  # so that a burst of load from elsewhere does not hit one side of a ratio.
  "${run_nice[@]}" "$build/bench/wrt_platform_bench" \
    --benchmark_repetitions="$repetitions" --benchmark_min_time="$min_time" \
    --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
    --benchmark_out="$out" --benchmark_out_format=json >&2
  results+=("$out")
done

python3 "$root/bench/report.py" --build "$build" --nice "$niceness" \
  --markdown "$root/docs/BENCHMARKS.md" --svg "$root/docs/bench-grow.svg" "${results[@]}"
echo "bench-report: wrote docs/BENCHMARKS.md and docs/bench-grow.svg" >&2
