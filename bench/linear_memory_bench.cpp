// LinearMemory's atomics and grow (docs/SPEC.md, W) against what they
// replace: the wait32/notify ping-pong against the raw futex(2) ping-pong
// (BM_PingPong<RawFutexChannel>, futex_bench.cpp, same run), wait64 against
// wait32, notify with nobody waiting against a raw FUTEX_WAKE
// (BM_FutexWakeNoWaiters_Raw), notify of all among 64 sleepers against one
// raw FUTEX_WAKE of 64, and the grow of a shared memory (mutex + release
// store) against an unshared one.
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "ping_pong.hpp"
#include "wrt/platform/linear_memory.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

namespace wrt::platform::bench {
namespace {

using Memory = LinearMemory<MmapPageAllocator>;

std::optional<Memory> shared_memory(std::uint32_t maximum_pages = 1) {
  auto memory = Memory::create(MmapPageAllocator(PageAllocatorConfig{maximum_pages, 0}),
                               MemoryType{1, maximum_pages, true});
  if (!memory) return std::nullopt;
  return std::move(*memory);
}

// memory.atomic.wait32 / wait64 and notify on the word at 0 of a shared
// memory; the 64-bit channel keeps the turn in the low half.
template <bool kWide>
struct WasmChannel {
  Memory memory = *shared_memory();

  std::uint32_t load() const {
    if constexpr (kWide)
      return static_cast<std::uint32_t>(
          std::atomic_ref(*reinterpret_cast<std::uint64_t*>(memory.data())).load());
    return std::atomic_ref(*reinterpret_cast<std::uint32_t*>(memory.data())).load();
  }
  bool publish(std::uint32_t value) {
    if constexpr (kWide)
      std::atomic_ref(*reinterpret_cast<std::uint64_t*>(memory.data())).store(value);
    else
      std::atomic_ref(*reinterpret_cast<std::uint32_t*>(memory.data())).store(value);
    return memory.atomic_notify(0, 1).has_value();
  }
  bool wait_while(std::uint32_t value) {
    while (load() == value) {
      const auto waited =
          kWide ? memory.atomic_wait64(0, value, -1) : memory.atomic_wait32(0, value, -1);
      if (!waited) return false;
    }
    return true;
  }
};
using Wait32Channel = WasmChannel<false>;
using Wait64Channel = WasmChannel<true>;
BENCHMARK_TEMPLATE(BM_PingPong, Wait32Channel)->Apply(ping_pong_runs);
BENCHMARK_TEMPLATE(BM_PingPong, Wait64Channel)->Apply(ping_pong_runs);

void BM_NotifyNoWaiters_Ours(benchmark::State& state) {
  auto memory = shared_memory();
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    const auto woken = memory->atomic_notify(0, 1);
    if (!check(state, woken && *woken == 0, "atomic_notify did not return 0")) break;
  }
}
BENCHMARK(BM_NotifyNoWaiters_Ours);

// True when every thread in `tids` is blocked in futex(2).
bool all_blocked_in_futex(const std::vector<std::atomic<pid_t>>& tids) {
  for (const auto& tid : tids) {
    std::ifstream file("/proc/self/task/" + std::to_string(tid.load()) + "/syscall");
    long number = -1;
    if (!(file >> number) || number != SYS_futex) return false;
  }
  return true;
}

constexpr std::uint32_t kSleepers = 64;

// One iteration: with all 64 threads asleep (set up outside the timed
// part), one call that wakes them all; its time is the measure
// (UseManualTime). The threads then wait again.
template <typename Sleepers>
void BM_WakeAllOf64(benchmark::State& state) {
  Sleepers sleepers;
  std::vector<std::atomic<pid_t>> tids(kSleepers);
  std::atomic<bool> stop{false};
  std::atomic<std::uint32_t> exited{0};
  std::vector<std::thread> threads;
  for (std::uint32_t i = 0; i < kSleepers; ++i)
    threads.emplace_back([&, i] {
      tids[i].store(static_cast<pid_t>(syscall(SYS_gettid)));
      while (!stop.load()) sleepers.sleep();
      exited.fetch_add(1);
    });
  bool ok = true;
  for (auto _ : state) {
    while (!(sleepers.ready() && all_blocked_in_futex(tids))) std::this_thread::yield();
    const auto start = std::chrono::steady_clock::now();
    const std::uint32_t woken = sleepers.wake_all();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ok = woken == kSleepers;
    if (!ok) break;
  }
  stop.store(true);
  while (exited.load() < kSleepers) {  // a thread may go back to sleep once more
    sleepers.wake_all();
    std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  check(state, ok, "a wake-all did not wake exactly the 64 sleepers");
}

struct WasmSleepers {
  Memory memory = *shared_memory();
  void sleep() { (void)memory.atomic_wait32(0, 0, -1); }
  bool ready() const { return detail::atomic_waiters_at(memory.data()) == kSleepers; }
  std::uint32_t wake_all() { return memory.atomic_notify(0, UINT32_MAX).value_or(0); }
};

struct RawSleepers {
  alignas(64) std::atomic<std::uint32_t> word{0};
  void sleep() { (void)raw_futex(&word, FUTEX_WAIT_PRIVATE, 0); }
  static bool ready() { return true; }  // all_blocked_in_futex decides
  std::uint32_t wake_all() {
    const long woken = raw_futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX);
    return woken < 0 ? 0 : static_cast<std::uint32_t>(woken);
  }
};
BENCHMARK_TEMPLATE(BM_WakeAllOf64, WasmSleepers)->UseManualTime()->MinTime(0.02);
BENCHMARK_TEMPLATE(BM_WakeAllOf64, RawSleepers)->UseManualTime()->MinTime(0.02);

// memory.grow by one page, shared (mutex, release store) or not; a full
// memory is replaced outside the timed part.
constexpr std::uint32_t kGrowMaximum = 4096;

template <bool kShared>
void BM_LinearMemoryGrow(benchmark::State& state) {
  constexpr std::uint32_t kMaximum = kGrowMaximum;
  const auto make = [] {
    return Memory::create(MmapPageAllocator(PageAllocatorConfig{kGrowMaximum, 0}),
                          MemoryType{0, kGrowMaximum, kShared});
  };
  auto memory = make();
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    if (memory->size() == kMaximum) {
      state.PauseTiming();
      memory = make();
      state.ResumeTiming();
      if (!check(state, memory.has_value(), "create failed")) break;
    }
    const std::uint32_t before = memory->size();
    const auto previous = memory->grow(1);
    if (!check(state, previous && *previous == before, "grow did not return the size")) break;
  }
}
BENCHMARK_TEMPLATE(BM_LinearMemoryGrow, true);
BENCHMARK_TEMPLATE(BM_LinearMemoryGrow, false);

}  // namespace
}  // namespace wrt::platform::bench
