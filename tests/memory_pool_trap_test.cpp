// Traps on pooled memories (docs/SPEC.md, sections T and M): a memory that
// lives in a MemoryPool slot is in the trap registry from allocate() to
// deallocate(), exactly like an MmapPageAllocator memory, so its uncommitted
// bytes and its slot's guard trap inside catch_traps (T1), committed and
// image-mapped bytes never do (T2), and a released slot is not ours (T3)
// until the next user's allocate() publishes it. The registry tests read the
// registry directly (no handler); the others run in a child process
// (trap_test_support.hpp).
#include <gtest/gtest.h>

#ifdef __linux__
#include <signal.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "memory_pool_test_support.hpp"
#include "trap/fault_registry.hpp"
#include "trap_test_support.hpp"
#include "wrt/platform.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::trap_test {
namespace {

class PooledTraps : public TrapTest {};

std::uintptr_t address_of(const std::byte* p) { return reinterpret_cast<std::uintptr_t>(p); }

using pool_test::make_pool;

PooledPageAllocator acquire_from(MemoryPool& pool, const MemoryImage* image = nullptr) {
  auto a = pool.acquire(image);
  EXPECT_TRUE(a) << a.error().message();
  return std::move(*a);
}

// A pooled memory of `initial` committed pages, acquired and allocated.
PooledPageAllocator allocated_from(MemoryPool& pool, std::uint32_t initial,
                                   const MemoryImage* image = nullptr) {
  auto a = acquire_from(pool, image);
  auto m = a.allocate(initial);
  EXPECT_TRUE(m) << m.error().message();
  return a;
}

// Bytes from one slot's base to the next: the memory, its guard and the
// rounding up to kWasmPageSize (all inaccessible past the committed bytes).
// The pool needs at least two slots.
std::size_t slot_stride(const MemoryPool& pool) {
  return static_cast<std::size_t>(pool.slot_base(1) - pool.slot_base(0));
}

void expect_registered(const std::byte* base, std::size_t committed_bytes, std::size_t stride) {
  const auto view = trap::find_live(address_of(base));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->begin, address_of(base));
  EXPECT_EQ(view->committed_end, address_of(base) + committed_bytes);
  EXPECT_EQ(view->end, address_of(base) + stride);
  const auto last = trap::find_live(address_of(base) + stride - 1);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->begin, view->begin);
}

void expect_not_registered(const std::byte* base, std::size_t stride) {
  EXPECT_EQ(trap::find_live(address_of(base)), std::nullopt);
  EXPECT_EQ(trap::find_live(address_of(base) + stride - 1), std::nullopt);
}

void expect_no_access_traps_at(std::byte* p) {
  for (const std::size_t width : kWidths) {
    SCOPED_TRACE(width);
    EXPECT_EQ(trap_of_load(p, width), std::nullopt);
    EXPECT_EQ(trap_of_store(p, width), std::nullopt);
  }
}

// --- The registry, read directly ------------------------------------------

TEST(PooledTrapRegistry, T1_M1_LiveMemoryIsRegisteredWithItsWholeSlot) {
  auto pool = make_pool({.slots = 2, .maximum_pages = 4, .guard_bytes = kPage});
  auto a = acquire_from(pool);
  // Acquired, not allocated: no memory lives in the slot yet.
  expect_not_registered(pool.slot_base(0), slot_stride(pool));
  ASSERT_TRUE(a.allocate(1));
  expect_registered(a.base(), kPage, slot_stride(pool));
  // The neighbouring slot is not this memory's.
  EXPECT_EQ(trap::find_live(address_of(pool.slot_base(1))), std::nullopt);
}

TEST(PooledTrapRegistry, T1_M1_GrowPublishesTheNewCommittedEnd) {
  auto pool = make_pool({.slots = 2, .maximum_pages = 4});
  auto a = allocated_from(pool, 1);
  ASSERT_TRUE(a.grow(1, 2));
  expect_registered(a.base(), 3 * kPage, slot_stride(pool));
  ASSERT_TRUE(a.grow(3, 0));
  expect_registered(a.base(), 3 * kPage, slot_stride(pool));
}

TEST(PooledTrapRegistry, T3_M2_ReleasedSlotIsNotOursUntilTheNextAllocatePublishesIt) {
  auto pool = make_pool({.slots = 2, .maximum_pages = 2, .keep_resident_bytes = kPage});
  const std::size_t stride = slot_stride(pool);
  std::byte* const slot = pool.slot_base(0);
  {
    auto a = allocated_from(pool, 2);
    ASSERT_TRUE(a.deallocate(a.base(), a.committed_bytes()));
    expect_not_registered(slot, stride);
    // The same allocator takes the slot again: registered once allocated.
    ASSERT_TRUE(a.allocate(1));
    expect_registered(slot, kPage, stride);
  }  // the destructor resets the slot
  expect_not_registered(slot, stride);
  auto next = acquire_from(pool);
  expect_not_registered(slot, stride);
  ASSERT_TRUE(next.allocate(2));
  expect_registered(slot, 2 * kPage, stride);
}

