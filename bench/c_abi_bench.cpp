// The C ABI's cost over the C++ call (docs/SPEC.md C1, goal <= 1.05x): a
// checked 32-bit load and memory.atomic.notify with nobody waiting, each
// through include/wrt/platform.h and through LinearMemory directly, on
// memories of the same type. The C++ load is also measured through a call
// the compiler may not inline, which is what any C entry point costs at
// least: the wrapper's own share is the C ABI against that.
#include <cstdint>
#include <optional>

#include "bench_support.hpp"
#include "wrt/platform.h"
#include "wrt/platform/linear_memory.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

namespace wrt::platform::bench {
namespace {

using Memory = LinearMemory<MmapPageAllocator>;
constexpr std::uint64_t kWords = kWasmPageSize / 4;

std::optional<Memory> cpp_memory(bool shared) {
  auto memory =
      Memory::create(MmapPageAllocator(PageAllocatorConfig{1, 0}), MemoryType{1, 1, shared});
  if (!memory) return std::nullopt;
  return std::move(*memory);
}

// A C ABI memory of the same type; null on failure.
wrt_memory* c_memory(bool shared) {
  const wrt_allocator_config config{1, 0, 0};
  const wrt_memory_type type{1, 1, true, shared, WRT_INDEX_I32, WRT_WASM_PAGE_SIZE};
  wrt_allocator* allocator = nullptr;
  wrt_memory* memory = nullptr;
  if (wrt_mmap_allocator_create(&config, &allocator) != WRT_OK) return nullptr;
  if (wrt_memory_create(&allocator, &type, &memory) != WRT_OK) return nullptr;
  return memory;
}

// Sums every u32 of the page, as BM_LoadU32_Checked does.
void BM_CAbiLoadU32_Cpp(benchmark::State& state) {
  auto memory = cpp_memory(false);
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    std::uint32_t sum = 0;
    for (std::uint64_t address = 0; address < kWords * 4; address += 4) {
      const auto value = memory->load<std::uint32_t>(address);
      if (!value) break;
      sum += *value;
    }
    keep_result(sum);
  }
  state.SetItemsProcessed(state.iterations() * kWords);
}
BENCHMARK(BM_CAbiLoadU32_Cpp);

[[gnu::noinline]] Result<std::uint32_t> load_out_of_line(const Memory& memory,
                                                         std::uint64_t address) {
  return memory.load<std::uint32_t>(address);
}

void BM_CAbiLoadU32_CppOutOfLine(benchmark::State& state) {
  auto memory = cpp_memory(false);
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    std::uint32_t sum = 0;
    for (std::uint64_t address = 0; address < kWords * 4; address += 4) {
      const auto value = load_out_of_line(*memory, address);
      if (!value) break;
      sum += *value;
    }
    keep_result(sum);
  }
  state.SetItemsProcessed(state.iterations() * kWords);
}
BENCHMARK(BM_CAbiLoadU32_CppOutOfLine);

void BM_CAbiLoadU32_C(benchmark::State& state) {
  wrt_memory* memory = c_memory(false);
  if (!check(state, memory != nullptr, "create failed")) return;
  for (auto _ : state) {
    std::uint32_t sum = 0;
    for (std::uint64_t address = 0; address < kWords * 4; address += 4) {
      std::uint32_t value;
      if (wrt_memory_load_u32(memory, address, &value) != WRT_OK) break;
      sum += value;
    }
    keep_result(sum);
  }
  state.SetItemsProcessed(state.iterations() * kWords);
  wrt_memory_destroy(memory);
}
BENCHMARK(BM_CAbiLoadU32_C);

void BM_CAbiNotifyNoWaiters_Cpp(benchmark::State& state) {
  auto memory = cpp_memory(true);
  if (!check(state, memory.has_value(), "create failed")) return;
  for (auto _ : state) {
    const auto woken = memory->atomic_notify(64, 1);
    if (!check(state, woken == std::uint32_t{0}, "notify woke someone or failed")) break;
  }
}
BENCHMARK(BM_CAbiNotifyNoWaiters_Cpp);

void BM_CAbiNotifyNoWaiters_C(benchmark::State& state) {
  wrt_memory* memory = c_memory(true);
  if (!check(state, memory != nullptr, "create failed")) return;
  for (auto _ : state) {
    std::uint32_t woken = 1;
    const bool ok = wrt_memory_notify(memory, 64, 1, &woken) == WRT_OK && woken == 0;
    if (!check(state, ok, "notify woke someone or failed")) break;
  }
  wrt_memory_destroy(memory);
}
BENCHMARK(BM_CAbiNotifyNoWaiters_C);

}  // namespace
}  // namespace wrt::platform::bench
