// The memory pool's pure decisions (src/pool/pool_plan.hpp), on every host:
// the slot layout (M1), where an image's OS pages go (M4), which bytes a
// reset zeroes in place and which it returns to the OS (M2, M3), and the
// free list of slots (M1).
#include "pool/pool_plan.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>

namespace wrt::platform::detail {
namespace {

constexpr std::size_t kOsPage = 4096;
constexpr std::size_t kPage = kWasmPageSize;
constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();
// 4 GiB on 64-bit hosts, 64 KiB where size_t has 32 bits (X1).
constexpr std::size_t kHalfWidthGuard = std::size_t{1}
                                        << (std::numeric_limits<std::size_t>::digits / 2);
constexpr std::size_t kState = 200;  // bytes of pool state before the free list

TEST(PoolPlan, M1_EverySlotHoldsItsMemoryAndItsOwnGuard) {
  const auto layout = plan_pool({4, 3, 5000, 0}, kOsPage, kState);
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(layout->memory_bytes, 3 * kPage);
  // 3 pages + 8192 guard bytes, rounded up to a whole WebAssembly page.
  EXPECT_EQ(layout->slot_stride, 4 * kPage);
  EXPECT_EQ(layout->guard_bytes, kPage);
  EXPECT_EQ(layout->header_bytes, kOsPage);
  EXPECT_EQ(layout->reservation_bytes, kOsPage + 4 * 4 * kPage + kPage);
}

TEST(PoolPlan, M1_M6_TheHeaderHoldsTheStateAndARecordPerSlot) {
  // Accessible bytes, mapped image (id and range), free-list entry.
  static_assert(kHeaderBytesPerSlot == 36 || sizeof(std::size_t) != 8);
  const std::size_t fit = (kOsPage - kState) / kHeaderBytesPerSlot;
  EXPECT_EQ(plan_pool({static_cast<std::uint32_t>(fit), 1, 0, 0}, kOsPage, kState)->header_bytes,
            kOsPage);
  EXPECT_EQ(
      plan_pool({static_cast<std::uint32_t>(fit + 1), 1, 0, 0}, kOsPage, kState)->header_bytes,
      2 * kOsPage);
}

TEST(PoolPlan, M1_SlotsWithoutPagesOrGuardAreStillOnePageApart) {
  const auto layout = plan_pool({3, 0, 0, 0}, kOsPage, kState);
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(layout->slot_stride, kPage);
  EXPECT_EQ(layout->reservation_bytes, kOsPage + 4 * kPage);
}

TEST(PoolPlan, M1_ZeroSlotsIsInvalidArgument) {
  const auto layout = plan_pool({0, 1, 0, 0}, kOsPage, kState);
  ASSERT_FALSE(layout.has_value());
  EXPECT_EQ(layout.error().code(), ErrorCode::InvalidArgument);
}

TEST(PoolPlan, M1_AReservationThatOverflowsIsCapacityExceeded) {
  for (const PoolConfig config :
       {PoolConfig{2, 1, kSizeMax, 0}, PoolConfig{2, 1, kSizeMax - kPage, 0},
        PoolConfig{UINT32_MAX, 65536, kSizeMax / 2, 0},
        PoolConfig{UINT32_MAX, 65536, kHalfWidthGuard, 0}}) {
    const auto layout = plan_pool(config, kOsPage, kState);
    ASSERT_FALSE(layout.has_value()) << config.slots << " slots, guard " << config.guard_bytes;
    EXPECT_EQ(layout.error().code(), ErrorCode::CapacityExceeded);
  }
}

TEST(PoolPlan, M1_OsPagesLargerThanAWasmPageAreUnsupported) {
  const auto layout = plan_pool({1, 1, 0, 0}, 2 * kPage, kState);
  ASSERT_FALSE(layout.has_value());
  EXPECT_EQ(layout.error().code(), ErrorCode::Unsupported);
}

TEST(PoolPlan, M3_KeepResidentIsRoundedDownToTheOsPageAndCappedAtTheMemory) {
  EXPECT_EQ(plan_pool({1, 2, 0, 10000}, kOsPage, kState)->keep_resident_bytes, 8192u);
  EXPECT_EQ(plan_pool({1, 2, 0, 4095}, kOsPage, kState)->keep_resident_bytes, 0u);
  EXPECT_EQ(plan_pool({1, 2, 0, kSizeMax}, kOsPage, kState)->keep_resident_bytes, 2 * kPage);
}

TEST(PoolPlan, M4_AnUnalignedImageMapsTheWholeOsPagesAroundIt) {
  const auto image = plan_image(5000, 10000, kOsPage);
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->map_offset, 4096u);
  EXPECT_EQ(image->map_bytes, 16384u - 4096u);  // 15000 rounds up to 16384
  EXPECT_EQ(image->data_in_file(), 904u);
  EXPECT_EQ(image->end, 15000u);
}

TEST(PoolPlan, M4_AnAlignedImageMapsExactlyItsPages) {
  const auto image = plan_image(kPage, 2 * kOsPage, kOsPage);
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->map_offset, kPage);
  EXPECT_EQ(image->map_bytes, 2 * kOsPage);
  EXPECT_EQ(image->data_in_file(), 0u);
}

