// MmapPageAllocator against the raw calls it wraps (mmap, mprotect,
// munmap), and growth one page at a time against the realloc-style memory
// of interpreters such as wasm3, which resize a heap block and so may move
// and copy the whole memory on every grow.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "bench_support.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

namespace wrt::platform::bench {
namespace {

// allocate + deallocate of a 4 GiB reservation with a 2 GiB guard:
// `initial` committed pages (0: one mmap and one munmap; 1: an mprotect too).
void BM_AllocateDeallocate_Ours(benchmark::State& state) {
  const auto initial = static_cast<std::uint32_t>(state.range(0));
  MmapPageAllocator allocator(kConfig);
  for (auto _ : state) {
    const Result<Allocation> memory = allocator.allocate(initial);
    if (!check(state, memory.has_value(), "allocate failed")) break;
    if (!check(state, allocator.deallocate(memory->base, memory->committed_bytes).has_value(),
               "deallocate failed"))
      break;
  }
}
BENCHMARK(BM_AllocateDeallocate_Ours)->Arg(0)->Arg(1);

void BM_AllocateDeallocate_Raw(benchmark::State& state) {
  const std::size_t committed = static_cast<std::size_t>(state.range(0)) * kWasmPageSize;
  for (auto _ : state) {
    std::byte* const p = raw_map(kReservationBytes + kGuardBytes, PROT_NONE);
    if (!check(state, p != nullptr, "mmap failed")) break;
    if (committed > 0 &&
        !check(state, mprotect(p, committed, PROT_READ | PROT_WRITE) == 0, "mprotect failed"))
      break;
    if (!check(state, munmap(p, kReservationBytes + kGuardBytes) == 0, "munmap failed")) break;
  }
}
BENCHMARK(BM_AllocateDeallocate_Raw)->Arg(0)->Arg(1);

// grow by one page, against mprotect of the next page of a reservation of
// the same size. Both commit one fresh page per iteration; when the
// reservation is full, both start a new one with the timer paused.
void BM_GrowOnePage_Ours(benchmark::State& state) {
  std::optional<MmapPageAllocator> allocator;
  for (auto _ : state) {
    if (!allocator || allocator->committed_pages() == kMaximumPages) {
      const bool allocated = untimed(state, [&] {
        allocator.emplace(kConfig);
        return allocator->allocate(1).has_value();
      });
      if (!check(state, allocated, "allocate failed")) break;
    }
    if (!check(state, allocator->grow(allocator->committed_pages(), 1).has_value(), "grow failed"))
      break;
  }
}
BENCHMARK(BM_GrowOnePage_Ours);

// A raw reservation committed page by page with mprotect.
class RawReservation {
 public:
  RawReservation() : base_(raw_map(kReservationBytes + kGuardBytes, PROT_NONE)) {}
  ~RawReservation() {
    if (base_ != nullptr) munmap(base_, kReservationBytes + kGuardBytes);
  }
  RawReservation(const RawReservation&) = delete;
  RawReservation& operator=(const RawReservation&) = delete;

  bool commit_next() {
    if (mprotect(base_ + std::size_t{pages_} * kWasmPageSize, kWasmPageSize,
                 PROT_READ | PROT_WRITE) != 0)
      return false;
    ++pages_;
    return true;
  }
  bool valid() const { return base_ != nullptr; }
  std::uint32_t pages() const { return pages_; }

