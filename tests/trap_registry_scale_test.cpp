// The trap registry at scale (docs/SPEC.md S1, S2, S9): memories are limited
// by the address space, not by a table (S1); a lookup, a publish and a
// retract touch O(log n) tree nodes, checked by counting them, not by timing
// (S2; timings are in bench/trap_bench.cpp); lookups stay consistent while
// other threads publish, grow and retract (S9, meant for the tsan preset).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "allocator_test_support.hpp"
#include "trap/fault_registry.hpp"
#include "trap_test_support.hpp"
#include "wrt/platform.hpp"

namespace wrt::platform::trap_test {
namespace {

using trap::ReservationView;

class RegistryScale : public TrapTest {};

// --- S2: the tree's shape, through node counts ----------------------------

// Nodes a root-to-leaf walk may visit in an AVL tree of n nodes.
std::size_t avl_height_bound(std::size_t n) {
  return static_cast<std::size_t>(1.4405 * std::log2(static_cast<double>(n) + 2.0)) + 1;
}

// Fake ranges no real memory can have (the top of the address space, as in
// trap_policy_test.cpp), 0x100 bytes each.
constexpr std::uintptr_t kFake = UINTPTR_MAX - (std::uintptr_t{1} << 24);
constexpr std::uintptr_t kFakeStride = 0x100;

// `count` fake entries, live until destroyed.
class FakeEntries {
 public:
  explicit FakeEntries(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      trap::Entry* const e = trap::claim_entry();
      if (e == nullptr) break;
      const std::uintptr_t begin = kFake + i * kFakeStride;
      trap::publish(e, {begin, begin + 0x10, begin + kFakeStride});
      entries_.push_back(e);
    }
  }
  ~FakeEntries() {
    for (trap::Entry* e : entries_) {
      trap::retract(e);
      trap::release_entry(e);
    }
  }
  FakeEntries(const FakeEntries&) = delete;
  FakeEntries& operator=(const FakeEntries&) = delete;
  std::size_t size() const { return entries_.size(); }
  std::vector<trap::Entry*>& entries() { return entries_; }