TEST(PooledTrapRegistry, T1_M1_MovesKeepTheRegistration) {
  auto pool = make_pool({.slots = 2, .maximum_pages = 2});
  const std::size_t stride = slot_stride(pool);
  auto a = allocated_from(pool, 1);
  PooledPageAllocator moved(std::move(a));
  expect_registered(moved.base(), kPage, stride);
  ASSERT_TRUE(moved.grow(1, 1));
  expect_registered(moved.base(), 2 * kPage, stride);

  // Move-assigning over a live memory releases that one's registration.
  auto b = allocated_from(pool, 1);
  std::byte* const b_base = b.base();
  b = std::move(moved);
  expect_not_registered(b_base, stride);
  expect_registered(b.base(), 2 * kPage, stride);
  ASSERT_TRUE(b.deallocate(b.base(), b.committed_bytes()));
  expect_not_registered(pool.slot_base(0), stride);
}

TEST(PooledTrapRegistry, T6_M1_AllocateWithoutAFreeSlotGivesItsRegistryEntryBack) {
  auto pool = make_pool({.slots = 1, .maximum_pages = 1});
  auto a = allocated_from(pool, 1);
  ASSERT_TRUE(a.deallocate(a.base(), kPage));
  auto other = acquire_from(pool);  // the only slot
  const std::size_t claimed_before = trap::claimed_entries();
  auto m = a.allocate(1);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::CapacityExceeded);
  EXPECT_EQ(trap::claimed_entries(), claimed_before);
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
TEST(PooledTrapRegistry, T6_M5_FailedAllocateAndFailedResetGiveTheirRegistryEntryBack) {
  auto pool = make_pool({.slots = 2, .maximum_pages = 2});
  auto a = acquire_from(pool);
  const std::size_t claimed_before = trap::claimed_entries();
  fault::reset();
  fault::fail(fault::OsCall::Mprotect, ENOMEM);
  EXPECT_FALSE(a.allocate(1));
  fault::reset();
  EXPECT_EQ(trap::claimed_entries(), claimed_before);
  expect_not_registered(pool.slot_base(0), slot_stride(pool));

  ASSERT_TRUE(a.allocate(2));
  EXPECT_EQ(trap::claimed_entries(), claimed_before + 1);
  fault::fail(fault::OsCall::Madvise, EINVAL);
  fault::fail(fault::OsCall::MapFixed, EINVAL);               // and its fallback (S8)
  EXPECT_FALSE(a.deallocate(a.base(), a.committed_bytes()));  // the slot is retired
  fault::reset();
  EXPECT_EQ(pool.retired_slots(), 1u);
  EXPECT_EQ(trap::claimed_entries(), claimed_before);
  expect_not_registered(pool.slot_base(0), slot_stride(pool));
}
#endif

// --- Traps, in a child with the handler installed ------------------------

TEST_F(PooledTraps, T1_UncommittedByteOfAPooledMemoryTraps) {
  WRT_IN_CHILD({
    install_or_fail();
    auto pool = make_pool({.slots = 2, .maximum_pages = 4, .guard_bytes = kPage});
    auto a = allocated_from(pool, 1);
    expect_every_access_traps_at(a.base() + a.committed_bytes());
    expect_every_access_traps_at(a.base() + 4 * kPage - 8);  // the last reserved bytes
  });
}

TEST_F(PooledTraps, T1_M1_GuardOfThePooledSlotTraps) {
  WRT_IN_CHILD({
    install_or_fail();
    auto pool = make_pool({.slots = 2, .maximum_pages = 2, .guard_bytes = 3 * kPage});
    auto a = allocated_from(pool, 2);
    expect_every_access_traps_at(a.base() + 2 * kPage);              // first guard byte
    expect_every_access_traps_at(a.base() + slot_stride(pool) - 8);  // last one
    // The second slot's memory traps as well, each reporting its own address.
    auto b = allocated_from(pool, 1);
    expect_every_access_traps_at(b.base() + kPage);
  });
}