 private:
  std::byte* base_;
  std::uint32_t pages_ = 0;
};

void BM_GrowOnePage_Raw(benchmark::State& state) {
  std::optional<RawReservation> reservation;
  for (auto _ : state) {
    if (!reservation || reservation->pages() == kMaximumPages) {
      const bool ok = untimed(state, [&] {
        reservation.emplace();
        return reservation->valid() && reservation->commit_next();  // as allocate(1)
      });
      if (!check(state, ok, "mmap or mprotect failed")) break;
    }
    if (!check(state, reservation->commit_next(), "mprotect failed")) break;
  }
}
BENCHMARK(BM_GrowOnePage_Raw);

// Growing memories with one interface: start(pages) makes a memory of
// `pages` zeroed pages, grow_one() adds one zeroed page keeping the data.

// Ours: commit in place inside the reservation; the OS zero-fills a page
// when it is first touched.
class OursMemory {
 public:
  bool start(std::uint32_t pages) { return allocator_.allocate(pages).has_value(); }
  bool grow_one() { return allocator_.grow(pages(), 1).has_value(); }
  std::byte* data() const { return allocator_.base(); }
  std::uint32_t pages() const { return allocator_.committed_pages(); }

 private:
  MmapPageAllocator allocator_{kConfig};
};

// A heap block grown by `Resize(old, old_bytes, new_bytes)`, which returns the
// new block with the old bytes in it (or nullptr, leaving `old` alone); the
// new tail is then zeroed, as interpreters do on memory.grow.
template <std::byte* (*Resize)(std::byte*, std::size_t, std::size_t)>
class HeapMemory {
 public:
  HeapMemory() = default;
  HeapMemory(const HeapMemory&) = delete;
  HeapMemory& operator=(const HeapMemory&) = delete;
  ~HeapMemory() { std::free(data_); }

  bool start(std::uint32_t pages) { return resize(pages); }
  bool grow_one() { return resize(pages_ + 1); }
  std::byte* data() const { return data_; }
  std::uint32_t pages() const { return pages_; }

 private:
  bool resize(std::uint32_t pages) {
    std::byte* const p = Resize(data_, bytes(pages_), bytes(pages));
    if (p == nullptr) return false;
    std::memset(p + bytes(pages_), 0, bytes(pages) - bytes(pages_));
    data_ = p;
    pages_ = pages;
    return true;
  }
  static std::size_t bytes(std::uint32_t pages) { return std::size_t{pages} * kWasmPageSize; }

