// MemoryPool, PooledPageAllocator and MemoryImage against the real OS (docs/SPEC.md,
// section M): one reservation with a guard per slot and no mmap/munmap on
// acquire and release (M1), reset on release (M2), a bounded resident set
// checked with mincore (M3), copy-on-write images through memfd (M4). OS
// failures (M5): memory_pool_fault_test.cpp. The PageAllocator clauses run
// over PooledPageAllocator in allocator_conformance_test.cpp.
#include <gtest/gtest.h>

#ifdef __linux__
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "allocator_test_support.hpp"
#include "death_test_support.hpp"
#include "memory_pool_test_support.hpp"
#include "os/fault_injection.hpp"
#include "wrt/platform.hpp"

namespace wrt::platform::pool_test {
namespace {

using alloc_test::all_zero;
using alloc_test::fails_with;
using alloc_test::fill_pattern;
using alloc_test::holds_pattern;
using alloc_test::succeeds;

constexpr std::size_t kPage = kWasmPageSize;

// qemu-user (aarch64 preset) answers mincore over a range that holds
// PROT_NONE pages with an error, so the M3 tests that count resident pages
// after a reset cannot look there; the reset itself runs in every other test.
#ifdef WRT_PLATFORM_TESTS_UNDER_QEMU
#define WRT_SKIP_MINCORE_UNDER_QEMU() \
  GTEST_SKIP() << "qemu-user fails mincore over a range with PROT_NONE pages"
#else
#define WRT_SKIP_MINCORE_UNDER_QEMU() static_cast<void>(0)
#endif

// Resident bytes of [p, p + bytes), in whole OS pages; SIZE_MAX when
// mincore fails.
std::size_t resident_bytes(const std::byte* p, std::size_t bytes) {
  const std::size_t pages = resident_pages(p, bytes);
  return pages == SIZE_MAX ? SIZE_MAX : pages * os_page();
}

class MemoryPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, death_test::kDeathTestStyle); }
};

// --- M1 ---------------------------------------------------------------------

TEST_F(MemoryPoolTest, M1_SlotsLieInOneReservationEachWithItsOwnGuard) {
  MemoryPool pool = make_pool({4, 2, 3 * kPage});
  EXPECT_EQ(pool.slots(), 4u);
  EXPECT_EQ(pool.available_slots(), 4u);
  for (std::uint32_t slot = 0; slot + 1 < 4; ++slot) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(pool.slot_base(slot)) % kPage, 0u);
    EXPECT_GE(pool.slot_base(slot + 1) - pool.slot_base(slot),
              static_cast<std::ptrdiff_t>(2 * kPage + 3 * kPage));
  }
  EXPECT_EQ(pool.slot_base(4), nullptr);
  if (alloc_test::kMappingsAreOurs) {
    // One mapping, inaccessible, covers every slot and guard.
    const auto first = reinterpret_cast<std::uintptr_t>(pool.slot_base(0));
    const auto last = reinterpret_cast<std::uintptr_t>(pool.slot_base(3)) + 5 * kPage;
    const auto mappings = alloc_test::read_mappings();
    const auto covering = std::find_if(mappings.begin(), mappings.end(), [&](const auto& m) {
      return m.start <= first && last <= m.end;
    });
    ASSERT_NE(covering, mappings.end());
    EXPECT_EQ(covering->perms, "---p");
  }
}

TEST_F(MemoryPoolTest, M1_AGuardByteFaults) {
  MemoryPool pool = make_pool({2, 2, kPage});
  auto a = pool.acquire();
  ASSERT_TRUE(succeeds(a));
  ASSERT_TRUE(succeeds(a->allocate(2)));
  a->base()[2 * kPage - 1] = std::byte{1};
  EXPECT_EXIT(death_test::touch(a->base() + 2 * kPage), ::testing::KilledBySignal(SIGSEGV), "");
  EXPECT_EXIT(death_test::touch(a->base() + 3 * kPage - 1), ::testing::KilledBySignal(SIGSEGV), "");
}

