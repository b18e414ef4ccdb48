// Page allocator conformance (docs/SPEC.md, section A): every clause that
// both backends share, run as a typed suite over MmapPageAllocator and
// StaticPageAllocator, plus the backend-specific clauses. Every failed call is
// checked to report its exact error and to leave every observer and every
// committed byte unchanged (A12). OS failures: allocator_fault_test.cpp; the
// MMU (A10), residency, leaks and a real OOM: allocator_os_test.cpp.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "allocator_test_support.hpp"
#include "wrt/platform.hpp"

namespace wrt::platform::alloc_test {
namespace {

constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kPage = kWasmPageSize;
// 2^32 bytes, or 0 where size_t has 32 bits (tests that use it skip there).
constexpr std::size_t kFourGiB = static_cast<std::size_t>(std::uint64_t{1} << 32);

static_assert(PageAllocator<MmapPageAllocator>);
static_assert(PageAllocator<StaticPageAllocator>);

template <typename A>
class AllocatorConformance : public ::testing::Test {
 protected:
  A make(std::uint32_t maximum_pages = 8, std::size_t guard_bytes = 0) {
    return backend_.make(PageAllocatorConfig{maximum_pages, guard_bytes});
  }

 private:
  Backend<A> backend_;
};
TYPED_TEST_SUITE(AllocatorConformance, Backends, BackendName);

TYPED_TEST(AllocatorConformance, A1_AllocateCommitsZeroedReadableWritablePages) {
  auto a = this->make();
  const auto m = a.allocate(3, 5);
  ASSERT_TRUE(succeeds(m));
  ASSERT_NE(m->base, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m->base) % kWasmPageSize, 0u);
  EXPECT_EQ(m->committed_bytes, 3 * kPage);
  EXPECT_EQ(a.base(), m->base);
  EXPECT_EQ(a.committed_pages(), 3u);
  EXPECT_EQ(a.committed_bytes(), 3 * kPage);
  EXPECT_EQ(a.reserved_bytes(), 5 * kPage);
  EXPECT_TRUE(a.is_allocated());
  EXPECT_TRUE(all_zero(m->base, 0, 3 * kPage));
  fill_pattern(m->base, 0, 3 * kPage, 1);
  EXPECT_TRUE(holds_pattern(m->base, 0, 3 * kPage, 1));
}

TYPED_TEST(AllocatorConformance, A2_ZeroInitialPagesGiveAStableNonNullBase) {
  auto a = this->make();
  const auto m = a.allocate(0, 4);
  ASSERT_TRUE(succeeds(m));
  ASSERT_NE(m->base, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m->base) % kWasmPageSize, 0u);
  EXPECT_EQ(m->committed_bytes, 0u);
  EXPECT_EQ(a.committed_pages(), 0u);
  EXPECT_EQ(a.reserved_bytes(), 4 * kPage);
  EXPECT_TRUE(a.is_allocated());

  ASSERT_TRUE(succeeds(a.grow(0, 1)));
  EXPECT_EQ(a.base(), m->base);
  EXPECT_EQ(a.committed_bytes(), kPage);
  EXPECT_TRUE(all_zero(m->base, 0, kPage));
  fill_pattern(m->base, 0, kPage, 2);
  EXPECT_TRUE(holds_pattern(m->base, 0, kPage, 2));
}

TYPED_TEST(AllocatorConformance, A2_ZeroInitialAndZeroMaximumIsAValidEmptyMemory) {
  auto a = this->make();
  const auto m = a.allocate(0, 0);
  ASSERT_TRUE(succeeds(m));
  EXPECT_NE(m->base, nullptr);
  EXPECT_EQ(a.reserved_bytes(), 0u);
  EXPECT_TRUE(succeeds(a.grow(0, 0)));
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.grow(0, 1); }));
  EXPECT_TRUE(succeeds(a.deallocate(m->base, 0)));
  EXPECT_TRUE(is_empty(a));
}

TYPED_TEST(AllocatorConformance, A3_MaximumBelowInitialIsInvalidArgument) {
  auto a = this->make(4);
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::InvalidArgument, [](auto& x) { return x.allocate(3, 2); }));
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::InvalidArgument, [](auto& x) { return x.allocate(1, 0); }));
  // Both wrong (maximum < initial, initial above the limit): the argument
  // error comes first.
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::InvalidArgument, [](auto& x) { return x.allocate(9, 5); }));
  EXPECT_TRUE(is_empty(a));
  // Nothing was left behind: the allocator still allocates.
  EXPECT_TRUE(succeeds(a.allocate(2, 2)));
}

