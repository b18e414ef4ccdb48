// MemoryPool against what a runtime does without it (docs/BENCHMARKS.md,
// "Memory pool"): a fresh MmapPageAllocator memory per instance (4 GiB + 2 GiB
// guard: mmap, mprotect, page faults, munmap), and data segments copied
// with memcpy instead of mapped copy-on-write from a MemoryImage. Also the
// reset cost by memory size and keep_resident_bytes, the release of a large
// kept memory of which one page was written against a memset of it (M7), and
// two threads acquiring and releasing at once.
#include <chrono>
#include <cstring>
#include <optional>
#include <vector>

#include "bench_support.hpp"
#include "wrt/platform/memory_pool.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

namespace wrt::platform::bench {
namespace {

constexpr std::size_t kImageBytes = std::size_t{1} << 20;  // 1 MiB of data segments
constexpr std::uint32_t kImagePages = kImageBytes / kWasmPageSize;

std::optional<MemoryPool> make_pool(std::uint32_t slots, std::size_t keep_resident) {
  auto pool = MemoryPool::create({slots, kMaximumPages, kGuardBytes, keep_resident});
  if (!pool) return std::nullopt;
  return std::move(*pool);
}

const std::vector<std::byte>& image_bytes() {
  static const std::vector<std::byte> bytes = [] {
    std::vector<std::byte> b(kImageBytes);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::byte>(i * 31 + 7);
    return b;
  }();
  return bytes;
}

// One instance's memory on `allocator`: allocate one page, write it, hand it
// back. False (the error reported to `state`) when a step failed.
template <PageAllocator A>
bool run_instance(benchmark::State& state, A& allocator) {
  const auto m = allocator.allocate(1);
  if (!check(state, m.has_value() && m->base[100] == std::byte{0}, "allocate failed")) return false;
  m->base[100] = std::byte{1};
  benchmark::ClobberMemory();
  return check(state, allocator.deallocate(m->base, m->committed_bytes).has_value(),
               "deallocate failed");
}

// The same on a slot acquired from `pool`, released at the end.
bool run_pooled_instance(benchmark::State& state, MemoryPool& pool) {
  auto a = pool.acquire();
  return check(state, a.has_value(), "acquire failed") && run_instance(state, *a);
}

// Acquire, allocate one page, write it, hand it back. Arg:
// keep_resident_bytes (0: the page is madvised away on reset; 65536: zeroed
// in place and kept).
void BM_InstanceMemory_Pooled(benchmark::State& state) {
  const auto keep = static_cast<std::size_t>(state.range(0));
  auto pool = make_pool(4, keep);
  if (!check(state, pool.has_value(), "MemoryPool::create failed")) return;
  for (auto _ : state)
    if (!run_pooled_instance(state, *pool)) break;
}
BENCHMARK(BM_InstanceMemory_Pooled)->Arg(0)->Arg(65536);

// The same with a fresh 4 GiB + 2 GiB reservation per instance.
void BM_InstanceMemory_Mmap(benchmark::State& state) {
  MmapPageAllocator allocator(kConfig);
  for (auto _ : state)
    if (!run_instance(state, allocator)) break;
}
BENCHMARK(BM_InstanceMemory_Mmap);

// An instance whose memory starts with 1 MiB of data segments, of which it
// touches one page (reads a byte, writes a byte), then goes away.
void BM_ImageStart_PooledImage(benchmark::State& state) {
  auto pool = make_pool(4, 0);
  auto image = MemoryImage::create(image_bytes(), 0);
  if (!check(state, pool && image && image->copy_on_write(), "setup failed")) return;
  for (auto _ : state) {
    auto a = pool->acquire(&*image);
    if (!check(state, a.has_value(), "acquire failed")) break;
    const auto m = a->allocate(kImagePages);
    if (!check(state, m.has_value() && m->base[5000] == image_bytes()[5000], "allocate failed"))
      break;
    m->base[5000] = std::byte{1};
    benchmark::ClobberMemory();
    if (!check(state, a->deallocate(m->base, m->committed_bytes).has_value(), "deallocate failed"))
      break;
  }
}
BENCHMARK(BM_ImageStart_PooledImage);

// What a runtime does without images: a fresh memory and a memcpy of the
// data segments. Arg 0: MmapPageAllocator; 1: a pooled memory without image.
void BM_ImageStart_Memcpy(benchmark::State& state) {
  const bool pooled = state.range(0) == 1;
  auto pool = make_pool(4, 0);
  if (!check(state, pool.has_value(), "MemoryPool::create failed")) return;
  MmapPageAllocator mmap_allocator(kConfig);
  for (auto _ : state) {
    std::optional<PooledPageAllocator> pooled_allocator;
    if (pooled) {
      auto a = pool->acquire();
      if (!check(state, a.has_value(), "acquire failed")) break;
      pooled_allocator.emplace(std::move(*a));
    }
    const auto m =
        pooled ? pooled_allocator->allocate(kImagePages) : mmap_allocator.allocate(kImagePages);
    if (!check(state, m.has_value(), "allocate failed")) break;
    std::memcpy(m->base, image_bytes().data(), kImageBytes);
    if (!check(state, m->base[5000] == image_bytes()[5000], "copy lost")) break;
    m->base[5000] = std::byte{1};
    benchmark::ClobberMemory();
    const auto done = pooled ? pooled_allocator->deallocate(m->base, m->committed_bytes)
                             : mmap_allocator.deallocate(m->base, m->committed_bytes);
    if (!check(state, done.has_value(), "deallocate failed")) break;
  }
}
BENCHMARK(BM_ImageStart_Memcpy)->Arg(0)->Arg(1);

// The reset alone (deallocate) of a memory whose every page was written.
// Args: pages written, keep_resident_bytes.
void BM_Reset(benchmark::State& state) {
  const auto pages = static_cast<std::uint32_t>(state.range(0));
  const auto keep = static_cast<std::size_t>(state.range(1));
  auto pool = make_pool(1, keep);
  if (!check(state, pool.has_value(), "MemoryPool::create failed")) return;
  auto a = pool->acquire();
  if (!check(state, a.has_value(), "acquire failed")) return;
  for (auto _ : state) {
    state.PauseTiming();
    const auto m = a->allocate(pages);
    const bool zero = m.has_value() && m->base[m->committed_bytes - 1] == std::byte{0};
    if (m) touch_pages(m->base, m->committed_bytes);
    state.ResumeTiming();
    if (!check(state, zero, "allocate failed or memory not zero")) break;
    if (!check(state, a->deallocate(m->base, m->committed_bytes).has_value(), "deallocate failed"))
      break;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * pages * kWasmPageSize);
}
BENCHMARK(BM_Reset)->ArgsProduct({{1, 16, 256}, {0, 65536, 1 << 20}});

constexpr std::size_t kLargeKept = std::size_t{64} << 20;  // 64 MiB kept resident
constexpr std::uint32_t kLargePages = kLargeKept / kWasmPageSize;

// The release (deallocate) alone of a 64 MiB memory, all of it kept, of
// which the tenant wrote one page: the reset finds the page with
// PAGEMAP_SCAN and zeroes it (M7), where zeroing every kept byte would
// memset 64 MiB. Manual time: only the deallocate is timed.
void BM_ReleaseKept64MiB_OneDirtyPage(benchmark::State& state) {
  auto pool = make_pool(1, kLargeKept);
  if (!check(state, pool.has_value(), "MemoryPool::create failed")) return;
  auto a = pool->acquire();
  if (!check(state, a.has_value(), "acquire failed")) return;
  for (auto _ : state) {
    const auto m = a->allocate(kLargePages);
    if (!check(state, m.has_value() && m->base[12345] == std::byte{0}, "allocate failed")) break;
    m->base[12345] = std::byte{1};
    const auto start = std::chrono::steady_clock::now();
    const bool released = a->deallocate(m->base, m->committed_bytes).has_value();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!check(state, released, "deallocate failed")) break;
  }
}
BENCHMARK(BM_ReleaseKept64MiB_OneDirtyPage)->UseManualTime();

// What zeroing every kept byte costs: a memset of 64 MiB already resident.
void BM_Memset64MiB(benchmark::State& state) {
  static std::vector<std::byte> bytes(kLargeKept, std::byte{1});
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    std::memset(bytes.data(), 0, bytes.size());
    benchmark::ClobberMemory();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
}
BENCHMARK(BM_Memset64MiB)->UseManualTime();

// Acquire + allocate + write + release from 1 and 2 threads at once on one
// default pool (nothing kept: one madvise per release; contention on its
// free list and on the process's page tables), against fresh mmap memories
// (the process's mmap lock).
MemoryPool* shared_pool() {
  static std::optional<MemoryPool> pool = make_pool(8, 0);
  return pool ? &*pool : nullptr;
}

void BM_Threads_Pooled(benchmark::State& state) {
  MemoryPool* pool = shared_pool();
  if (!check(state, pool != nullptr, "MemoryPool::create failed")) return;
  for (auto _ : state)
    if (!run_pooled_instance(state, *pool)) break;
}
BENCHMARK(BM_Threads_Pooled)->Threads(1)->Threads(2)->UseRealTime();

void BM_Threads_Mmap(benchmark::State& state) { BM_InstanceMemory_Mmap(state); }
BENCHMARK(BM_Threads_Mmap)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace wrt::platform::bench