TEST(PoolPlan, M4_AnImageWithoutBytesMapsNothing) {
  const auto image = plan_image(12345, 0, kOsPage);
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->map_bytes, 0u);
  EXPECT_EQ(image->end, 12345u);
}

TEST(PoolPlan, M4_AnImagePast4GiBIsOutOfBounds) {
  constexpr std::uint64_t kFourGiB = std::uint64_t{1} << 32;
  EXPECT_TRUE(plan_image(kFourGiB - 10, 10, kOsPage).has_value());
  EXPECT_TRUE(plan_image(kFourGiB, 0, kOsPage).has_value());
  for (const auto& [offset, bytes] : {std::pair<std::uint64_t, std::size_t>{kFourGiB - 10, 11},
                                      {kFourGiB + 1, 0},
                                      {UINT64_MAX, 1},
                                      {UINT64_MAX - 5, 10}}) {
    const auto image = plan_image(offset, bytes, kOsPage);
    ASSERT_FALSE(image.has_value()) << offset << " + " << bytes;
    EXPECT_EQ(image.error().code(), ErrorCode::OutOfBounds);
  }
}

TEST(PoolPlan, M4_SplitAroundAHole) {
  EXPECT_EQ(split_around({0, 100}, {}).before, (ByteRange{0, 100}));
  EXPECT_EQ(split_around({0, 100}, {}).after, (ByteRange{}));
  const auto middle = split_around({0, 100}, {40, 20});
  EXPECT_EQ(middle.before, (ByteRange{0, 40}));
  EXPECT_EQ(middle.after, (ByteRange{60, 40}));
  // A hole past the range leaves all of it before; one before it, all after.
  EXPECT_EQ(split_around({10, 20}, {50, 10}).before, (ByteRange{10, 20}));
  EXPECT_TRUE(split_around({10, 20}, {50, 10}).after.empty());
  EXPECT_TRUE(split_around({50, 20}, {10, 10}).before.empty());
  EXPECT_EQ(split_around({50, 20}, {10, 10}).after, (ByteRange{50, 20}));
  // A hole covering the range leaves nothing.
  EXPECT_TRUE(split_around({10, 20}, {0, 100}).before.empty());
  EXPECT_TRUE(split_around({10, 20}, {0, 100}).after.empty());
}