TYPED_TEST(AllocatorConformance, A3_PagesAboveTheAllocatorLimitAreCapacityExceeded) {
  auto a = this->make(4);
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.allocate(1, 5); }));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::CapacityExceeded,
                              [](auto& x) { return x.allocate(5, std::nullopt); }));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::CapacityExceeded,
                              [](auto& x) { return x.allocate(0, kU32Max); }));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::CapacityExceeded,
                              [](auto& x) { return x.allocate(kU32Max, kU32Max); }));
  EXPECT_TRUE(is_empty(a));
  // Exactly at the limit is fine.
  const auto m = a.allocate(4, 4);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EQ(a.committed_bytes(), 4 * kPage);
}

TYPED_TEST(AllocatorConformance, A4_NoMaximumReservesTheAllocatorLimit) {
  auto a = this->make(6);
  ASSERT_TRUE(succeeds(a.allocate(1)));
  EXPECT_EQ(a.reserved_bytes(), 6 * kPage);
  ASSERT_TRUE(succeeds(a.grow(1, 5)));
  EXPECT_EQ(a.committed_pages(), 6u);
  EXPECT_TRUE(all_zero(a.base(), 0, 6 * kPage));
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.grow(6, 1); }));
}

TYPED_TEST(AllocatorConformance, A4_DeclaredMaximumIsTheReservation) {
  auto a = this->make(8);
  ASSERT_TRUE(succeeds(a.allocate(1, 3)));
  EXPECT_EQ(a.reserved_bytes(), 3 * kPage);
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.grow(1, 3); }));
  EXPECT_TRUE(succeeds(a.grow(1, 2)));
}

// 65536 pages is 2^32 bytes: 32-bit byte arithmetic would wrap to 0.
TYPED_TEST(AllocatorConformance, A5_65536PagesReserveFourGiBWithoutWrapping) {
  WRT_SKIP_UNLESS_SIZE_T_HOLDS_FOUR_GIB();
  auto a = this->make(65536);
  const auto m = a.allocate(0, 65536);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EQ(a.reserved_bytes(), kFourGiB);
  ASSERT_TRUE(succeeds(a.grow(0, 1)));
  EXPECT_EQ(a.committed_bytes(), kPage);
  EXPECT_TRUE(all_zero(a.base(), 0, kPage));
  fill_pattern(a.base(), 0, kPage, 3);
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.grow(1, 65536); }));
  ASSERT_TRUE(succeeds(a.deallocate(m->base, kPage)));

  // Without a declared maximum the reservation is the limit, 65536 pages.
  ASSERT_TRUE(succeeds(a.allocate(1)));
  EXPECT_EQ(a.reserved_bytes(), kFourGiB);
}

TYPED_TEST(AllocatorConformance, A6_SecondAllocateIsAlreadyAllocated) {
  auto a = this->make();
  const auto m = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, 2 * kPage, 4);
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::AlreadyAllocated, [](auto& x) { return x.allocate(2, 4); }));
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::AlreadyAllocated, [](auto& x) { return x.allocate(0, 0); }));
  // Being allocated is reported before anything wrong with the arguments.
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::AlreadyAllocated, [](auto& x) { return x.allocate(5, 1); }));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::AlreadyAllocated,
                              [](auto& x) { return x.allocate(kU32Max, std::nullopt); }));
  EXPECT_TRUE(holds_pattern(m->base, 0, 2 * kPage, 4));
}

TYPED_TEST(AllocatorConformance, A7_GrowKeepsBaseZeroFillsNewPagesAndPreservesBytes) {
  auto a = this->make();
  const auto m = a.allocate(1, 4);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, kPage, 5);

  ASSERT_TRUE(succeeds(a.grow(1, 2)));
  EXPECT_EQ(a.base(), m->base);
  EXPECT_EQ(a.committed_pages(), 3u);
  EXPECT_EQ(a.committed_bytes(), 3 * kPage);
  EXPECT_EQ(a.reserved_bytes(), 4 * kPage);
  EXPECT_TRUE(holds_pattern(m->base, 0, kPage, 5));
  EXPECT_TRUE(all_zero(m->base, kPage, 3 * kPage));
  fill_pattern(m->base, kPage, 3 * kPage, 5);

  ASSERT_TRUE(succeeds(a.grow(3, 1)));
  EXPECT_EQ(a.base(), m->base);
  EXPECT_TRUE(holds_pattern(m->base, 0, 3 * kPage, 5));
  EXPECT_TRUE(all_zero(m->base, 3 * kPage, 4 * kPage));
}