TEST_F(PooledTraps, T1_M3_PastTheKeptBytesAfterReleaseAndReacquireTraps) {
  WRT_IN_CHILD({
    install_or_fail();
    auto pool = make_pool({.slots = 1, .maximum_pages = 4, .keep_resident_bytes = 2 * kPage});
    {
      auto a = allocated_from(pool, 4);
      store(a.base() + 3 * kPage, 8, 7);
    }
    // The next user's memory is smaller than the kept bytes: its end is
    // inaccessible again, and so is everything past the kept bytes.
    auto small = allocated_from(pool, 1);
    expect_every_access_traps_at(small.base() + kPage);
    expect_every_access_traps_at(small.base() + 2 * kPage);
    ASSERT_TRUE(small.deallocate(small.base(), kPage));
    // Larger than the kept bytes: traps right at its own end.
    ASSERT_TRUE(small.allocate(3));
    expect_no_access_traps_at(small.base() + 3 * kPage - 8);
    expect_every_access_traps_at(small.base() + 3 * kPage);
  });
}

TEST_F(PooledTraps, T2_M4_CommittedAndImageMappedBytesNeverTrap) {
  WRT_IN_CHILD({
    install_or_fail();
    std::vector<std::byte> bytes(3 * 4096 + 5, std::byte{0x5a});
    auto image = MemoryImage::create(bytes, kPage - 100);
    ASSERT_TRUE(image) << image.error().message();
    auto pool = make_pool(
        {.slots = 1, .maximum_pages = 3, .guard_bytes = kPage, .keep_resident_bytes = kPage});
    auto a = allocated_from(pool, 2, &*image);
    std::byte* const image_start = a.base() + kPage - 100;
    std::uint64_t seen = 0;
    EXPECT_EQ(catch_traps([&] { seen = load(image_start, 8); }), std::nullopt);
    EXPECT_EQ(seen, 0x5a5a5a5a5a5a5a5au);
    expect_no_access_traps_at(image_start);
    expect_no_access_traps_at(image_start + bytes.size() - 8);
    expect_no_access_traps_at(a.base());                  // kept bytes
    expect_no_access_traps_at(a.base() + 2 * kPage - 8);  // the last committed bytes
    ASSERT_TRUE(a.grow(2, 1));
    expect_no_access_traps_at(a.base() + 3 * kPage - 8);
    expect_every_access_traps_at(a.base() + 3 * kPage);
  });
}

TEST_F(PooledTraps, T1_M1_GrowThenTrapAtTheNewEnd) {
  WRT_IN_CHILD({
    install_or_fail();
    auto pool = make_pool({.slots = 1, .maximum_pages = 3});
    auto a = allocated_from(pool, 1);
    expect_every_access_traps_at(a.base() + kPage);
    ASSERT_TRUE(a.grow(1, 1));
    expect_no_access_traps_at(a.base() + kPage);
    expect_every_access_traps_at(a.base() + 2 * kPage);
  });
}

TEST_F(PooledTraps, T1_MovedPooledAllocatorStillTraps) {
  WRT_IN_CHILD({
    install_or_fail();
    auto pool = make_pool({.slots = 2, .maximum_pages = 2});
    auto a = allocated_from(pool, 1);
    PooledPageAllocator moved(std::move(a));
    expect_every_access_traps_at(moved.base() + kPage);
    auto b = acquire_from(pool);
    b = std::move(moved);
    expect_every_access_traps_at(b.base() + kPage);
  });
}

// T3: a released slot is not ours, whatever is mapped there. Its last
// memory was one page: past it the slot is inaccessible (M6).
void load_in_released_slot(std::size_t offset) {
  install_or_fail();
  auto pool = make_pool(
      {.slots = 1, .maximum_pages = 2, .guard_bytes = kPage, .keep_resident_bytes = kPage});
  auto a = allocated_from(pool, 1);
  std::byte* const former = a.base();
  ASSERT_TRUE(a.deallocate(a.base(), a.committed_bytes()));
  (void)catch_traps([&] { (void)load(former + offset, 4); });
}

TEST_F(PooledTraps, T3_M6_ReleasedSlotPastItsLastMemoryStillKills) {
  EXPECT_EXIT(load_in_released_slot(kPage), DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

TEST_F(PooledTraps, T3_ReleasedSlotsGuardStillKills) {
  EXPECT_EXIT(load_in_released_slot(2 * kPage), DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

TEST_F(PooledTraps, T3_AcquiredButNotAllocatedSlotStillKills) {
  EXPECT_EXIT(
      {
        install_or_fail();
        auto pool = make_pool({.slots = 1, .maximum_pages = 1});
        auto a = acquire_from(pool);
        (void)catch_traps([&] { (void)load(pool.slot_base(0), 4); });
      },
      DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

}  // namespace
}  // namespace wrt::platform::trap_test
#endif  // __linux__