 private:
  std::vector<trap::Entry*> entries_;
};

TEST(TrapRegistryScale, S2_LookupPublishAndRetractTouchLogarithmicallyManyNodes) {
  constexpr std::size_t kCount = 15'000;
  FakeEntries fakes(kCount);
  ASSERT_EQ(fakes.size(), kCount);
  const std::size_t bound = avl_height_bound(kCount + 64);  // + whatever else is live
  // Lookups at every 7th entry's middle: the tree's height, not its size.
  std::size_t most_visits = 0;
  for (std::size_t i = 0; i < kCount; i += 7)
    most_visits = std::max(most_visits, trap::lookup_visits(kFake + i * kFakeStride + 0x80));
  ASSERT_LE(most_visits, bound) << "a lookup among " << kCount << " entries";
  EXPECT_GE(most_visits, bound / 2) << "the tree is suspiciously flat: are visits counted?";
  // Every one of the 15,000 is found, and nothing around them.
  for (std::size_t i = 0; i < kCount; ++i) {
    const std::uintptr_t begin = kFake + i * kFakeStride;
    ASSERT_EQ(trap::find_live(begin + kFakeStride - 1),
              (ReservationView{begin, begin + 0x10, begin + kFakeStride}));
  }
  EXPECT_EQ(trap::find_live(kFake - 1), std::nullopt);
  EXPECT_EQ(trap::find_live(kFake + kCount * kFakeStride), std::nullopt);

  // A retract and a publish write at most 3 nodes per level (the path and a
  // double rotation's two), never a copy of the tree.
  trap::Entry* const middle = fakes.entries()[kCount / 2];
  trap::retract(middle);
  EXPECT_LE(trap::last_update_writes(), 3 * bound + 1);
  EXPECT_EQ(trap::find_live(kFake + kCount / 2 * kFakeStride), std::nullopt);
  const std::uintptr_t begin = kFake + kCount / 2 * kFakeStride;
  trap::publish(middle, {begin, begin + 0x10, begin + kFakeStride});
  EXPECT_LE(trap::last_update_writes(), 3 * bound + 1);
  EXPECT_GE(trap::last_update_writes(), 1u);
}

// --- S1: 15,000 memories of 4 GiB + 4 GiB --------------------------------
// Linux only: the pool, /proc/self/maps and the trap children.
#ifdef __linux__

using alloc_test::kMappingsAreOurs;

// Bytes of address space the process has mapped. A leaked memory adds at
// least 8 GiB; sanitizer runtimes map a few MiB of their own meanwhile, so
// "nothing leaked" is "less than 4 GiB more than before".
std::size_t mapped_bytes() {
  std::size_t bytes = 0;
  for (const auto& m : alloc_test::read_mappings()) bytes += m.end - m.start;
  return bytes;
}

void expect_no_memory_leaked(std::size_t mapped_before) {
  if (!kMappingsAreOurs) return;  // ThreadSanitizer keeps shadow for unmapped ranges
  EXPECT_LT(mapped_bytes(), mapped_before + k4GiB) << "a memory's mapping leaked";
}

constexpr std::size_t kManyMemories = 15'000;

// How many 8 GiB memories this build can hold at once, or why none: the
// 15,000 need a 47-bit user address space that nothing else takes.
struct Scale {
  std::size_t memories;
  // Empty when the test also runs to the real limit.
  std::string no_real_limit;
};

std::optional<Scale> scale_or_skip(std::string& reason) {
  if (sizeof(std::size_t) < 8) {
    reason = "size_t has 32 bits: no 4 GiB + 4 GiB memory";
    return std::nullopt;
  }
#if defined(WRT_PLATFORM_TESTS_UNDER_QEMU)
  reason = "qemu-user keeps its own map of the guest address space (slow, smaller)";
  return std::nullopt;
#elif defined(WRT_PLATFORM_TRAP_TEST_TSAN)
  // ThreadSanitizer allows application mappings in a few TiB only and maps
  // shadow for each one: a smaller count, no run to the limit.
  return Scale{64, "ThreadSanitizer limits application mappings to a few TiB"};
#elif defined(WRT_PLATFORM_TRAP_TEST_ASAN)
  // AddressSanitizer's shadow takes 16 TiB of the 128: about 14,000 fit.
  // A smaller count, then the real limit (below 15,000 here).
  return Scale{1'000, ""};
#else
  return Scale{kManyMemories, ""};
#endif
}

void expect_traps_at_both_ends(std::byte* base, std::size_t span) {
  expect_trap_at(trap_of_load(base + kPage, 1), base + kPage);
  expect_trap_at(trap_of_store(base + span - 1, 1), base + span - 1);
  EXPECT_EQ(trap_of_store(base + kPage - 8, 8), std::nullopt);
}

// Allocates 4 GiB + 4 GiB memories until the OS refuses one; checks the
// refusal is clean and that one deallocate makes room.
void run_to_the_real_limit(std::vector<MmapPageAllocator>& memories) {
  const std::size_t claimed_by_others = trap::claimed_entries() - memories.size();
  std::optional<Error> refusal;
  while (!refusal) {
    MmapPageAllocator a({.guard_bytes = k4GiB, .reservation_bytes = k4GiB});
    if (auto m = a.allocate(0, 1); !m) {
      refusal = m.error();
      EXPECT_FALSE(a.is_allocated());
    } else {
      memories.push_back(std::move(a));
    }
  }
  std::fprintf(stderr, "[ info ] the real limit: %zu memories of 4 GiB + 4 GiB\n", memories.size());
  EXPECT_TRUE(refusal->code() == ErrorCode::OutOfMemory ||
              refusal->code() == ErrorCode::CapacityExceeded)
      << refusal->message();
  EXPECT_NE(refusal->os_errno(), 0) << refusal->message();
  EXPECT_EQ(trap::claimed_entries(), claimed_by_others + memories.size())
      << "the refused allocate kept its registry entry";
  memories.pop_back();
  MmapPageAllocator again({.guard_bytes = k4GiB, .reservation_bytes = k4GiB});
  auto m = again.allocate(0, 1);
  ASSERT_TRUE(m) << "one deallocate should make room: " << m.error().message();
  memories.push_back(std::move(again));
}

// The S1 checks in a child with the handler installed: `scale` memories of
// 4 GiB + 4 GiB, trapping in the first and the last, then the real limit.
void hold_many_memories(const Scale& scale) {
  install_or_fail();
  const std::size_t mapped_before = mapped_bytes();
  const std::size_t claimed_before = trap::claimed_entries();
  {
    std::vector<MmapPageAllocator> memories;
    memories.reserve(kManyMemories + 5'000);  // no reallocation near the limit
    for (std::size_t i = 0; i < scale.memories; ++i) {
      MmapPageAllocator a({.guard_bytes = k4GiB, .reservation_bytes = k4GiB});
      auto m = a.allocate(0, 1);
      ASSERT_TRUE(m) << "memory " << i << ": " << m.error().message();
      memories.push_back(std::move(a));
    }
    EXPECT_EQ(trap::claimed_entries(), claimed_before + scale.memories);
    for (MmapPageAllocator* a : {&memories.front(), &memories.back()}) {
      ASSERT_TRUE(a->grow(0, 1));
      expect_traps_at_both_ends(a->base(), 2 * k4GiB);
      // S2 at the real scale: one walk of the tree, not a scan.
      EXPECT_LE(trap::lookup_visits(reinterpret_cast<std::uintptr_t>(a->base())),
                avl_height_bound(memories.size()));
    }
    std::fprintf(stderr, "[ info ] %zu memories of 4 GiB + 4 GiB live\n", memories.size());
    if (scale.no_real_limit.empty()) {
      run_to_the_real_limit(memories);
      expect_traps_at_both_ends(memories.front().base(), 2 * k4GiB);
    } else {
      std::fprintf(stderr, "[ info ] not run to the real limit: %s\n", scale.no_real_limit.c_str());
    }
  }
  EXPECT_EQ(trap::claimed_entries(), claimed_before);
  expect_no_memory_leaked(mapped_before);
}

// The same with pools of up to 1,000 slots of 4 GiB + 4 GiB (8 TiB each: no
// hole in the address space holds one reservation of 15,000), all allocated.
void hold_pools_of_many(const Scale& scale) {
  install_or_fail();
  const std::size_t mapped_before = mapped_bytes();
  const std::size_t claimed_before = trap::claimed_entries();
  const PoolConfig config{
      .slots = static_cast<std::uint32_t>(std::min<std::size_t>(scale.memories, 1'000)),
      .maximum_pages = 65'536,
      .guard_bytes = k4GiB};
  {
    std::vector<MemoryPool> pools;
    std::vector<PooledPageAllocator> memories;
    memories.reserve(scale.memories);
    while (memories.size() < scale.memories) {
      auto pool = MemoryPool::create(config);
      ASSERT_TRUE(pool) << "pool " << pools.size() << ": " << pool.error().message();
      pools.push_back(std::move(*pool));
      for (std::uint32_t i = 0; i < config.slots; ++i) {
        auto a = pools.back().acquire();
        ASSERT_TRUE(a) << "slot " << i << ": " << a.error().message();
        auto m = a->allocate(0);
        ASSERT_TRUE(m) << "slot " << i << ": " << m.error().message();
        memories.push_back(std::move(*a));
      }
    }
    EXPECT_EQ(trap::claimed_entries(), claimed_before + memories.size());
    const std::size_t stride =
        static_cast<std::size_t>(pools[0].slot_base(1) - pools[0].slot_base(0));
    EXPECT_GE(stride, 2 * k4GiB);
    for (PooledPageAllocator* a : {&memories.front(), &memories.back()}) {
      ASSERT_TRUE(a->grow(0, 1));
      expect_traps_at_both_ends(a->base(), stride);
      EXPECT_LE(trap::lookup_visits(reinterpret_cast<std::uintptr_t>(a->base())),
                avl_height_bound(memories.size()));
    }
    std::fprintf(stderr, "[ info ] %zu pooled memories of 4 GiB + 4 GiB live\n", memories.size());
    // A full pool refuses; so does the OS, at last, a new pool.
    auto more = pools.back().acquire();
    ASSERT_FALSE(more);
    EXPECT_EQ(more.error().code(), ErrorCode::CapacityExceeded);
    if (scale.no_real_limit.empty()) {
      std::size_t extra_pools = 0;
      for (;;) {
        auto pool = MemoryPool::create(config);
        if (!pool) {
          EXPECT_EQ(pool.error().code(), ErrorCode::OutOfMemory) << pool.error().message();
          EXPECT_NE(pool.error().os_errno(), 0);
          break;
        }
        pools.push_back(std::move(*pool));
        ++extra_pools;
      }
      std::fprintf(stderr, "[ info ] the real limit: %zu more pools of %u slots\n", extra_pools,
                   config.slots);
    }
    memories.pop_back();
    auto again = pools[memories.size() / config.slots].acquire();
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_TRUE(again->allocate(1));
  }
  EXPECT_EQ(trap::claimed_entries(), claimed_before);
  expect_no_memory_leaked(mapped_before);
}

TEST_F(RegistryScale, S1_FifteenThousandMemoriesOf4GiBPlus4GiBTrapInTheFirstAndTheLast) {
  std::string reason;
  const auto scale = scale_or_skip(reason);
  if (!scale) GTEST_SKIP() << reason;
  WRT_IN_CHILD(hold_many_memories(*scale));
}

TEST_F(RegistryScale, S1_FifteenThousandPooled4GiBPlus4GiBMemoriesTrapInTheFirstAndTheLast) {
  std::string reason;
  const auto scale = scale_or_skip(reason);
  if (!scale) GTEST_SKIP() << reason;
  WRT_IN_CHILD(hold_pools_of_many(*scale));
}

#endif  // __linux__

// --- S9: lookups while other threads publish, grow and retract -------------

// Each writer owns a band of the fake range and, one entry at a time, claims,
// publishes, grows and retracts entry g at place g % kPlaces of its band. A
// range's end is a function of its begin, so a lookup that mixed two entries'
// fields shows up; the counters let a reader tell whether the entry it found
// could have been live during its call.
constexpr std::size_t kWriters = 3;
constexpr std::size_t kReaders = 3;
constexpr std::uintptr_t kPlaces = 8;
constexpr std::uintptr_t kPlaceBytes = 0x1000;
constexpr std::uintptr_t kBandBytes = kPlaces * kPlaceBytes;
constexpr std::uint64_t kGenerations = 20'000;

std::uintptr_t band_of(std::size_t writer) {
  return kFake + (std::uintptr_t{1} << 23) + writer * kBandBytes;
}
std::uintptr_t end_of(std::uintptr_t begin) {
  return begin + 0x800 + (begin / kPlaceBytes % kPlaces) * 0x10;
}

struct Band {
  // Publishes begun and retracts done, in entry order.
  std::atomic<std::uint64_t> publishes_begun{0};
  std::atomic<std::uint64_t> retracts_done{0};
};

void churn(Band& band, std::size_t writer) {
  for (std::uint64_t g = 0; g < kGenerations; ++g) {
    trap::Entry* const e = trap::claim_entry();
    if (e == nullptr) std::abort();  // no heap: nothing sensible to test
    const std::uintptr_t begin = band_of(writer) + (g % kPlaces) * kPlaceBytes;
    band.publishes_begun.store(g + 1, std::memory_order_seq_cst);
    trap::publish(e, {begin, begin, end_of(begin)});
    for (std::uintptr_t c = 0x100; c <= 0x400; c += 0x100)
      trap::publish_committed_end(e, begin + c);
    trap::retract(e);
    band.retracts_done.store(g + 1, std::memory_order_seq_cst);
    trap::release_entry(e);
  }
}

// One lookup at `address` in `writer`'s band; false when its answer could
// not have been true at any time during the call.
bool consistent_lookup(const Band& band, std::size_t writer, std::uintptr_t address) {
  const std::uint64_t retracted = band.retracts_done.load(std::memory_order_seq_cst);
  const auto view = trap::find_live(address);
  const std::uint64_t begun = band.publishes_begun.load(std::memory_order_seq_cst);
  if (!view) return true;
  const std::uintptr_t place = (view->begin - band_of(writer)) / kPlaceBytes;
  if (view->begin > address || address >= view->end || view->end != end_of(view->begin) ||
      view->committed_end < view->begin || view->committed_end > view->begin + 0x400)
    return false;
  // Some entry g with g % kPlaces == place, not retracted before the call,
  // whose publish began before the call ended.
  for (std::uint64_t g = retracted; g < begun; ++g)
    if (g % kPlaces == place) return true;
  return false;
}

TEST(TrapRegistryScale, S9_LookupsStayConsistentWhileEntriesChurn) {
  std::vector<Band> bands(kWriters);
  std::atomic<std::size_t> writers_done{0};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> lookups{0};
  std::atomic<std::uint64_t> inconsistent{0};
  std::vector<std::thread> threads;
  for (std::size_t r = 0; r < kReaders; ++r)
    threads.emplace_back([&, r] {
      std::uint64_t i = r;
      while (!stop.load(std::memory_order_relaxed)) {
        const std::size_t writer = i % kWriters;
        // Mostly in the writer's newest entry (the one a retract races
        // with), sometimes in a place no entry holds now.
        const std::uint64_t newest = bands[writer].publishes_begun.load() + kPlaces - 1;
        const std::uint64_t place = i % 4 == 0 ? i / kWriters : newest;
        const std::uintptr_t address =
            band_of(writer) + (place % kPlaces) * kPlaceBytes + (i * 0x97 % 0x800);
        if (!consistent_lookup(bands[writer], writer, address)) inconsistent.fetch_add(1);
        lookups.fetch_add(1, std::memory_order_relaxed);
        ++i;
      }
    });
  for (std::size_t w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      churn(bands[w], w);
      writers_done.fetch_add(1);
    });
  // The deadline only stops a registry that hangs its writers.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (writers_done.load() < kWriters && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  if (writers_done.load() < kWriters) {
    ADD_FAILURE() << "writers did not finish in 90 s: a grace period never ended";
    std::fflush(nullptr);
    std::abort();  // the writers cannot be joined
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(inconsistent.load(), 0u) << "of " << lookups.load() << " lookups";
  EXPECT_GT(lookups.load(), 0u);
  for (std::size_t w = 0; w < kWriters; ++w) EXPECT_EQ(trap::find_live(band_of(w)), std::nullopt);
}

}  // namespace
}  // namespace wrt::platform::trap_test