TYPED_TEST(AllocatorConformance, A7_GrowOnePageAtATimeUpToTheReservation) {
  auto a = this->make();
  const auto m = a.allocate(0, 8);
  ASSERT_TRUE(succeeds(m));
  for (std::uint32_t pages = 0; pages < 8; ++pages) {
    ASSERT_TRUE(succeeds(a.grow(pages, 1))) << "at " << pages << " pages";
    EXPECT_EQ(a.base(), m->base);
    EXPECT_EQ(a.committed_pages(), pages + 1);
    EXPECT_TRUE(all_zero(m->base, pages * kPage, (pages + 1) * kPage));
    fill_pattern(m->base, pages * kPage, (pages + 1) * kPage, 6);
  }
  EXPECT_TRUE(holds_pattern(m->base, 0, 8 * kPage, 6));
}

TYPED_TEST(AllocatorConformance, A7_GrowWithWrongCurrentPagesIsStateMismatch) {
  auto a = this->make();
  const auto m = a.allocate(2, 8);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, 2 * kPage, 7);
  for (const std::uint32_t current : {0u, 1u, 3u, 8u, kU32Max}) {
    EXPECT_TRUE(
        fails_unchanged(a, ErrorCode::StateMismatch, [&](auto& x) { return x.grow(current, 1); }))
        << "current_pages " << current;
    // Growing by 0 checks current_pages too: a caller out of step learns it.
    EXPECT_TRUE(
        fails_unchanged(a, ErrorCode::StateMismatch, [&](auto& x) { return x.grow(current, 0); }))
        << "current_pages " << current;
  }
  // A wrong current_pages is reported before a too large growth.
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::StateMismatch, [](auto& x) { return x.grow(3, kU32Max); }));
}

TYPED_TEST(AllocatorConformance, A8_GrowByZeroSucceedsAndChangesNothing) {
  auto a = this->make();
  const auto m = a.allocate(2, 2);  // full: growing by 0 is still fine
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, 2 * kPage, 8);
  const Snapshot before = snapshot(a);
  EXPECT_TRUE(succeeds(a.grow(2, 0)));
  EXPECT_TRUE(unchanged_since(before, a));
}

TYPED_TEST(AllocatorConformance, A8_GrowWhileNotAllocatedIsNotAllocated) {
  auto a = this->make();
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated, [](auto& x) { return x.grow(0, 0); }));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated, [](auto& x) { return x.grow(0, 1); }));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated, [](auto& x) { return x.grow(1, 1); }));
  const auto m = a.allocate(1, 2);
  ASSERT_TRUE(succeeds(m));
  ASSERT_TRUE(succeeds(a.deallocate(m->base, kPage)));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated, [](auto& x) { return x.grow(0, 0); }));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated, [](auto& x) { return x.grow(1, 1); }));
}

TYPED_TEST(AllocatorConformance, A9_GrowPastTheReservationIsCapacityExceeded) {
  auto a = this->make();
  const auto m = a.allocate(1, 3);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, kPage, 9);
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.grow(1, 3); }));
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.grow(1, 65536); }));
  // Exactly to the reservation is fine.
  EXPECT_TRUE(succeeds(a.grow(1, 2)));
  EXPECT_TRUE(holds_pattern(m->base, 0, kPage, 9));
}

// current + additional computed in u32 would wrap to a small count that fits
// the reservation.
TYPED_TEST(AllocatorConformance, A9_GrowThatOverflowsU32IsCapacityExceeded) {
  auto a = this->make();
  const auto m = a.allocate(2, 8);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, 2 * kPage, 10);
  for (const std::uint32_t additional : {kU32Max, kU32Max - 1, kU32Max - 2, kU32Max - 5})
    EXPECT_TRUE(fails_unchanged(a, ErrorCode::CapacityExceeded,
                                [&](auto& x) { return x.grow(2, additional); }))
        << "additional_pages " << additional;
}

