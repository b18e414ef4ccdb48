// Traps (section T) under a fuzzer-chosen sequence: a few memories, each an
// MmapPageAllocator (some with reservation_bytes = 4 GiB and a 4 GiB guard)
// or a PooledPageAllocator from one MemoryPool that keeps bytes resident
// across releases (sections M and T), are allocated, grown and deallocated, interleaved with loads
// and stores of every width at offsets inside their reservation plus guard, each inside
// catch_traps. The model: an access traps iff one of its bytes is at or past
// the committed end, and the trap reports the first such byte. After every
// step the registry of live reservations must describe exactly the live
// memories: a deallocated memory's range is never found (unless another
// live memory now owns those addresses; a pooled slot is reused by the next
// pooled memory, which must have published itself). The process must never die: a
// fault the handler does not take as a trap goes to libFuzzer's handler and
// is a finding.
//
// The input runs on a worker thread, not on libFuzzer's main thread: under
// ASan every trap's siglongjmp from the alternate signal stack makes ASan
// look up the thread's stack (to unpoison it), and for the main thread
// glibc's pthread_getattr_np finds it by parsing /proc/self/maps (three
// quarters of the harness's CPU time). For any other thread the stack is
// known and the lookup is cheap.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <utility>

#include "check.hpp"
#include "trap/fault_registry.hpp"
#ifdef __linux__  // MemoryPool is Linux only (docs/SPEC.md, section M)
#include "wrt/platform/memory_pool.hpp"
#endif
#include "workers.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"
#include "wrt/platform/trap.hpp"

using namespace wrt::platform;

namespace {

// 4 GiB (0 where size_t has 32 bits: no huge memories there).
constexpr std::size_t k4GiB = static_cast<std::size_t>(std::uint64_t{1} << 32);
constexpr std::size_t kOsPage = 4096;
constexpr std::uint32_t kMaxPages = 8;

#ifdef __linux__
// The pool of the pooled memories: as many slots as the harness has, a
// guard that is not a multiple of kWasmPageSize, and kept bytes that end
// inside a WebAssembly page (so a reused slot is accessible past a smaller
// memory until allocate makes it inaccessible again).
MemoryPool make_pool() {
  auto created = MemoryPool::create({.slots = 3,
                                     .maximum_pages = kMaxPages,
                                     .guard_bytes = 2 * kOsPage,
                                     .keep_resident_bytes = kWasmPageSize + 3 * kOsPage});
  FUZZ_CHECK(created.has_value());
  return std::move(*created);
}

MemoryPool& pool() {
  static MemoryPool pool = make_pool();
  return pool;
}

#endif

// One memory of either allocator, through the calls both have.
class AnyAllocator {
 public:
  explicit AnyAllocator(PageAllocatorConfig config) : mmap_(std::in_place, config) {}
#ifdef __linux__
  explicit AnyAllocator(PooledPageAllocator pooled) : pooled_(std::move(pooled)) {}
#endif

  template <typename F>
  auto with(F&& f) {
#ifdef __linux__
    if (pooled_) return f(*pooled_);
#endif
    return f(*mmap_);
  }
  template <typename F>
  auto with(F&& f) const {
#ifdef __linux__
    if (pooled_) return f(*pooled_);
#endif
    return f(*mmap_);
  }
  bool is_allocated() const {
    return with([](const auto& a) { return a.is_allocated(); });
  }
  std::byte* base() const {
    return with([](const auto& a) { return a.base(); });
  }
  std::size_t reserved_bytes() const {
    return with([](const auto& a) { return a.reserved_bytes(); });
  }