TEST(PoolPlan, M4_CommitMapsTheImageAndMakesTheRestAccessible) {
  const auto plan = plan_commit(3 * kPage, 0, {}, {kOsPage, 2 * kOsPage}, false);
  EXPECT_TRUE(plan.unmap.empty());
  EXPECT_EQ(plan.image, (ByteRange{kOsPage, 2 * kOsPage}));
  EXPECT_EQ(plan.commit.before, (ByteRange{0, kOsPage}));
  EXPECT_EQ(plan.commit.after, (ByteRange{3 * kOsPage, 3 * kPage - 3 * kOsPage}));
  EXPECT_TRUE(plan.decommit.empty());
  const auto plain = plan_commit(kPage, 0, {}, {}, false);
  EXPECT_TRUE(plain.image.empty());
  EXPECT_EQ(plain.commit.before, (ByteRange{0, kPage}));
  EXPECT_TRUE(plain.commit.after.empty());
}

// What the last tenant left accessible is not committed again; what lies
// past the new memory is made inaccessible.
TEST(PoolPlan, M3_M6_CommitStartsFromWhatTheLastTenantLeftAccessible) {
  const auto same = plan_commit(kPage, kPage, {}, {}, false);
  EXPECT_TRUE(same.commit.before.empty());
  EXPECT_TRUE(same.commit.after.empty());
  EXPECT_TRUE(same.decommit.empty());
  const auto larger = plan_commit(3 * kPage, kPage, {}, {}, false);
  EXPECT_EQ(larger.commit.before, (ByteRange{kPage, 2 * kPage}));
  EXPECT_TRUE(larger.decommit.empty());
  const auto smaller = plan_commit(kPage, 3 * kPage, {}, {}, false);
  EXPECT_TRUE(smaller.commit.before.empty());
  EXPECT_TRUE(smaller.commit.after.empty());
  EXPECT_EQ(smaller.decommit, (ByteRange{kPage, 2 * kPage}));
  // An image over accessible bytes is mapped over them; nothing else changes.
  const auto imaged = plan_commit(2 * kPage, 2 * kPage, {}, {0, kOsPage}, false);
  EXPECT_EQ(imaged.image, (ByteRange{0, kOsPage}));
  EXPECT_TRUE(imaged.commit.before.empty());
  EXPECT_TRUE(imaged.commit.after.empty());
  EXPECT_TRUE(imaged.decommit.empty());
}

// The steady state: the same image at the same size costs nothing.
TEST(PoolPlan, M6_TheSameImageStillMappedIsNotMappedAgain) {
  const ByteRange image{kOsPage, 2 * kOsPage};
  const auto plan = plan_commit(2 * kPage, 2 * kPage, image, image, true);
  EXPECT_TRUE(plan.unmap.empty());
  EXPECT_TRUE(plan.image.empty());
  EXPECT_TRUE(plan.commit.before.empty());
  EXPECT_TRUE(plan.commit.after.empty());
  EXPECT_TRUE(plan.decommit.empty());
}

// Another image (or none) first replaces the mapped one by inaccessible
// space, then everything from its start is committed again around the new.
TEST(PoolPlan, M2_M6_AnotherImageReplacesTheMappedOne) {
  const ByteRange old_image{kOsPage, 2 * kOsPage};
  const ByteRange new_image{4 * kOsPage, kOsPage};
  const auto plan = plan_commit(2 * kPage, 2 * kPage, old_image, new_image, false);
  EXPECT_EQ(plan.unmap, old_image);
  EXPECT_EQ(plan.image, new_image);
  EXPECT_EQ(plan.commit.before, (ByteRange{kOsPage, 3 * kOsPage}));
  EXPECT_EQ(plan.commit.after, (ByteRange{5 * kOsPage, 2 * kPage - 5 * kOsPage}));
  const auto none = plan_commit(kPage, kPage, old_image, {}, false);
  EXPECT_EQ(none.unmap, old_image);
  EXPECT_TRUE(none.image.empty());
  EXPECT_EQ(none.commit.before, (ByteRange{kOsPage, kPage - kOsPage}));
}