TEST_F(MemoryPoolTest, M1_AnUncommittedByteFaults) {
  MemoryPool pool = make_pool({1, 4});
  auto a = pool.acquire();
  ASSERT_TRUE(succeeds(a));
  ASSERT_TRUE(succeeds(a->allocate(1)));
  EXPECT_EXIT(death_test::touch(a->base() + kPage), ::testing::KilledBySignal(SIGSEGV), "");
  // Before allocate() the slot is inaccessible too.
  auto b = MemoryPool::create({1, 4});
  ASSERT_TRUE(succeeds(b));
  EXPECT_EXIT(death_test::touch(b->slot_base(0)), ::testing::KilledBySignal(SIGSEGV), "");
}

// A reset slot stays accessible up to its last memory's end, and reads zero
// there (kept bytes zeroed, the rest discarded): no mprotect per cycle (M6),
// as wasmtime keeps a slot's size. A stale pointer past it faults; so does
// one past a smaller next memory (A10).
TEST_F(MemoryPoolTest, M1_M6_AReleasedSlotFaultsPastItsLastMemory) {
  MemoryPool pool = make_pool({1, 3, 0, kPage});
  std::byte* base = nullptr;
  {
    auto a = pool.acquire();
    ASSERT_TRUE(succeeds(a));
    ASSERT_TRUE(succeeds(a->allocate(2, 3)));
    base = a->base();
    fill_pattern(base, 0, 2 * kPage, 1);
  }
  EXPECT_TRUE(all_zero(base, 0, 2 * kPage));
  EXPECT_EXIT(death_test::touch(base + 2 * kPage), ::testing::KilledBySignal(SIGSEGV), "");
  auto b = pool.acquire();
  ASSERT_TRUE(succeeds(b));
  ASSERT_TRUE(succeeds(b->allocate(0, 3)));
  EXPECT_EXIT(death_test::touch(base), ::testing::KilledBySignal(SIGSEGV), "");
}