 private:
  std::optional<MmapPageAllocator> mmap_;
#ifdef __linux__
  std::optional<PooledPageAllocator> pooled_;
#endif
};

// What the model knows about one memory slot.
struct Slot {
  std::optional<AnyAllocator> allocator;
  std::uint32_t maximum_pages = 0;
  std::uint32_t committed_pages = 0;
  std::size_t reserved_bytes = 0;
  std::size_t guarded_bytes = 0;   // reservation plus the rounded guard
  std::uintptr_t former_base = 0;  // after deallocate: where it was
};

std::size_t round_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

#ifdef __linux__
// A pooled memory: the slot's stride (memory, guard, rounding) is its range.
void allocate_pooled(FuzzedDataProvider& in, Slot& slot) {
  const auto maximum = in.ConsumeIntegralInRange<std::uint32_t>(0, kMaxPages);
  const auto initial = in.ConsumeIntegralInRange<std::uint32_t>(0, maximum);
  // A held slot comes back to the pool first: every Slot can always get one.
  slot.allocator.reset();
  auto acquired = pool().acquire();
  FUZZ_CHECK(acquired.has_value());
  slot.allocator.emplace(std::move(*acquired));
  auto m = slot.allocator->with([&](auto& a) { return a.allocate(initial, maximum); });
  FUZZ_CHECK(m.has_value());
  slot.maximum_pages = maximum;
  slot.committed_pages = initial;
  slot.reserved_bytes = std::size_t{maximum} * kWasmPageSize;
  slot.guarded_bytes = static_cast<std::size_t>(pool().slot_base(1) - pool().slot_base(0));
  FUZZ_CHECK(slot.allocator->reserved_bytes() == slot.reserved_bytes);
}
#endif

void allocate(FuzzedDataProvider& in, Slot& slot) {
  if (slot.allocator && slot.allocator->is_allocated()) return;
  const int kind = in.ConsumeIntegralInRange<int>(0, 2);
#ifdef __linux__
  if (kind == 2) return allocate_pooled(in, slot);
#endif
  const bool huge = kind == 1;
  PageAllocatorConfig config;
  config.maximum_pages = kMaxPages;
  config.guard_bytes = huge ? k4GiB : in.ConsumeIntegralInRange<std::size_t>(0, 3 * kOsPage);
  config.reservation_bytes =
      huge ? k4GiB : in.ConsumeIntegralInRange<std::size_t>(0, 4 * kWasmPageSize);
  const auto maximum = in.ConsumeIntegralInRange<std::uint32_t>(0, kMaxPages);
  const auto initial = in.ConsumeIntegralInRange<std::uint32_t>(0, maximum);
  slot.allocator.emplace(config);
  auto m = slot.allocator->with([&](auto& a) { return a.allocate(initial, maximum); });
  FUZZ_CHECK(m.has_value());
  slot.maximum_pages = maximum;
  slot.committed_pages = initial;
  slot.reserved_bytes = std::max(std::size_t{maximum} * kWasmPageSize,
                                 round_up(config.reservation_bytes, kWasmPageSize));
  slot.guarded_bytes = slot.reserved_bytes + round_up(config.guard_bytes, kOsPage);
  FUZZ_CHECK(slot.allocator->reserved_bytes() == slot.reserved_bytes);
}

void grow(FuzzedDataProvider& in, Slot& slot) {
  if (!slot.allocator || !slot.allocator->is_allocated()) return;
  const auto delta = in.ConsumeIntegralInRange<std::uint32_t>(0, 3);
  const bool fits = slot.committed_pages + delta <= slot.maximum_pages;
  const auto grown =
      slot.allocator->with([&](auto& a) { return a.grow(slot.committed_pages, delta); });
  FUZZ_CHECK(grown.has_value() == fits);
  if (fits) slot.committed_pages += delta;
}

void deallocate(Slot& slot) {
  if (!slot.allocator || !slot.allocator->is_allocated()) return;
  slot.former_base = reinterpret_cast<std::uintptr_t>(slot.allocator->base());
  FUZZ_CHECK(slot.allocator->with(
      [](auto& a) { return a.deallocate(a.base(), a.committed_bytes()).has_value(); }));
}

template <typename Word>
void access_as(std::byte* p, bool is_store) {
  auto* word = reinterpret_cast<volatile Word*>(p);
  if (is_store) {
    *word = static_cast<Word>(0xa5a5a5a5a5a5a5a5u);
  } else {
    (void)*word;
  }
}

void access(std::byte* p, std::size_t width, bool is_store) {
  switch (width) {
    case 1:
      return access_as<std::uint8_t>(p, is_store);
    case 2:
      return access_as<std::uint16_t>(p, is_store);
    case 4:
      return access_as<std::uint32_t>(p, is_store);
    default:
      return access_as<std::uint64_t>(p, is_store);
  }
}

// An offset where the interesting things are: around the committed end, the
// maximum, the reservation end, the guard end, or anywhere.
std::size_t pick_offset(FuzzedDataProvider& in, const Slot& slot, std::size_t width) {
  const std::size_t last = slot.guarded_bytes - width;  // the access stays inside
  const std::size_t committed = std::size_t{slot.committed_pages} * kWasmPageSize;
  const std::size_t anchors[] = {committed, std::size_t{slot.maximum_pages} * kWasmPageSize,
                                 slot.reserved_bytes, last};
  const auto delta = in.ConsumeIntegralInRange<std::size_t>(0, 16);
  std::size_t offset = 0;
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 4:
      offset = in.ConsumeIntegralInRange<std::size_t>(0, last);
      break;
    default: {
      const std::size_t anchor = anchors[in.ConsumeIntegralInRange<std::size_t>(0, 3)];
      offset = in.ConsumeBool() ? anchor + delta : (anchor >= delta ? anchor - delta : 0);
    }
  }
  return std::min(offset, last);
}