TYPED_TEST(AllocatorConformance, A11_DeallocateReleasesAndTheAllocatorCanAllocateAgain) {
  auto a = this->make();
  const auto m = a.allocate(1, 4);
  ASSERT_TRUE(succeeds(m));
  ASSERT_TRUE(succeeds(a.grow(1, 1)));
  fill_pattern(m->base, 0, 2 * kPage, 11);
  ASSERT_TRUE(succeeds(a.deallocate(m->base, 2 * kPage)));
  EXPECT_TRUE(is_empty(a));

  // A new memory reads zero, even where the old one was written.
  const auto again = a.allocate(3, 4);
  ASSERT_TRUE(succeeds(again));
  EXPECT_EQ(a.committed_bytes(), 3 * kPage);
  EXPECT_EQ(a.reserved_bytes(), 4 * kPage);
  EXPECT_TRUE(all_zero(again->base, 0, 3 * kPage));
}

TYPED_TEST(AllocatorConformance, A11_DeallocateWithAWrongPointerIsPointerMismatch) {
  auto a = this->make();
  const auto m = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, 2 * kPage, 12);
  for (std::byte* wrong :
       {static_cast<std::byte*>(nullptr), m->base + 1, m->base + kPage, m->base + 2 * kPage})
    EXPECT_TRUE(fails_unchanged(a, ErrorCode::PointerMismatch,
                                [&](auto& x) { return x.deallocate(wrong, 2 * kPage); }));
  // Nothing was released: the memory is still there and writable.
  fill_pattern(m->base, 0, 2 * kPage, 13);
  EXPECT_TRUE(holds_pattern(m->base, 0, 2 * kPage, 13));
  EXPECT_TRUE(succeeds(a.deallocate(m->base, 2 * kPage)));
}

// The Rust crate trusts the caller's size; we check it against the committed
// bytes, including the stale size from before a grow.
TYPED_TEST(AllocatorConformance, A11_DeallocateWithAWrongSizeIsPointerMismatch) {
  auto a = this->make();
  const auto m = a.allocate(1, 4);
  ASSERT_TRUE(succeeds(m));
  ASSERT_TRUE(succeeds(a.grow(1, 2)));
  fill_pattern(m->base, 0, 3 * kPage, 14);
  for (const std::size_t wrong :
       {std::size_t{0}, m->committed_bytes, 3 * kPage - 1, 3 * kPage + 1, 4 * kPage, kSizeMax})
    EXPECT_TRUE(fails_unchanged(a, ErrorCode::PointerMismatch,
                                [&](auto& x) { return x.deallocate(m->base, wrong); }))
        << "size " << wrong;
  EXPECT_TRUE(holds_pattern(m->base, 0, 3 * kPage, 14));
  EXPECT_TRUE(succeeds(a.deallocate(m->base, 3 * kPage)));
}

TYPED_TEST(AllocatorConformance, A11_DeallocateTwiceIsNotAllocated) {
  auto a = this->make();
  const auto m = a.allocate(1, 2);
  ASSERT_TRUE(succeeds(m));
  ASSERT_TRUE(succeeds(a.deallocate(m->base, kPage)));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated,
                              [&](auto& x) { return x.deallocate(m->base, kPage); }));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated,
                              [](auto& x) { return x.deallocate(nullptr, 0); }));
}

TYPED_TEST(AllocatorConformance, A11_DeallocateNeverAllocatedIsNotAllocated) {
  auto a = this->make();
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated,
                              [](auto& x) { return x.deallocate(nullptr, 0); }));
}

TYPED_TEST(AllocatorConformance, A13_MoveConstructionTransfersTheMemory) {
  auto a = this->make();
  const auto m = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, 2 * kPage, 15);

  TypeParam b(std::move(a));
  EXPECT_TRUE(is_empty(a));
  EXPECT_EQ(b.base(), m->base);
  EXPECT_EQ(b.committed_pages(), 2u);
  EXPECT_EQ(b.reserved_bytes(), 4 * kPage);
  EXPECT_TRUE(holds_pattern(m->base, 0, 2 * kPage, 15));

  // The moved-from allocator is empty and must not touch b's memory.
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated, [](auto& x) { return x.grow(0, 0); }));
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::NotAllocated,
                              [&](auto& x) { return x.deallocate(m->base, 2 * kPage); }));
  EXPECT_TRUE(holds_pattern(m->base, 0, 2 * kPage, 15));
  EXPECT_TRUE(succeeds(b.grow(2, 1)));
  EXPECT_TRUE(all_zero(m->base, 2 * kPage, 3 * kPage));
  EXPECT_TRUE(succeeds(b.deallocate(m->base, 3 * kPage)));
}