TEST_F(MemoryPoolTest, M1_TheSlotCountIsAHardLimit) {
  MemoryPool pool = make_pool({3, 1});
  std::vector<PooledPageAllocator> held;
  for (int i = 0; i < 3; ++i) {
    auto a = pool.acquire();
    ASSERT_TRUE(succeeds(a));
    ASSERT_TRUE(succeeds(a->allocate(1)));
    held.push_back(std::move(*a));
  }
  EXPECT_EQ(pool.available_slots(), 0u);
  EXPECT_TRUE(fails_with(pool.acquire(), ErrorCode::CapacityExceeded));
  EXPECT_TRUE(fails_with(pool.acquire(), ErrorCode::CapacityExceeded));
  // Every memory has its own slot.
  EXPECT_NE(held[0].base(), held[1].base());
  EXPECT_NE(held[1].base(), held[2].base());
  EXPECT_NE(held[0].base(), held[2].base());

  // deallocate() hands the slot back; an allocator without a slot takes one
  // again on allocate(), and finds none while the pool is full.
  std::byte* const freed = held[1].base();
  ASSERT_TRUE(succeeds(held[1].deallocate(freed, kPage)));
  EXPECT_FALSE(held[1].holds_slot());
  EXPECT_EQ(pool.available_slots(), 1u);
  auto other = pool.acquire();
  ASSERT_TRUE(succeeds(other));
  EXPECT_EQ(other->allocate(1)->base, freed);
  EXPECT_TRUE(fails_with(held[1].allocate(1), ErrorCode::CapacityExceeded));
  EXPECT_FALSE(held[1].is_allocated());
  *other = std::move(held[1]);  // other's memory goes back to the pool
  EXPECT_EQ(pool.available_slots(), 1u);
  EXPECT_TRUE(succeeds(other->allocate(1)));

  // Nothing leaked: every slot comes back.
  held.clear();
  EXPECT_EQ(pool.available_slots(), 2u);
  { const PooledPageAllocator last(std::move(*other)); }
  EXPECT_EQ(pool.available_slots(), 3u);
  EXPECT_EQ(pool.retired_slots(), 0u);
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
TEST_F(MemoryPoolTest, M1_AcquireAllocateGrowAndReleaseMakeNoMmapOrMunmap) {
  MemoryPool pool = make_pool({2, 4, kPage, kPage});
  fault::reset();
  for (int round = 0; round < 3; ++round) {
    auto a = pool.acquire();
    ASSERT_TRUE(succeeds(a));
    const auto m = a->allocate(1, 4);
    ASSERT_TRUE(succeeds(m));
    fill_pattern(m->base, 0, kPage, 1);
    ASSERT_TRUE(succeeds(a->grow(1, 2)));
    fill_pattern(m->base, kPage, 3 * kPage, 1);
    if (round == 1) {
      ASSERT_TRUE(succeeds(a->deallocate(m->base, 3 * kPage)));
    }
  }
  EXPECT_EQ(fault::calls(fault::OsCall::Mmap), 0u);
  EXPECT_EQ(fault::calls(fault::OsCall::Munmap), 0u);
  EXPECT_EQ(fault::calls(fault::OsCall::MapFixed), 0u);
  // The first round commits the first page and the grown ones; the next
  // rounds find three pages accessible (M6), make the two past the first
  // inaccessible and grow over them again. Every reset madvises the grown
  // pages (the first page is kept).
  EXPECT_EQ(fault::calls(fault::OsCall::Mprotect), 6u);
  EXPECT_EQ(fault::calls(fault::OsCall::Madvise), 3u);
  fault::reset();
}
#endif

// Many threads acquire and release at once: never the same slot twice at a
// time (each memory keeps what its thread wrote), and every slot comes back.
TEST_F(MemoryPoolTest, M1_M2_M4_AcquireAndReleaseAreThreadSafe) {
  constexpr std::uint32_t kSlots = 3;
  constexpr int kThreads = 4;  // one more than the slots: acquire sometimes finds none
  constexpr int kRounds = 200;
  const auto bytes = image_bytes(5000, 21);
  auto image = MemoryImage::create(bytes, 10);
  ASSERT_TRUE(succeeds(image));
  MemoryPool pool = make_pool({kSlots, 1, 0, 4096});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const auto seed = static_cast<std::uint8_t>(t + 1);
      const bool with_image = t % 2 == 0;  // slots pass between image and plain users
      for (int round = 0; round < kRounds; ++round) {
        auto a = pool.acquire(with_image ? &*image : nullptr);
        if (!a) {
          if (a.error().code() != ErrorCode::CapacityExceeded) failures.fetch_add(1);
          continue;
        }
        const auto m = a->allocate(1);
        if (!m) {
          failures.fetch_add(1);
          continue;
        }
        if (with_image ? !holds_image(m->base, kPage, bytes, 10) : !all_zero(m->base, 0, kPage))
          failures.fetch_add(1);
        fill_pattern(m->base, 0, kPage, seed);
        std::this_thread::yield();
        if (!holds_pattern(m->base, 0, kPage, seed)) failures.fetch_add(1);
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(pool.available_slots(), kSlots);
  EXPECT_EQ(pool.retired_slots(), 0u);
}

// --- M2 ---------------------------------------------------------------------

TEST_F(MemoryPoolTest, M2_TheNextUserReadsZeroWhateverThePreviousWroteOrGrew) {
  for (const std::size_t keep :
       {std::size_t{0}, os_page(), kPage, 2 * kPage + os_page(), 4 * kPage}) {
    MemoryPool pool = make_pool({1, 4, 0, keep});
    {
      auto a = pool.acquire();
      ASSERT_TRUE(succeeds(a));
      const auto m = a->allocate(1, 4);
      ASSERT_TRUE(succeeds(m));
      ASSERT_TRUE(succeeds(a->grow(1, 3)));
      fill_pattern(m->base, 0, 4 * kPage, 2);
    }  // destruction hands the slot back
    auto b = pool.acquire();
    ASSERT_TRUE(succeeds(b));
    const auto m = b->allocate(2, 4);
    ASSERT_TRUE(succeeds(m));
    EXPECT_TRUE(all_zero(m->base, 0, 2 * kPage)) << "keep_resident_bytes " << keep;
    ASSERT_TRUE(succeeds(b->grow(2, 2)));
    EXPECT_TRUE(all_zero(m->base, 0, 4 * kPage)) << "keep_resident_bytes " << keep;
    fill_pattern(m->base, 0, 4 * kPage, 3);
    ASSERT_TRUE(succeeds(b->deallocate(m->base, 4 * kPage)));
    // The same allocator again, after deallocate().
    const auto again = b->allocate(4);
    ASSERT_TRUE(succeeds(again));
    EXPECT_TRUE(all_zero(again->base, 0, 4 * kPage)) << "keep_resident_bytes " << keep;
  }
}

TEST_F(MemoryPoolTest, M2_AnImageNeverReachesTheNextPlainUser) {
  const auto bytes = image_bytes(3 * os_page() + 17, 4);
  auto image = MemoryImage::create(bytes, 100);
  ASSERT_TRUE(succeeds(image));
  MemoryPool pool = make_pool({1, 2, 0, kPage});
  {
    auto a = pool.acquire(&*image);
    ASSERT_TRUE(succeeds(a));
    const auto m = a->allocate(2);
    ASSERT_TRUE(succeeds(m));
    EXPECT_TRUE(holds_image(m->base, 2 * kPage, bytes, 100));
    fill_pattern(m->base, 0, 2 * kPage, 5);
  }
  auto b = pool.acquire();
  ASSERT_TRUE(succeeds(b));
  const auto m = b->allocate(2);
  ASSERT_TRUE(succeeds(m));
  EXPECT_TRUE(all_zero(m->base, 0, 2 * kPage));
}

// --- M3 ---------------------------------------------------------------------

TEST_F(MemoryPoolTest, M3_ResetKeepsAtMostKeepResidentBytesResident) {
  WRT_SKIP_MINCORE_UNDER_QEMU();
  for (const std::size_t keep : {std::size_t{0}, os_page(), kPage + 3 * os_page()}) {
    MemoryPool pool = make_pool({1, 8, 0, keep});
    std::byte* const slot = pool.slot_base(0);
    {
      auto a = pool.acquire();
      ASSERT_TRUE(succeeds(a));
      ASSERT_TRUE(succeeds(a->allocate(8)));
      fill_pattern(a->base(), 0, 8 * kPage, 6);
      ASSERT_GT(resident_bytes(slot, 8 * kPage), keep);  // what the reset must return
    }
    EXPECT_LE(resident_bytes(slot, 8 * kPage), keep) << "keep_resident_bytes " << keep;
  }
}

// An unaligned keep_resident_bytes is rounded down to the OS page.
TEST_F(MemoryPoolTest, M3_KeepResidentRoundsDownToTheOsPage) {
  WRT_SKIP_MINCORE_UNDER_QEMU();
  MemoryPool pool = make_pool({1, 2, 0, os_page() + 1});
  {
    auto a = pool.acquire();
    ASSERT_TRUE(succeeds(a));
    ASSERT_TRUE(succeeds(a->allocate(2)));
    fill_pattern(a->base(), 0, 2 * kPage, 7);
  }
  EXPECT_LE(resident_bytes(pool.slot_base(0), 2 * kPage), os_page());
}

// --- M4 ---------------------------------------------------------------------

TEST_F(MemoryPoolTest, M4_AnImageInitialisesTheMemoryAtAnUnalignedOffset) {
  for (const std::size_t offset :
       {std::size_t{0}, std::size_t{1}, os_page() - 1, os_page(), kPage + 5000}) {
    const auto bytes = image_bytes(2 * os_page() + 3, static_cast<std::uint8_t>(offset));
    auto image = MemoryImage::create(bytes, offset);
    ASSERT_TRUE(succeeds(image));
    EXPECT_TRUE(image->copy_on_write());
    EXPECT_EQ(image->offset(), offset);
    EXPECT_EQ(image->size(), bytes.size());
    MemoryPool pool = make_pool({1, 4});
    auto a = pool.acquire(&*image);
    ASSERT_TRUE(succeeds(a));
    const auto m = a->allocate(2, 4);
    ASSERT_TRUE(succeeds(m));
    EXPECT_TRUE(holds_image(m->base, 2 * kPage, bytes, offset)) << "offset " << offset;
    ASSERT_TRUE(succeeds(a->grow(2, 2)));
    EXPECT_TRUE(holds_image(m->base, 4 * kPage, bytes, offset)) << "offset " << offset;
  }
}

TEST_F(MemoryPoolTest, M4_AWriteByOneMemoryIsNeverSeenByAnother) {
  const auto bytes = image_bytes(kPage, 8);
  auto image = MemoryImage::create(bytes, 0);
  ASSERT_TRUE(succeeds(image));
  MemoryPool pool = make_pool({2, 1});
  auto a = pool.acquire(&*image);
  auto b = pool.acquire(&*image);
  ASSERT_TRUE(succeeds(a));
  ASSERT_TRUE(succeeds(b));
  ASSERT_TRUE(succeeds(a->allocate(1)));
  fill_pattern(a->base(), 0, kPage, 9);
  ASSERT_TRUE(succeeds(b->allocate(1)));
  EXPECT_TRUE(holds_image(b->base(), kPage, bytes, 0));
  fill_pattern(b->base(), 0, kPage / 2, 10);
  EXPECT_TRUE(holds_pattern(a->base(), 0, kPage, 9));
  EXPECT_TRUE(holds_image(b->base() + kPage / 2, kPage / 2,
                          std::vector<std::byte>(bytes.begin() + kPage / 2, bytes.end()), 0));
}

TEST_F(MemoryPoolTest, M4_ResetRestoresTheImage) {
  const auto bytes = image_bytes(5 * os_page(), 11);
  auto image = MemoryImage::create(bytes, os_page() / 2);
  ASSERT_TRUE(succeeds(image));
  for (const std::size_t keep : {std::size_t{0}, kPage, 2 * kPage}) {
    MemoryPool pool = make_pool({1, 2, 0, keep});
    auto a = pool.acquire(&*image);
    ASSERT_TRUE(succeeds(a));
    for (int round = 0; round < 3; ++round) {
      const auto m = a->allocate(1, 2);
      ASSERT_TRUE(succeeds(m));
      EXPECT_TRUE(holds_image(m->base, kPage, bytes, os_page() / 2)) << "keep " << keep;
      ASSERT_TRUE(succeeds(a->grow(1, 1)));
      EXPECT_TRUE(all_zero(m->base, kPage, 2 * kPage));
      fill_pattern(m->base, 0, 2 * kPage, 12);
      ASSERT_TRUE(succeeds(a->deallocate(m->base, 2 * kPage)));
    }
  }
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
// The image's pages come from the memory file, not from a copy: allocate
// maps them with one MAP_FIXED mmap and the mapping names the memfd.
TEST_F(MemoryPoolTest, M4_TheImageIsMappedNotCopied) {
  auto image = MemoryImage::create(image_bytes(4 * os_page(), 13), 0);
  ASSERT_TRUE(succeeds(image));
  MemoryPool pool = make_pool({1, 1});
  auto a = pool.acquire(&*image);
  ASSERT_TRUE(succeeds(a));
  fault::reset();
  ASSERT_TRUE(succeeds(a->allocate(1)));
  EXPECT_EQ(fault::calls(fault::OsCall::MapFixed), 1u);
  EXPECT_EQ(fault::calls(fault::OsCall::Mmap), 0u);
  if (alloc_test::kMappingsAreOurs) {
    const auto at = reinterpret_cast<std::uintptr_t>(a->base());
    bool named = false;
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);)
      if (std::stoull(line, nullptr, 16) == at) named = line.find("memfd:") != std::string::npos;
    EXPECT_TRUE(named);
  }
  ASSERT_TRUE(succeeds(a->deallocate(a->base(), kPage)));
  // The reset discards the private copies and leaves the image mapped (M6).
  EXPECT_EQ(fault::calls(fault::OsCall::MapFixed), 1u);
  EXPECT_EQ(fault::calls(fault::OsCall::Madvise), 1u);
  fault::reset();
}

// Without memfd (ENOSYS) an image falls back to a copy, with the same results.
TEST_F(MemoryPoolTest, M4_WithoutMemfdTheImageIsCopied) {
  const auto bytes = image_bytes(3000, 14);
  fault::reset();
  fault::fail(fault::OsCall::MemfdCreate, ENOSYS);
  auto image = MemoryImage::create(bytes, 70000);
  fault::reset();
  ASSERT_TRUE(succeeds(image));
  EXPECT_FALSE(image->copy_on_write());
  MemoryPool pool = make_pool({2, 2, 0, kPage});
  auto a = pool.acquire(&*image);
  auto b = pool.acquire(&*image);
  ASSERT_TRUE(succeeds(a));
  ASSERT_TRUE(succeeds(b));
  const auto m = a->allocate(2);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EQ(fault::calls(fault::OsCall::MapFixed), 0u);
  EXPECT_TRUE(holds_image(m->base, 2 * kPage, bytes, 70000));
  fill_pattern(m->base, 0, 2 * kPage, 15);
  ASSERT_TRUE(succeeds(b->allocate(2)));
  EXPECT_TRUE(holds_image(b->base(), 2 * kPage, bytes, 70000));
  ASSERT_TRUE(succeeds(a->deallocate(m->base, 2 * kPage)));
  ASSERT_TRUE(succeeds(a->allocate(2)));
  EXPECT_TRUE(holds_image(a->base(), 2 * kPage, bytes, 70000));
  fault::reset();
}
#endif

TEST_F(MemoryPoolTest, M4_AnImageThatDoesNotFitTheInitialPagesIsOutOfBounds) {
  auto image = MemoryImage::create(image_bytes(10, 16), kPage - 5);
  ASSERT_TRUE(succeeds(image));
  MemoryPool pool = make_pool({1, 4});
  auto a = pool.acquire(&*image);
  ASSERT_TRUE(succeeds(a));
  EXPECT_TRUE(alloc_test::fails_unchanged(*a, ErrorCode::OutOfBounds,
                                          [](auto& x) { return x.allocate(1, 4); }));
  EXPECT_TRUE(a->holds_slot());
  // The argument checks come first.
  EXPECT_TRUE(alloc_test::fails_unchanged(*a, ErrorCode::InvalidArgument,
                                          [](auto& x) { return x.allocate(1, 0); }));
  EXPECT_TRUE(alloc_test::fails_unchanged(*a, ErrorCode::CapacityExceeded,
                                          [](auto& x) { return x.allocate(5); }));
  const auto m = a->allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  EXPECT_TRUE(holds_image(m->base, 2 * kPage, image_bytes(10, 16), kPage - 5));
}

TEST_F(MemoryPoolTest, M4_AnImagePast4GiBIsOutOfBounds) {
  const auto bytes = image_bytes(16, 17);
  EXPECT_TRUE(fails_with(MemoryImage::create(bytes, (std::uint64_t{1} << 32) - 15),
                         ErrorCode::OutOfBounds));
  EXPECT_TRUE(fails_with(MemoryImage::create(bytes, UINT64_MAX), ErrorCode::OutOfBounds));
}

TEST_F(MemoryPoolTest, M4_AnImageWithoutBytesGivesAZeroMemory) {
  auto image = MemoryImage::create({}, 3 * kPage);
  ASSERT_TRUE(succeeds(image));
  EXPECT_FALSE(image->copy_on_write());
  MemoryPool pool = make_pool({1, 4});
  auto a = pool.acquire(&*image);
  ASSERT_TRUE(succeeds(a));
  EXPECT_TRUE(fails_with(a->allocate(2), ErrorCode::OutOfBounds));  // offset past the memory
  const auto m = a->allocate(3);
  ASSERT_TRUE(succeeds(m));
  EXPECT_TRUE(all_zero(m->base, 0, 3 * kPage));
}

// --- Lifetime, moves, the memory provider -----------------------------------

TEST_F(MemoryPoolTest, M_PoolAndImageMayGoBeforeTheirMemories) {
  const auto bytes = image_bytes(100, 18);
  std::optional<PooledPageAllocator> a;
  {
    auto image = MemoryImage::create(bytes, 10);
    ASSERT_TRUE(succeeds(image));
    MemoryPool pool = make_pool({2, 2});
    auto acquired = pool.acquire(&*image);
    ASSERT_TRUE(succeeds(acquired));
    a.emplace(std::move(*acquired));
  }
  const auto m = a->allocate(1);
  ASSERT_TRUE(succeeds(m));
  EXPECT_TRUE(holds_image(m->base, kPage, bytes, 10));
  ASSERT_TRUE(succeeds(a->deallocate(m->base, kPage)));
  ASSERT_TRUE(succeeds(a->allocate(2)));
  EXPECT_TRUE(holds_image(a->base(), 2 * kPage, bytes, 10));
  a.reset();  // the last reference: the reservation goes
}

TEST_F(MemoryPoolTest, M_MovedFromPoolAndImageAreEmpty) {
  MemoryPool pool = make_pool({2, 1});
  MemoryPool moved(std::move(pool));
  EXPECT_EQ(pool.slots(), 0u);
  EXPECT_EQ(pool.available_slots(), 0u);
  EXPECT_EQ(pool.retired_slots(), 0u);
  EXPECT_EQ(pool.slot_base(0), nullptr);
  EXPECT_TRUE(fails_with(pool.acquire(), ErrorCode::CapacityExceeded));
  pool = std::move(moved);
  EXPECT_EQ(pool.slots(), 2u);
  auto& self = pool;
  pool = std::move(self);
  EXPECT_EQ(pool.slots(), 2u);

  auto image = MemoryImage::create(image_bytes(8, 19), 0);
  ASSERT_TRUE(succeeds(image));
  MemoryImage other(std::move(*image));
  EXPECT_EQ(image->size(), 0u);
  EXPECT_EQ(image->offset(), 0u);
  EXPECT_FALSE(image->copy_on_write());
  EXPECT_TRUE(fails_with(pool.acquire(&*image), ErrorCode::InvalidArgument));
  *image = std::move(other);
  EXPECT_EQ(image->size(), 8u);
  auto& same = *image;
  *image = std::move(same);
  EXPECT_EQ(image->size(), 8u);

  // A moved-from allocator holds no pool: nothing to allocate from.
  auto a = pool.acquire();
  ASSERT_TRUE(succeeds(a));
  PooledPageAllocator b(std::move(*a));
  EXPECT_FALSE(a->holds_slot());
  EXPECT_TRUE(fails_with(a->allocate(0, 0), ErrorCode::CapacityExceeded));
  EXPECT_TRUE(b.holds_slot());
}

TEST_F(MemoryPoolTest, M_CreateRejectsZeroSlots) {
  EXPECT_TRUE(fails_with(MemoryPool::create({0, 1}), ErrorCode::InvalidArgument));
  EXPECT_TRUE(fails_with(MemoryPool::create({2, 1, SIZE_MAX}), ErrorCode::CapacityExceeded));
}

// X1: where size_t has 32 bits, a slot of 65536 pages (2^32 bytes) cannot be
// reserved: create() says CapacityExceeded before any OS call. This is the
// pooled backend's X1 answer; the typed A5 test, which needs such a pool,
// skips there (allocator_conformance_test.cpp).
TEST_F(MemoryPoolTest, X1_A65536PageSlotIsCapacityExceededWithA32BitSizeT) {
  if constexpr (alloc_test::kSizeTHoldsFourGiB)
    GTEST_SKIP() << "size_t has 64 bits here: 65536-page slots fit (A5 tests); runs in the i686 "
                    "preset";
  EXPECT_TRUE(fails_with(MemoryPool::create({1, 65536}), ErrorCode::CapacityExceeded));
  auto pool = MemoryPool::create({1, 16});
  ASSERT_TRUE(succeeds(pool));
  auto a = pool->acquire();
  ASSERT_TRUE(succeeds(a));
  EXPECT_TRUE(fails_with(a->allocate(0, 65536), ErrorCode::CapacityExceeded));
  EXPECT_TRUE(succeeds(a->allocate(1, 16)));
}

TEST_F(MemoryPoolTest, P1_AMemoryProviderWorksOverAPooledAllocator) {
  const auto bytes = image_bytes(64, 20);
  auto image = MemoryImage::create(bytes, 8);
  ASSERT_TRUE(succeeds(image));
  MemoryPool pool = make_pool({1, 4});
  auto a = pool.acquire(&*image);
  ASSERT_TRUE(succeeds(a));
  auto provider = PalMemoryProvider<PooledPageAllocator>::create(std::move(*a), 1, 4);
  ASSERT_TRUE(succeeds(provider));
  std::vector<std::byte> read(64);
  ASSERT_TRUE(succeeds(provider->read(8, read)));
  EXPECT_EQ(read, bytes);
  EXPECT_EQ(provider->grow(2).value_or(0), 1u);
  EXPECT_EQ(provider->capacity(), 3 * kPage);
  EXPECT_EQ(pool.available_slots(), 0u);
}

}  // namespace
}  // namespace wrt::platform::pool_test
#endif
