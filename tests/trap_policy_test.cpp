// The platform-free half of traps, tested directly: the decision "is this
// fault ours" (trap/fault_policy.hpp) and the registry of live reservations
// (trap/fault_registry.hpp), plus T5's reservation_bytes on both backends.
// No signal is raised here.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <vector>

#include "memory_backend_support.hpp"
#include "trap/fault_policy.hpp"
#include "trap/fault_registry.hpp"
#include "trap_test_support.hpp"
#include "wrt/platform.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::trap_test {
namespace {

using trap::classify_fault;
using trap::FaultFacts;
using trap::FaultVerdict;
using trap::ReservationView;

constexpr ReservationView kView{0x10000, 0x30000, 0x50000};

FaultFacts facts(std::uintptr_t address, std::optional<ReservationView> view = kView) {
  return {address, true, true, view, false};
}

TEST(TrapPolicy, T1_FaultAtOrPastTheCommittedEndOfALiveReservationIsATrap) {
  EXPECT_EQ(classify_fault(facts(0x30000)), FaultVerdict::Trap);
  EXPECT_EQ(classify_fault(facts(0x4ffff)), FaultVerdict::Trap);
  EXPECT_EQ(classify_fault(facts(0x3abcd)), FaultVerdict::Trap);
}

TEST(TrapPolicy, T2_FaultBelowTheCommittedEndIsRetriedOnceThenForeign) {
  EXPECT_EQ(classify_fault(facts(0x2ffff)), FaultVerdict::Retry);
  // 16 bytes below the committed end: no access can straddle it (S10).
  auto again = facts(0x2fff0);
  again.already_retried_here = true;
  EXPECT_EQ(classify_fault(again), FaultVerdict::Foreign);
  // Retrying elsewhere does not make a trap foreign.
  auto trap = facts(0x30000);
  trap.already_retried_here = true;
  EXPECT_EQ(classify_fault(trap), FaultVerdict::Trap);
}

TEST(TrapPolicy, T3_EverythingElseIsForeign) {
  EXPECT_EQ(classify_fault(facts(0x30000, std::nullopt)), FaultVerdict::Foreign);
  auto outside = facts(0x30000);
  outside.inside_catch = false;
  EXPECT_EQ(classify_fault(outside), FaultVerdict::Foreign);
  auto sent = facts(0x30000);
  sent.raised_by_access = false;
  EXPECT_EQ(classify_fault(sent), FaultVerdict::Foreign);
}

// The registry is process-global: each test publishes ranges no real memory
// can have (the top of the address space) and gives its entries back.
constexpr std::uintptr_t kFake = UINTPTR_MAX - (std::uintptr_t{1} << 24);

TEST(TrapRegistry, T1_PublishedRangeIsFoundUntilRetracted) {
  trap::Entry* const slot = trap::claim_entry();
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(trap::find_live(kFake), std::nullopt);  // claimed is not live
  trap::publish(slot, {kFake, kFake + 0x10000, kFake + 0x40000});
  auto found = trap::find_live(kFake + 0x3ffff);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->begin, kFake);
  EXPECT_EQ(found->committed_end, kFake + 0x10000);
  EXPECT_EQ(found->end, kFake + 0x40000);
  EXPECT_EQ(trap::find_live(kFake + 0x40000), std::nullopt);
  EXPECT_EQ(trap::find_live(kFake - 1), std::nullopt);
  trap::publish_committed_end(slot, kFake + 0x20000);
  EXPECT_EQ(trap::find_live(kFake)->committed_end, kFake + 0x20000);
  trap::retract(slot);
  EXPECT_EQ(trap::find_live(kFake), std::nullopt);
  trap::release_entry(slot);
}

TEST(TrapRegistry, T3_ReusedRangeIsReportedOnlyAfterTheNewOwnerPublishes) {
  trap::Entry* const first = trap::claim_entry();
  ASSERT_NE(first, nullptr);
  trap::publish(first, {kFake, kFake + 0x10000, kFake + 0x40000});
  trap::retract(first);
  trap::release_entry(first);
  // A new owner of the same addresses, maybe in the same entry.
  trap::Entry* const second = trap::claim_entry();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(trap::find_live(kFake + 0x20000), std::nullopt);
  trap::publish(second, {kFake, kFake + 0x30000, kFake + 0x40000});
  EXPECT_EQ(trap::find_live(kFake + 0x20000)->committed_end, kFake + 0x30000);
  trap::retract(second);
  trap::release_entry(second);
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
// S1: registration needs heap memory only. With none for the entry (injected
// through the seam), allocate is CapacityExceeded before any OS call,
// nothing is claimed, and the next allocate works.
TEST(TrapRegistry, S1_NoHeapForTheEntryFailsAllocateBeforeAnyOsCall) {
  const std::size_t claimed = trap::claimed_entries();
  fault::reset();
  fault::fail(fault::OsCall::HeapAlloc, ENOMEM);
  MmapPageAllocator a;
  auto m = a.allocate(1, 1);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::CapacityExceeded);
  EXPECT_FALSE(a.is_allocated());
  EXPECT_EQ(fault::calls(fault::OsCall::Mmap), 0u);
  EXPECT_EQ(trap::claimed_entries(), claimed);
  EXPECT_TRUE(a.allocate(1, 1));
  fault::reset();
}

