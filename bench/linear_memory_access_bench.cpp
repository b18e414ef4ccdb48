// LinearMemory's accessors (docs/SPEC.md, E3-E5) against what an
// interpreter writes by hand: a loop of checked load<std::uint32_t> against
// a raw pointer loop with an explicit bounds check (goal <= 1.2x),
// atomic_rmw<std::uint32_t>(Add) against std::atomic_ref::fetch_add
// (<= 1.1x), 1 MiB fill / copy against memset / memmove (>= 0.9x the
// throughput). Unshared memories (shared ones use relaxed atomics, E).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "bench_support.hpp"
#include "wrt/platform/linear_memory.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

namespace wrt::platform::bench {
namespace {

using Memory = LinearMemory<MmapPageAllocator>;
constexpr std::uint32_t kPages = 32;  // 2 MiB: a 1 MiB source and destination
constexpr std::size_t kMiB = std::size_t{1} << 20;

std::optional<Memory> memory_of(std::uint32_t pages) {
  auto memory = Memory::create(MmapPageAllocator(PageAllocatorConfig{pages, 0}),
                               MemoryType{pages, pages, false});
  if (!memory) return std::nullopt;
  std::memset(memory->data(), 1, static_cast<std::size_t>(memory->byte_length()));
  return std::move(*memory);
}

// Sums every u32 of the first 64 KiB, checked by the library.
void BM_LoadU32_Checked(benchmark::State& state) {
  auto memory = memory_of(1);
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    std::uint32_t sum = 0;
    for (std::uint64_t address = 0; address < kWasmPageSize; address += 4) {
      const auto value = memory->load<std::uint32_t>(address);
      if (!value) break;
      sum += *value;
    }
    keep_result(sum);
  }
  state.SetItemsProcessed(state.iterations() * (kWasmPageSize / 4));
}
BENCHMARK(BM_LoadU32_Checked);

// The same with a raw pointer and the check an interpreter writes; the
// length is re-read each time as the checked loop must (memory.grow). It
// lives where other code can see it, as an interpreter's memory object
// does: a length only this function could see was kept in a register by
// clang (the acquire load hoisted out of the loop), a check no interpreter
// that grows memories can make.
void BM_LoadU32_RawWithBoundsCheck(benchmark::State& state) {
  auto memory = memory_of(1);
  if (!check(state, memory.has_value(), "create failed")) return;
  std::atomic<std::uint64_t> length{memory->byte_length()};
  benchmark::DoNotOptimize(&length);  // its address escapes
  const std::byte* base = memory->data();
  for (auto _ : state) {
    std::uint32_t sum = 0;
    for (std::uint64_t address = 0; address < kWasmPageSize; address += 4) {
      const std::uint64_t end = length.load(std::memory_order_acquire);
      if (address > end || 4 > end - address) break;
      std::uint32_t value;
      std::memcpy(&value, base + address, 4);
      sum += value;
    }
    keep_result(sum);
  }
  state.SetItemsProcessed(state.iterations() * (kWasmPageSize / 4));
}
BENCHMARK(BM_LoadU32_RawWithBoundsCheck);

void BM_AtomicRmwAdd(benchmark::State& state) {
  auto memory = memory_of(1);
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state)
    benchmark::DoNotOptimize(memory->atomic_rmw<std::uint32_t>(RmwOp::Add, 64, 1));
}
BENCHMARK(BM_AtomicRmwAdd);

void BM_AtomicRefFetchAdd(benchmark::State& state) {
  auto memory = memory_of(1);
  if (!check(state, memory.has_value(), "create failed")) return;
  std::atomic_ref<std::uint32_t> word(*reinterpret_cast<std::uint32_t*>(memory->data() + 64));
  for (auto _ : state) benchmark::DoNotOptimize(word.fetch_add(1));
}
BENCHMARK(BM_AtomicRefFetchAdd);

void BM_Fill1MiB(benchmark::State& state) {
  auto memory = memory_of(kPages);
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    if (!check(state, memory->fill(0, 7, kMiB).has_value(), "fill failed")) break;
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kMiB));
}
BENCHMARK(BM_Fill1MiB);

void BM_Memset1MiB(benchmark::State& state) {
  auto memory = memory_of(kPages);
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    std::memset(memory->data(), 7, kMiB);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kMiB));
}
BENCHMARK(BM_Memset1MiB);

void BM_Copy1MiB(benchmark::State& state) {
  auto memory = memory_of(kPages);
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    if (!check(state, memory->copy(kMiB, 0, kMiB).has_value(), "copy failed")) break;
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kMiB));
}
BENCHMARK(BM_Copy1MiB);

void BM_Memmove1MiB(benchmark::State& state) {
  auto memory = memory_of(kPages);
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    std::memmove(memory->data() + kMiB, memory->data(), kMiB);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kMiB));
}
BENCHMARK(BM_Memmove1MiB);

// memory.atomic.wait32 whose value differs: NotEqual from the load before
// the bucket lock (goal <= 4 ns; issue 19 measured V8 at 42 ns).
void BM_Wait32NotEqual(benchmark::State& state) {
  auto memory =
      Memory::create(MmapPageAllocator(PageAllocatorConfig{1, 0}), MemoryType{1, 1, true});
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    const auto waited = memory->atomic_wait32(0, 1, -1);
    if (!check(state, waited == WaitResult::NotEqual, "not NotEqual")) break;
  }
}
BENCHMARK(BM_Wait32NotEqual);

}  // namespace
}  // namespace wrt::platform::bench