TYPED_TEST(AllocatorConformance, A13_MoveAssignmentTransfersTheMemory) {
  auto a = this->make();
  auto b = this->make();
  const auto ma = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(ma));
  ASSERT_TRUE(succeeds(b.allocate(1, 2)));
  fill_pattern(ma->base, 0, 2 * kPage, 16);

  b = std::move(a);
  EXPECT_TRUE(is_empty(a));
  EXPECT_EQ(b.base(), ma->base);
  EXPECT_EQ(b.committed_pages(), 2u);
  EXPECT_EQ(b.reserved_bytes(), 4 * kPage);
  EXPECT_TRUE(holds_pattern(ma->base, 0, 2 * kPage, 16));
  EXPECT_TRUE(succeeds(b.grow(2, 2)));

  // Assigning an empty allocator empties the target.
  auto empty = this->make();
  b = std::move(empty);
  EXPECT_TRUE(is_empty(b));
}

TYPED_TEST(AllocatorConformance, A13_SelfMoveAssignmentKeepsTheMemory) {
  auto a = this->make();
  const auto m = a.allocate(1, 2);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, kPage, 17);
  TypeParam& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.base(), m->base);
  EXPECT_EQ(a.committed_pages(), 1u);
  EXPECT_TRUE(holds_pattern(m->base, 0, kPage, 17));
}

TYPED_TEST(AllocatorConformance, A14_ObserversAreConstNoexceptAndAllocatorsMoveOnly) {
  using A = TypeParam;
  static_assert(noexcept(std::declval<const A&>().base()));
  static_assert(noexcept(std::declval<const A&>().committed_pages()));
  static_assert(noexcept(std::declval<const A&>().committed_bytes()));
  static_assert(noexcept(std::declval<const A&>().reserved_bytes()));
  static_assert(noexcept(std::declval<const A&>().is_allocated()));
  static_assert(!std::is_copy_constructible_v<A> && !std::is_copy_assignable_v<A>);
  static_assert(std::is_nothrow_move_constructible_v<A> && std::is_nothrow_move_assignable_v<A>);

  auto a = this->make();
  const A& view = a;
  EXPECT_TRUE(is_empty(view));
  const auto m = a.allocate(1, 3);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EQ(view.base(), m->base);
  EXPECT_EQ(view.committed_bytes(), m->committed_bytes);
  EXPECT_EQ(view.committed_pages(), 1u);
  EXPECT_EQ(view.reserved_bytes(), 3 * kPage);
  EXPECT_TRUE(view.is_allocated());
}

// The memory may be shared between threads, and an allocator may move to
// another thread and be used there (thread joins order the accesses).
TYPED_TEST(AllocatorConformance, A14_AllocatorMovesToAnotherThreadAndMemoryIsShared) {
  auto a = this->make();
  const auto m = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  std::thread low([base = m->base] { fill_pattern(base, 0, kPage, 18); });
  std::thread high([base = m->base] { fill_pattern(base, kPage, 2 * kPage, 18); });
  low.join();
  high.join();
  EXPECT_TRUE(holds_pattern(m->base, 0, 2 * kPage, 18));

  std::optional<TypeParam> back;
  bool grew = false;
  std::thread owner([&, moved = std::move(a)]() mutable {
    grew = moved.grow(2, 1).has_value();
    back.emplace(std::move(moved));
  });
  owner.join();
  EXPECT_TRUE(grew);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->base(), m->base);
  EXPECT_EQ(back->committed_pages(), 3u);
  EXPECT_TRUE(holds_pattern(m->base, 0, 2 * kPage, 18));
  EXPECT_TRUE(succeeds(back->deallocate(m->base, 3 * kPage)));
}

// --- MmapPageAllocator only --------------------------------------------------