TEST(PoolPlan, M2_M3_M6_ResetZeroesTheKeptBytesAndDiscardsTheRestKeepingItAccessible) {
  const auto plan = plan_reset(4 * kPage, kPage, {});
  EXPECT_EQ(plan.zero, (ByteRange{0, kPage}));
  EXPECT_EQ(plan.discard, (ByteRange{kPage, 3 * kPage}));
  EXPECT_EQ(plan.accessible_after, 4 * kPage);
}

TEST(PoolPlan, M3_ResetZeroesNoMoreThanWasCommitted) {
  const auto plan = plan_reset(kPage, 3 * kPage, {});
  EXPECT_EQ(plan.zero, (ByteRange{0, kPage}));
  EXPECT_TRUE(plan.discard.empty());
  EXPECT_EQ(plan.accessible_after, kPage);
  const auto empty = plan_reset(0, 3 * kPage, {});
  EXPECT_TRUE(empty.zero.empty());
  EXPECT_TRUE(empty.discard.empty());
  EXPECT_EQ(empty.accessible_after, 0u);
}

// The image's pages are not zeroed (that would copy them): the kept bytes end
// where the image starts, and the one discard covers the image too.
TEST(PoolPlan, M4_M6_ResetDiscardsTheImageWithTheRestAndKeepsOnlyTheBytesBeforeIt) {
  const ByteRange image{2 * kOsPage, 2 * kOsPage};
  const auto kept = plan_reset(2 * kPage, kPage, image);
  EXPECT_EQ(kept.zero, (ByteRange{0, 2 * kOsPage}));
  EXPECT_EQ(kept.discard, (ByteRange{2 * kOsPage, 2 * kPage - 2 * kOsPage}));
  EXPECT_EQ(kept.accessible_after, 2 * kPage);

  const auto none_kept = plan_reset(2 * kPage, 0, image);
  EXPECT_TRUE(none_kept.zero.empty());
  EXPECT_EQ(none_kept.discard, (ByteRange{0, 2 * kPage}));
}

TEST(PoolPlan, M1_FreeListIsLastInFirstOutAndBounded) {
  std::uint32_t storage[2] = {};
  FreeList list(storage, 2);
  EXPECT_FALSE(list.pop().has_value());
  EXPECT_TRUE(list.push(7));
  EXPECT_TRUE(list.push(9));
  EXPECT_FALSE(list.push(11));  // full: a slot handed back twice is refused
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list.pop(), 9u);
  EXPECT_EQ(list.pop(), 7u);
  EXPECT_FALSE(list.pop().has_value());
  EXPECT_EQ(list.size(), 0u);
}

TEST(PoolPlan, M6_FreeListPrefersAWantedSlotWithinItsWindowKeepingTheOrder) {
  std::uint32_t storage[4] = {};
  FreeList list(storage, 4);
  for (const std::uint32_t slot : {1u, 2u, 3u, 4u}) EXPECT_TRUE(list.push(slot));
  const auto even = [](std::uint32_t slot) { return slot % 2 == 0; };
  // 4 is on top and wanted; then 2, found below 3.
  EXPECT_EQ(list.pop_preferring(even, 4), 4u);
  EXPECT_EQ(list.pop_preferring(even, 4), 2u);
  EXPECT_EQ(list.pop(), 3u);  // the others kept their order
  EXPECT_TRUE(list.push(3));
  EXPECT_TRUE(list.push(5));
  // Nothing wanted within the window: the top.
  EXPECT_EQ(list.pop_preferring([](std::uint32_t slot) { return slot == 1; }, 2), 5u);
  EXPECT_EQ(list.pop_preferring([](std::uint32_t slot) { return slot == 1; }, 2), 1u);
  EXPECT_EQ(list.pop(), 3u);
  EXPECT_FALSE(list.pop_preferring(even, 4).has_value());
}

}  // namespace
}  // namespace wrt::platform::detail