void access_step(FuzzedDataProvider& in, Slot& slot) {
  if (!slot.allocator || !slot.allocator->is_allocated() || slot.guarded_bytes < 8) return;
  constexpr std::size_t kWidths[] = {1, 2, 4, 8};
  const std::size_t width = kWidths[in.ConsumeIntegralInRange<std::size_t>(0, 3)];
  const std::size_t offset = pick_offset(in, slot, width);
  const bool is_store = in.ConsumeBool();
  std::byte* const base = slot.allocator->base();
  const auto trap = catch_traps([&] { access(base + offset, width, is_store); });
  const std::size_t committed = std::size_t{slot.committed_pages} * kWasmPageSize;
  if (offset + width <= committed) {
    FUZZ_CHECK(!trap.has_value());
  } else {
    FUZZ_CHECK(trap.has_value());
    FUZZ_CHECK(trap->kind == TrapKind::MemoryOutOfBounds);
    FUZZ_CHECK(trap->address == base + std::max(offset, committed));
  }
}

// The registry holds exactly the live memories, with their current extent.
void check_registry(const std::array<Slot, 3>& slots) {
  for (const Slot& slot : slots) {
    if (slot.allocator && slot.allocator->is_allocated() && slot.guarded_bytes == 0) {
      // An empty memory with no guard owns no address: nothing to find.
      FUZZ_CHECK(!trap::find_live(reinterpret_cast<std::uintptr_t>(slot.allocator->base())));
    } else if (slot.allocator && slot.allocator->is_allocated()) {
      const auto base = reinterpret_cast<std::uintptr_t>(slot.allocator->base());
      const auto view = trap::find_live(base);
      FUZZ_CHECK(view.has_value());
      FUZZ_CHECK(view->begin == base);
      FUZZ_CHECK(view->committed_end == base + std::size_t{slot.committed_pages} * kWasmPageSize);
      FUZZ_CHECK(view->end == base + slot.guarded_bytes);
    } else if (slot.former_base != 0) {
      const auto view = trap::find_live(slot.former_base);
      if (!view) continue;
      // Only another live memory that reused the addresses may be found there.
      bool owned = false;
      for (const Slot& other : slots)
        owned |= other.allocator && other.allocator->is_allocated() &&
                 reinterpret_cast<std::uintptr_t>(other.allocator->base()) == view->begin;
      FUZZ_CHECK(owned);
    }
  }
}

void run(FuzzedDataProvider& in) {
  std::array<Slot, 3> slots;
  while (in.remaining_bytes() > 0) {
    Slot& slot = slots[in.ConsumeIntegralInRange<std::size_t>(0, slots.size() - 1)];
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
      case 0:
        allocate(in, slot);
        break;
      case 1:
        grow(in, slot);
        break;
      case 2:
        deallocate(slot);
        break;
      default:
        access_step(in, slot);
        break;
    }
    check_registry(slots);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool installed = install_trap_handler().has_value();
  FUZZ_CHECK(installed);
  FuzzedDataProvider in(data, size);
  fuzz::Worker& worker = fuzz::workers<1>()[0];
  worker.start([&in] { run(in); });
  worker.finish();
  return 0;
}