// All of 4 GiB committed at once (mprotect only: untouched pages cost nothing).
TEST(MmapPageAllocatorConformance, A5_Allocate65536PagesCommitsFourGiB) {
  WRT_SKIP_UNLESS_SIZE_T_HOLDS_FOUR_GIB();
  MmapPageAllocator a;
  const auto m = a.allocate(65536);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EQ(m->committed_bytes, kFourGiB);
  EXPECT_EQ(a.committed_pages(), 65536u);
  EXPECT_EQ(a.reserved_bytes(), kFourGiB);
  EXPECT_EQ(m->base[kFourGiB - 1], std::byte{0});
  m->base[kFourGiB - 1] = std::byte{42};
  EXPECT_EQ(m->base[kFourGiB - 1], std::byte{42});
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.grow(65536, 1); }));
  EXPECT_TRUE(succeeds(a.deallocate(m->base, kFourGiB)));
}

// X1: where size_t has 32 bits, 65536 pages (2^32 bytes) cannot be
// reserved: allocate says CapacityExceeded before any OS call, with or
// without a declared maximum, and the allocator stays usable.
TEST(MmapPageAllocatorConformance, X1_65536PagesAreCapacityExceededWithA32BitSizeT) {
  if constexpr (kSizeTHoldsFourGiB)
    GTEST_SKIP() << "size_t has 64 bits here: 65536 pages fit (A5 tests); runs in the i686 preset";
  MmapPageAllocator a;  // the default limit: 65536 pages
  EXPECT_TRUE(fails_unchanged(a, ErrorCode::CapacityExceeded,
                              [](auto& x) { return x.allocate(0, 65536); }));
  EXPECT_TRUE(
      fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.allocate(1); }));
  EXPECT_TRUE(is_empty(a));
  const auto m = a.allocate(1, 16);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EQ(a.reserved_bytes(), 16 * kPage);
  EXPECT_TRUE(succeeds(a.deallocate(m->base, kPage)));
}

// X1: the guard is added to the reservation in size_t; a sum past SIZE_MAX
// is CapacityExceeded on every host, whatever the width of size_t.
TEST(MmapPageAllocatorConformance, X1_ReservationPlusGuardNeverWraps) {
  for (const std::size_t guard : {kSizeMax, kSizeMax - 16 * kPage + 1, kSizeMax - 16 * kPage}) {
    MmapPageAllocator a({16, guard});
    EXPECT_TRUE(
        fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.allocate(0); }))
        << "guard_bytes " << guard;
    EXPECT_TRUE(is_empty(a));
  }
}

// reservation + guard + alignment slack must not wrap size_t.
TEST(MmapPageAllocatorConformance, A5_GuardThatOverflowsTheMappingIsCapacityExceeded) {
  for (const std::size_t guard : {kSizeMax, kSizeMax - kFourGiB, kSizeMax - kFourGiB - kPage}) {
    MmapPageAllocator a({65536, guard});
    EXPECT_TRUE(
        fails_unchanged(a, ErrorCode::CapacityExceeded, [](auto& x) { return x.allocate(0); }))
        << "guard_bytes " << guard;
    EXPECT_TRUE(is_empty(a));
  }
}

// The contract: a moved-from MmapPageAllocator can allocate again, with its
// configuration kept.
TEST(MmapPageAllocatorConformance, A13_MovedFromAllocatorCanAllocateAgain) {
  MmapPageAllocator a({4, 0});
  ASSERT_TRUE(succeeds(a.allocate(1)));
  MmapPageAllocator b(std::move(a));
  ASSERT_TRUE(succeeds(a.allocate(1)));
  EXPECT_EQ(a.reserved_bytes(), 4 * kPage);
  EXPECT_NE(a.base(), b.base());

  MmapPageAllocator c;
  c = std::move(a);
  ASSERT_TRUE(succeeds(a.allocate(2)));
  EXPECT_EQ(a.reserved_bytes(), 4 * kPage);
  EXPECT_TRUE(all_zero(a.base(), 0, 2 * kPage));
}

// --- StaticPageAllocator only ------------------------------------------------

class StaticPageAllocatorConformance : public ::testing::Test {
 protected:
  MappedBuffer buffer_{4 * kPage};
};

TEST_F(StaticPageAllocatorConformance, A15_CreateRejectsANullOrEmptyBuffer) {
  EXPECT_TRUE(fails_with(StaticPageAllocator::create({}), ErrorCode::InvalidArgument));
  EXPECT_TRUE(
      fails_with(StaticPageAllocator::create(buffer_.span().first(0)), ErrorCode::InvalidArgument));
}