// S1: a claim that needs more tree nodes (the reserve grows with the claims)
// and gets none gives its entry back: the claim fails, nothing is claimed.
TEST(TrapRegistry, S1_NoHeapForTheNodesFailsTheClaimAndKeepsNothing) {
  const std::size_t claimed = trap::claimed_entries();
  std::vector<trap::Entry*> held;
  bool refused = false;
  // Claims succeed while the node reserve covers them; the first that must
  // grow it asks the heap twice (entry, then a node) and gets no node.
  for (std::size_t i = 0; i < 1'000'000 && !refused; ++i) {
    fault::reset();
    fault::fail(fault::OsCall::HeapAlloc, ENOMEM, /*skip=*/1);
    trap::Entry* const entry = trap::claim_entry();
    if (fault::calls(fault::OsCall::HeapAlloc) >= 2) {
      EXPECT_EQ(entry, nullptr);
      refused = true;
    } else {
      ASSERT_NE(entry, nullptr);
      held.push_back(entry);
    }
  }
  fault::reset();
  EXPECT_TRUE(refused) << "no claim had to grow the node reserve";
  EXPECT_EQ(trap::claimed_entries(), claimed + held.size());
  for (trap::Entry* entry : held) trap::release_entry(entry);
  EXPECT_EQ(trap::claimed_entries(), claimed);
}
#endif

TEST(TrapRegistry, T1_LiveMemoryIsRegisteredWithItsGuardAndDeallocatedIsNot) {
  MmapPageAllocator a({.guard_bytes = 3 * kPage});
  ASSERT_TRUE(a.allocate(1, 2));
  const auto base = reinterpret_cast<std::uintptr_t>(a.base());
  auto found = trap::find_live(base + 5 * kPage - 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->begin, base);
  EXPECT_EQ(found->committed_end, base + kPage);
  EXPECT_EQ(found->end, base + 5 * kPage);
  ASSERT_TRUE(a.grow(1, 1));
  EXPECT_EQ(trap::find_live(base)->committed_end, base + 2 * kPage);
  ASSERT_TRUE(a.deallocate(a.base(), 2 * kPage));
  EXPECT_EQ(trap::find_live(base), std::nullopt);
}

TEST(TrapRegistry, T1_DestroyedMemoryIsNotRegistered) {
  std::uintptr_t base = 0;
  {
    MmapPageAllocator a;
    ASSERT_TRUE(a.allocate(0, 1));
    base = reinterpret_cast<std::uintptr_t>(a.base());
    EXPECT_TRUE(trap::find_live(base));
  }
  EXPECT_EQ(trap::find_live(base), std::nullopt);
}

TEST(ReservationBytes, T5_ReservationIsAtLeastReservationBytesRoundedToWasmPages) {
  MmapPageAllocator a({.reservation_bytes = 3 * kPage + 1});
  ASSERT_TRUE(a.allocate(1, 2));
  EXPECT_EQ(a.reserved_bytes(), 4 * kPage);
  auto past = a.grow(1, 2);  // the maximum still limits growth
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code(), ErrorCode::CapacityExceeded);
  MmapPageAllocator b({.reservation_bytes = kPage});
  ASSERT_TRUE(b.allocate(1, 8));
  EXPECT_EQ(b.reserved_bytes(), 8 * kPage);  // the larger of the two
}

TEST(ReservationBytes, T5_ReservationThatOverflowsIsCapacityExceededBeforeAnyOsCall) {
  MmapPageAllocator a({.reservation_bytes = SIZE_MAX});
  auto m = a.allocate(1, 1);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::CapacityExceeded);
  MmapPageAllocator b({.guard_bytes = kPage, .reservation_bytes = SIZE_MAX - kPage});
  auto n = b.allocate(1, 1);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code(), ErrorCode::CapacityExceeded);
  EXPECT_FALSE(b.is_allocated());
}

TEST(ReservationBytes, T5_StaticPageAllocatorIgnoresIt) {
  // On the heap: a PE object file cannot align a static to 64 KiB (windows preset).
  const std::unique_ptr<std::byte[], memory_testing::Backend<StaticPageAllocator>::AlignedDelete>
      buffer(new (std::align_val_t{kWasmPageSize}) std::byte[2 * kWasmPageSize]);
  auto a = StaticPageAllocator::create(std::span(buffer.get(), 2 * kWasmPageSize),
                                       {.maximum_pages = 2, .reservation_bytes = k4GiB});
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->allocate(1, 2));
  EXPECT_EQ(a->reserved_bytes(), 2 * kPage);
}

}  // namespace
}  // namespace wrt::platform::trap_test
