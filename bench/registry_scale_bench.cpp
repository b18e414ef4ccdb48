// The trap registry at scale (docs/SPEC.md S1, S2): with 1, 1,000 and 15,000
// memories of 4 GiB + 4 GiB live, the round trip of one trap in the memory
// allocated last, and one allocate + deallocate of another such memory (goal:
// at 15,000 within 1.1x of the figure at 1). And how many of these memories
// one process holds before the OS refuses the next (goal: at least 15,000).
// BM_RawMapUnmap_LiveMemories: the same system calls without the library.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench_support.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"
#include "wrt/platform/trap.hpp"

namespace wrt::platform::bench {
namespace {

constexpr std::size_t k4GiB = std::size_t{1} << 32;
constexpr PageAllocatorConfig kWide{.guard_bytes = k4GiB, .reservation_bytes = k4GiB};

// `count` live memories of 4 GiB + 4 GiB, one committed page each; empty
// when the OS refused one.
std::vector<MmapPageAllocator> live_memories(std::size_t count) {
  std::vector<MmapPageAllocator> memories;
  memories.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    MmapPageAllocator a(kWide);
    if (!a.allocate(1, 1)) return {};
    memories.push_back(std::move(a));
  }
  return memories;
}

std::uint32_t load32(const std::byte* p) {
  return *reinterpret_cast<const volatile std::uint32_t*>(p);
}

void BM_TrapRoundTrip_LiveMemories(benchmark::State& state) {
  const auto memories = live_memories(static_cast<std::size_t>(state.range(0)));
  if (!check(state, !memories.empty() && install_trap_handler(), "allocate or install failed"))
    return;
  const std::byte* const uncommitted = memories.back().base() + kWasmPageSize;
  std::int64_t traps = 0;
  for (auto _ : state) {
    auto trap = catch_traps([&] { (void)load32(uncommitted); });
    traps += trap && trap->address == uncommitted;
  }
  check(state, traps == state.iterations(), "an access did not trap at the right address");
}
BENCHMARK(BM_TrapRoundTrip_LiveMemories)->Arg(1)->Arg(1'000)->Arg(15'000);

// With range(0) - 1 memories live, allocate and deallocate one more.
void BM_AllocateDeallocate_LiveMemories(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const auto memories = live_memories(count - 1);
  if (!check(state, count == 1 || !memories.empty(), "allocate failed")) return;
  MmapPageAllocator a(kWide);
  bool ok = true;
  for (auto _ : state) {
    auto m = a.allocate(1, 1);
    ok = ok && m && a.deallocate(m->base, m->committed_bytes);
  }
  check(state, ok, "allocate or deallocate failed");
}
BENCHMARK(BM_AllocateDeallocate_LiveMemories)->Arg(1)->Arg(1'000)->Arg(15'000);

// The kernel's share: the same mmap + mprotect + munmap, raw, with the same
// memories live (its own map of the address space grows with them too).
void BM_RawMapUnmap_LiveMemories(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const auto memories = live_memories(count - 1);
  if (!check(state, count == 1 || !memories.empty(), "allocate failed")) return;
  const std::size_t bytes = 2 * k4GiB + kWasmPageSize;
  bool ok = true;
  for (auto _ : state) {
    std::byte* const p = raw_map(bytes, PROT_NONE);
    ok = ok && p != nullptr && mprotect(p, kWasmPageSize, PROT_READ | PROT_WRITE) == 0 &&
         munmap(p, bytes) == 0;
  }
  check(state, ok, "mmap, mprotect or munmap failed");
}
BENCHMARK(BM_RawMapUnmap_LiveMemories)->Arg(1)->Arg(1'000)->Arg(15'000);

// Allocates until the OS refuses: the count is the "memories" counter.
void BM_MemoriesOneProcessHolds(benchmark::State& state) {
  std::size_t held = 0;
  for (auto _ : state) {
    std::vector<MmapPageAllocator> memories;
    memories.reserve(20'000);
    for (;;) {
      MmapPageAllocator a(kWide);
      if (!a.allocate(0, 1)) break;
      memories.push_back(std::move(a));
    }
    held = memories.size();
  }
  state.counters["memories"] = static_cast<double>(held);
  check(state, held > 0, "no memory could be allocated");
}
BENCHMARK(BM_MemoriesOneProcessHolds)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wrt::platform::bench