TEST_F(StaticPageAllocatorConformance, A15_CreateRejectsAMisalignedBuffer) {
  for (const std::size_t offset : {std::size_t{1}, std::size_t{4096}, kPage / 2})
    EXPECT_TRUE(fails_with(StaticPageAllocator::create(buffer_.span().subspan(offset, kPage)),
                           ErrorCode::Misaligned))
        << "offset " << offset;
  // Misaligned and not whole pages: the alignment is reported.
  EXPECT_TRUE(fails_with(StaticPageAllocator::create(buffer_.span().subspan(4096, 100)),
                         ErrorCode::Misaligned));
}

TEST_F(StaticPageAllocatorConformance, A15_CreateRejectsPartialPages) {
  for (const std::size_t size : {std::size_t{1}, std::size_t{4096}, kPage - 1, kPage + 1})
    EXPECT_TRUE(fails_with(StaticPageAllocator::create(buffer_.span().first(size)),
                           ErrorCode::InvalidArgument))
        << "size " << size;
}

TEST_F(StaticPageAllocatorConformance, A15_LimitIsTheSmallerOfConfigAndBuffer) {
  auto whole = StaticPageAllocator::create(buffer_.span());
  ASSERT_TRUE(succeeds(whole));
  const auto m = whole->allocate(0);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EQ(m->base, buffer_.span().data());
  EXPECT_EQ(whole->reserved_bytes(), 4 * kPage);
  ASSERT_TRUE(succeeds(whole->deallocate(m->base, 0)));
  EXPECT_TRUE(fails_unchanged(*whole, ErrorCode::CapacityExceeded,
                              [](auto& x) { return x.allocate(1, 5); }));

  auto limited = StaticPageAllocator::create(buffer_.span(), {2, 0});
  ASSERT_TRUE(succeeds(limited));
  ASSERT_TRUE(succeeds(limited->allocate(1)));
  EXPECT_EQ(limited->reserved_bytes(), 2 * kPage);
}

// No MMU, no guard: guard_bytes is ignored, whatever its size.
TEST_F(StaticPageAllocatorConformance, A15_GuardBytesAreIgnored) {
  auto a = StaticPageAllocator::create(buffer_.span(), {4, kSizeMax});
  ASSERT_TRUE(succeeds(a));
  EXPECT_TRUE(succeeds(a->allocate(1)));
  EXPECT_EQ(a->reserved_bytes(), 4 * kPage);
}

// Commit zeroes what the caller's buffer held before.
TEST_F(StaticPageAllocatorConformance, A15_CommitZeroesTheCallersBytes) {
  const auto bytes = buffer_.span();
  std::fill(bytes.begin(), bytes.end(), kDirt);
  auto a = StaticPageAllocator::create(bytes);
  ASSERT_TRUE(succeeds(a));
  ASSERT_TRUE(succeeds(a->allocate(1)));
  EXPECT_TRUE(all_zero(bytes.data(), 0, kPage));
  ASSERT_TRUE(succeeds(a->grow(1, 2)));
  EXPECT_TRUE(all_zero(bytes.data(), 0, 3 * kPage));
}

// Our decision: a moved-from StaticPageAllocator holds no buffer, so it has
// nothing to allocate from.
TEST_F(StaticPageAllocatorConformance, A13_MovedFromAllocatorHasNoBuffer) {
  auto a = StaticPageAllocator::create(buffer_.span());
  ASSERT_TRUE(succeeds(a));
  ASSERT_TRUE(succeeds(a->allocate(1)));
  StaticPageAllocator b(std::move(*a));
  EXPECT_TRUE(is_empty(*a));
  EXPECT_TRUE(
      fails_unchanged(*a, ErrorCode::CapacityExceeded, [](auto& x) { return x.allocate(0); }));
  EXPECT_EQ(b.base(), buffer_.span().data());
}

// The destructor hands the buffer back usable (under ASan: unpoisoned), also
// when it still held a memory.
TEST_F(StaticPageAllocatorConformance, A13_DestructorReturnsTheBufferUsable) {
  {
    auto a = StaticPageAllocator::create(buffer_.span());
    ASSERT_TRUE(succeeds(a));
    ASSERT_TRUE(succeeds(a->allocate(1)));
  }
  const auto bytes = buffer_.span();
  fill_pattern(bytes.data(), 0, bytes.size(), 19);
  EXPECT_TRUE(holds_pattern(bytes.data(), 0, bytes.size(), 19));
}

}  // namespace
}  // namespace wrt::platform::alloc_test