  std::byte* data_ = nullptr;
  std::uint32_t pages_ = 0;
};

// As wasm3 does it (m3_Realloc). glibc serves big blocks with mmap and
// resizes them with mremap, which moves page tables instead of bytes.
std::byte* realloc_block(std::byte* old, std::size_t /*old_bytes*/, std::size_t new_bytes) {
  return static_cast<std::byte*>(std::realloc(old, new_bytes));
}
using ReallocMemory = HeapMemory<realloc_block>;

// Where the block cannot be resized in place: a new block, a copy of every
// byte, free the old block (allocators without mremap, and any realloc that
// must move).
std::byte* copy_block(std::byte* old, std::size_t old_bytes, std::size_t new_bytes) {
  auto* const p = static_cast<std::byte*>(std::malloc(new_bytes));
  if (p == nullptr) return nullptr;
  if (old != nullptr) std::memcpy(p, old, old_bytes);
  std::free(old);
  return p;
}
using CopyMemory = HeapMemory<copy_block>;

// Ours, then a first write to every OS page of each new page: what the
// realloc strategies pay inside grow (they zero the tail), ours pays on use.
class OursTouchedMemory : public OursMemory {
 public:
  bool grow_one() {
    if (!OursMemory::grow_one()) return false;
    touch_pages(data() + std::size_t{pages() - 1} * kWasmPageSize, kWasmPageSize);
    return true;
  }
};

// Grows a one-page memory to range(0) pages, one page at a time; only the
// growing is timed.
template <typename Memory>
void BM_GrowTo(benchmark::State& state) {
  const auto target = static_cast<std::uint32_t>(state.range(0));
  std::optional<Memory> memory;
  for (auto _ : state) {
    const bool started = untimed(state, [&] {
      memory.reset();
      memory.emplace();
      return memory->start(1);
    });
    if (!check(state, started, "start failed")) break;
    bool grown = true;
    while (grown && memory->pages() < target) grown = memory->grow_one();
    if (!check(state, grown && memory->pages() == target, "grow failed")) break;
  }
}
constexpr std::int64_t kGrowSizes[] = {64, 256, 1024, 4096, 16384};
void grow_sizes(benchmark::internal::Benchmark* b, std::int64_t largest) {
  for (const std::int64_t pages : kGrowSizes)
    if (pages <= largest) b->Arg(pages);
  b->Unit(benchmark::kMillisecond);
}
BENCHMARK_TEMPLATE(BM_GrowTo, OursMemory)->Apply([](auto* b) { grow_sizes(b, 16384); });
BENCHMARK_TEMPLATE(BM_GrowTo, OursTouchedMemory)->Apply([](auto* b) { grow_sizes(b, 16384); });
BENCHMARK_TEMPLATE(BM_GrowTo, ReallocMemory)->Apply([](auto* b) { grow_sizes(b, 16384); });
// Copying is quadratic: 1 -> 1024 pages copies 32 GiB, beyond any time budget;
// BM_GrowStepAt shows its cost at every size.
BENCHMARK_TEMPLATE(BM_GrowTo, CopyMemory)->Apply([](auto* b) { grow_sizes(b, 256); });

// One grow by one page of a memory of about range(0) pages (the memory is
// rebuilt, untimed, once it has grown by 1/16).
template <typename Memory>
void BM_GrowStepAt(benchmark::State& state) {
  const auto size = static_cast<std::uint32_t>(state.range(0));
  const std::uint32_t rebuild_at = size + std::max(1u, size / 16);
  std::optional<Memory> memory;
  for (auto _ : state) {
    if (!memory || memory->pages() >= rebuild_at) {
      const bool started = untimed(state, [&] {
        memory.reset();
        memory.emplace();
        return memory->start(size);
      });
      if (!check(state, started, "start failed")) break;
    }
    if (!check(state, memory->grow_one(), "grow failed")) break;
  }
}
BENCHMARK_TEMPLATE(BM_GrowStepAt, OursMemory)->Apply([](auto* b) { grow_sizes(b, 16384); });
BENCHMARK_TEMPLATE(BM_GrowStepAt, ReallocMemory)->Apply([](auto* b) { grow_sizes(b, 16384); });
BENCHMARK_TEMPLATE(BM_GrowStepAt, CopyMemory)->Apply([](auto* b) { grow_sizes(b, 16384); });

// First touch: one iteration writes to every OS page of one committed,
// never-touched wasm page. The memory (kTouchPages pages) is rebuilt,
// untimed, when all of it has been touched.
constexpr std::uint32_t kTouchPages = 256;

// A fresh read/write mapping from the OS, as the baseline.
class RawMemory {
 public:
  RawMemory() = default;
  RawMemory(const RawMemory&) = delete;
  RawMemory& operator=(const RawMemory&) = delete;
  ~RawMemory() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }
  bool start(std::uint32_t pages) {
    bytes_ = std::size_t{pages} * kWasmPageSize;
    data_ = raw_map(bytes_, PROT_READ | PROT_WRITE);
    return data_ != nullptr;
  }
  std::byte* data() const { return data_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
};

template <typename Memory>
void BM_FirstTouch(benchmark::State& state) {
  std::optional<Memory> memory;
  std::uint32_t touched = kTouchPages;
  for (auto _ : state) {
    if (touched == kTouchPages) {
      const bool started = untimed(state, [&] {
        memory.reset();
        memory.emplace();
        return memory->start(kTouchPages);
      });
      if (!check(state, started, "start failed")) break;
      touched = 0;
    }
    std::byte* const page = memory->data() + std::size_t{touched++} * kWasmPageSize;
    touch_pages(page, kWasmPageSize);
    if (!check(state, page[0] == std::byte{1}, "the write did not land")) break;
  }
}
BENCHMARK_TEMPLATE(BM_FirstTouch, OursMemory);
BENCHMARK_TEMPLATE(BM_FirstTouch, RawMemory);

}  // namespace
}  // namespace wrt::platform::bench
