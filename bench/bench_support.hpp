// Shared by the benchmarks: result checks that stop a benchmark instead of
// letting it report a number for work it did not do, and the raw system
// calls the library is measured against.
//
// Baselines call the OS directly (syscall(SYS_futex), mmap, mprotect,
// munmap) or the standard library, never the library's internals, so every
// ratio compares the public API with what a caller would write by hand.
#pragma once

#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform::bench {

// The memory every allocator benchmark reserves: a whole wasm32 memory
// (4 GiB) followed by a 2 GiB guard, as a runtime with bounds-check
// elimination maps it.
inline constexpr std::uint32_t kMaximumPages = 65536;
inline constexpr std::size_t kGuardBytes = std::size_t{2} << 30;
inline constexpr PageAllocatorConfig kConfig{.maximum_pages = kMaximumPages,
                                             .guard_bytes = kGuardBytes};
inline constexpr std::size_t kReservationBytes = std::size_t{kMaximumPages} * kWasmPageSize;

// Returns `ok`; when it is false, marks the benchmark failed with `why` so
// that it reports an error instead of a time. The caller then leaves its loop.
inline bool check(benchmark::State& state, bool ok, const char* why) {
  if (!ok) state.SkipWithError(why);
  return ok;
}

// Keeps a loop's result from being optimised away. By value: with
// DoNotOptimize(sum) the loop's own accumulator escaped, and clang then kept
// it in memory across every acquire load of a checked access (a store and a
// reload per iteration, the benchmark's cost rather than the library's).
template <typename T>
void keep_result(T result) {
  benchmark::DoNotOptimize(result);
}

// futex(2) without a timeout, as a caller with no wrapper writes it.
inline long raw_futex(const void* addr, int op, std::uint32_t value) {
  return syscall(SYS_futex, addr, op, value, nullptr, nullptr, 0);
}

// An anonymous private mapping with `prot`, or nullptr.
inline std::byte* raw_map(std::size_t bytes, int prot) {
  void* p = mmap(nullptr, bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
}

inline std::size_t os_page_bytes() {
  static const auto bytes = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return bytes;
}

// Writes one byte in every OS page of [p, p + bytes): the first access to
// a committed page, which makes the OS back it with zeroed memory.
// ClobberMemory, not DoNotOptimize(p[i]): with the latter, g++ 12 -O2 built
// a loop whose stores never reached memory (seen by bench-smoke).
inline void touch_pages(std::byte* p, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; i += os_page_bytes()) p[i] = std::byte{1};
  benchmark::ClobberMemory();
}

// Runs `setup` with the benchmark's timers stopped and returns its result,
// for per-iteration preparation that must not be measured.
template <typename Setup>
auto untimed(benchmark::State& state, Setup&& setup) {
  state.PauseTiming();
  auto result = setup();
  state.ResumeTiming();
  return result;
}

}  // namespace wrt::platform::bench
