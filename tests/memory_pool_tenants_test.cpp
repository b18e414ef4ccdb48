// Many tenants in one process (docs/SPEC.md, section S) on pooled and mmap
// memories: bounds-check elision is safe or refused (S3), an image's file
// cannot change under the memories that map it (S7), and a slot whose pages
// madvise cannot discard is reset by mapping fresh pages, not retired (S8).
#include <gtest/gtest.h>

#include "wrt/platform/bounds_check.hpp"

namespace wrt::platform {
namespace {

constexpr std::uint64_t k4GiB = std::uint64_t{1} << 32;

// S3's number: a 32-bit index plus a 32-bit offset (2^33 - 2) plus 16 bytes.
constexpr std::uint64_t kEveryAccess = (std::uint64_t{1} << 33) + 14;

TEST(BoundsCheck, S3_ElisionNeedsTwoToThe33PlusFourteenBytes) {
  EXPECT_TRUE(elides_bounds_checks(kEveryAccess));
  EXPECT_FALSE(elides_bounds_checks(kEveryAccess - 1));
  EXPECT_FALSE(elides_bounds_checks(k4GiB + k4GiB));
  EXPECT_TRUE(elides_bounds_checks(k4GiB + k4GiB + 4096));
  EXPECT_FALSE(elides_bounds_checks(k4GiB));
  EXPECT_FALSE(elides_bounds_checks(0));
  EXPECT_TRUE(elides_bounds_checks(UINT64_MAX));
}

// The S3 rule is the per-access predicate at the largest offset and width,
// for every size around the threshold.
TEST(BoundsCheck, S3_TheRuleIsThePerAccessPredicateAtTheLargestOffsetAndWidth) {
  for (std::uint64_t bytes = kEveryAccess - 20; bytes < kEveryAccess + 20; ++bytes)
    EXPECT_EQ(elides_bounds_checks(bytes), covers_every_access(bytes, kMaxIndex32, 16)) << bytes;
}

TEST(BoundsCheck, S3_EveryByteOfTheAccessMustBeCovered) {
  // The last byte of an access: index + offset + width - 1 < the covered bytes.
  EXPECT_TRUE(covers_every_access(k4GiB, 0, 1));
  EXPECT_FALSE(covers_every_access(k4GiB - 1, 0, 1));
  EXPECT_TRUE(covers_every_access(k4GiB + 4096, 4096, 1));
  EXPECT_FALSE(covers_every_access(k4GiB + 4096, 4096, 2));
  EXPECT_TRUE(covers_every_access(k4GiB + k4GiB, kMaxIndex32, 1));
  EXPECT_FALSE(covers_every_access(k4GiB + k4GiB, kMaxIndex32, 8));
  // Offsets a 64-bit computation would wrap are refused, never wrapped small.
  EXPECT_FALSE(covers_every_access(k4GiB, UINT64_MAX, 16));
  EXPECT_FALSE(covers_every_access(UINT64_MAX, UINT64_MAX - kMaxIndex32 + 1, 1));
  EXPECT_TRUE(covers_every_access(UINT64_MAX, UINT64_MAX - kMaxIndex32 - 16, 16));
}

}  // namespace
}  // namespace wrt::platform

#ifdef __linux__
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "allocator_test_support.hpp"
#include "memory_pool_test_support.hpp"
#include "pool/pool_plan.hpp"
#include "trap_test_support.hpp"
#include "wrt/platform.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::tenants_test {
namespace {

using alloc_test::all_zero;
using alloc_test::fill_pattern;
using alloc_test::holds_pattern;
using alloc_test::kSizeTHoldsFourGiB;
using pool_test::make_pool;
using pool_test::os_page;
using trap_test::expect_trap_at;
using trap_test::install_or_fail;
using trap_test::trap_of_store;

constexpr std::size_t kPage = kWasmPageSize;

// 4 GiB in size_t; only used where it fits.
constexpr std::size_t k4GiBBytes = static_cast<std::size_t>(k4GiB * kSizeTHoldsFourGiB);

// --- S3: elides_bounds_checks() on the objects --------------------------------

TEST(BoundsCheckElision, S3_MmapAllocatorRefusesFourPlusFourAndElidesWithOneMorePage) {
  if constexpr (!kSizeTHoldsFourGiB) GTEST_SKIP() << "4 GiB does not fit in size_t";
  const auto with = [](std::size_t reservation, std::size_t guard) {
    return MmapPageAllocator({.guard_bytes = guard, .reservation_bytes = reservation})
        .elides_bounds_checks();
  };
  EXPECT_FALSE(with(k4GiBBytes, k4GiBBytes));
  EXPECT_TRUE(with(k4GiBBytes, k4GiBBytes + os_page()));
  EXPECT_TRUE(with(k4GiBBytes, k4GiBBytes + 1));  // rounded up to the OS page, as allocate() does
  EXPECT_FALSE(with(k4GiBBytes - kPage, k4GiBBytes + os_page()));
  EXPECT_FALSE(with(0, k4GiBBytes));
  // The maximum alone guarantees nothing: allocate() may be given a smaller one.
  EXPECT_FALSE(MmapPageAllocator({.maximum_pages = 65536, .guard_bytes = k4GiBBytes + os_page()})
                   .elides_bounds_checks());
}

TEST(BoundsCheckElision, S3_PoolRefusesFourPlusFourAndElidesWithOneMorePage) {
  if constexpr (!kSizeTHoldsFourGiB) GTEST_SKIP() << "4 GiB does not fit in size_t";
  const auto with = [](std::size_t reservation, std::size_t guard) {
    auto pool = MemoryPool::create(
        {.slots = 2, .maximum_pages = 1, .guard_bytes = guard, .reservation_bytes = reservation});
    EXPECT_TRUE(pool) << pool.error().message();
    return pool && pool->elides_bounds_checks();
  };
  EXPECT_FALSE(with(k4GiBBytes, k4GiBBytes));
  EXPECT_TRUE(with(k4GiBBytes, k4GiBBytes + os_page()));
  EXPECT_FALSE(with(0, k4GiBBytes + os_page()));
  // A slot reserves reservation_bytes whatever its maximum (T5 per slot).
  MemoryPool pool = make_pool(
      {.slots = 2, .maximum_pages = 1, .guard_bytes = kPage, .reservation_bytes = 3 * kPage + 1});
  EXPECT_EQ(pool.slot_base(1) - pool.slot_base(0), static_cast<std::ptrdiff_t>(5 * kPage));
  auto a = pool.acquire();
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->allocate(1));
  EXPECT_EQ(a->reserved_bytes(), 4 * kPage);
  EXPECT_TRUE(alloc_test::fails_with(a->grow(1, 1), ErrorCode::CapacityExceeded));
  MemoryPool moved = std::move(pool);
  EXPECT_FALSE(pool.elides_bounds_checks());
}

// The layout: a slot's memory is the larger of its maximum and the floor,
// then its guard; the stride (what S3 asks about) includes the guard.
TEST(PoolPlanReservation, S3_EverySlotReservesTheFloorThenItsGuard) {
  constexpr std::size_t kOsPage = 4096;
  const auto planned = [](std::uint32_t maximum_pages, std::size_t guard, std::size_t floor) {
    return detail::plan_pool({.slots = 3,
                              .maximum_pages = maximum_pages,
                              .guard_bytes = guard,
                              .reservation_bytes = floor},
                             kOsPage, 256);
  };
  const auto floor_wins = planned(1, kOsPage + 1, 3 * kPage + 1);
  ASSERT_TRUE(floor_wins);
  EXPECT_EQ(floor_wins->memory_bytes, 4 * kPage);
  EXPECT_EQ(floor_wins->floor_bytes, 4 * kPage);
  EXPECT_EQ(floor_wins->slot_stride, 5 * kPage);  // 4 pages + 2 OS pages, rounded up
  EXPECT_GE(floor_wins->guard_bytes, 2 * kOsPage);
  const auto maximum_wins = planned(6, 0, 3 * kPage);
  ASSERT_TRUE(maximum_wins);
  EXPECT_EQ(maximum_wins->memory_bytes, 6 * kPage);
  EXPECT_EQ(maximum_wins->slot_stride, 6 * kPage);
  EXPECT_TRUE(alloc_test::fails_with(planned(1, 0, SIZE_MAX), ErrorCode::CapacityExceeded));
  EXPECT_TRUE(
      alloc_test::fails_with(planned(1, SIZE_MAX / 2, SIZE_MAX / 2), ErrorCode::CapacityExceeded));
  if constexpr (kSizeTHoldsFourGiB) {
    const auto elided = planned(1, k4GiBBytes + kOsPage, k4GiBBytes);
    ASSERT_TRUE(elided);
    EXPECT_TRUE(elides_bounds_checks(elided->slot_stride));
    EXPECT_FALSE(elides_bounds_checks(planned(1, k4GiBBytes, k4GiBBytes)->slot_stride));
  }
}

// The last byte of a 16-byte access at base + (2^32 - 1) + (2^32 - 1), from
// the first and from the last slot while the other slot is live and
// committed, traps with that address, inside the slot it came from, and the
// neighbour's bytes are untouched.
class TenantTraps : public trap_test::TrapTest {};

TEST_F(TenantTraps, S3_TheFarthestByteOfEveryAccessTrapsInItsOwnSlot) {
  if constexpr (!kSizeTHoldsFourGiB) GTEST_SKIP() << "4 GiB does not fit in size_t";
  WRT_IN_CHILD({
    install_or_fail();
    MemoryPool pool = make_pool({.slots = 2,
                                 .maximum_pages = 1,
                                 .guard_bytes = k4GiBBytes + os_page(),
                                 .reservation_bytes = k4GiBBytes});
    EXPECT_TRUE(pool.elides_bounds_checks());
    std::vector<PooledPageAllocator> tenants;
    for (int i = 0; i < 2; ++i) {
      auto a = pool.acquire();
      ASSERT_TRUE(a && a->allocate(1));
      fill_pattern(a->base(), 0, kPage, static_cast<std::uint8_t>(i + 1));
      tenants.push_back(std::move(*a));
    }
    const std::size_t stride = static_cast<std::size_t>(pool.slot_base(1) - pool.slot_base(0));
    const std::size_t farthest = static_cast<std::size_t>(kEveryAccess - 1);
    // Before touching it: the byte is in the first slot's range, short of the
    // second slot's base (a layout without the guard fails here, not by a crash).
    ASSERT_LT(farthest, stride);
    for (int i = 0; i < 2; ++i) {
      SCOPED_TRACE(i);
      std::byte* const last = tenants[i].base() + farthest;
      expect_trap_at(trap_of_store(last, 1), last);
      // The access's first byte, at 2^33 - 2, traps too.
      std::byte* const first = tenants[i].base() + farthest - 15;
      expect_trap_at(trap_of_store(first, 8), first);
    }
    for (int i = 0; i < 2; ++i)
      EXPECT_TRUE(holds_pattern(tenants[i].base(), 0, kPage, static_cast<std::uint8_t>(i + 1)));
  });
}

// --- S7: the image's file is sealed -------------------------------------------

// The descriptors of image files open now.
std::set<int> image_descriptors() {
  std::set<int> found;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return found;
  while (const dirent* entry = readdir(dir)) {
    const std::string path = std::string("/proc/self/fd/") + entry->d_name;
    char target[PATH_MAX] = {};
    if (readlink(path.c_str(), target, sizeof target - 1) > 0 &&
        std::string(target).starts_with("/memfd:wrt-memory-image"))
      found.insert(std::stoi(entry->d_name));
  }
  closedir(dir);
  return found;
}

TEST(MemoryImageSeals, S7_TheImageFileIsSealedAgainstWritesAndResizing) {
  std::vector<std::byte> bytes(5000, std::byte{7});
  const auto before = image_descriptors();
  auto image = MemoryImage::create(bytes, 100);
  ASSERT_TRUE(image) << image.error().message();
  ASSERT_TRUE(image->copy_on_write());
  std::vector<int> fresh;
  for (const int fd : image_descriptors())
    if (!before.contains(fd)) fresh.push_back(fd);
  ASSERT_EQ(fresh.size(), 1u);
  const int fd = fresh[0];
  EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  const std::byte dirt{0xa5};
  errno = 0;
  EXPECT_EQ(pwrite(fd, &dirt, 1, 100), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(ftruncate(fd, 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(ftruncate(fd, 1 << 20), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);  // F_SEAL_SEAL
  // Memories still map it privately and write their own copies.
  MemoryPool pool = make_pool({1, 1});
  auto a = pool.acquire(&*image);
  ASSERT_TRUE(a);
  const auto m = a->allocate(1);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->base[100], std::byte{7});
  m->base[100] = dirt;
  EXPECT_EQ(m->base[100], dirt);
}

// --- S8: a reset that madvise cannot do maps fresh pages ------------------------

// Acquire, allocate (with the image or without), check that the memory reads
// the image or zero, dirty it, grow, release: `rounds` times on a pool of
// `slots`. Every slot must come back.
void churn(MemoryPool& pool, const MemoryImage& image, int rounds) {
  const std::uint32_t slots = pool.slots();
  for (int round = 0; round < rounds; ++round) {
    const bool with_image = round % 3 == 0;
    auto a = pool.acquire(with_image ? &image : nullptr);
    ASSERT_TRUE(a) << "round " << round << ": " << a.error().message();
    const auto m = a->allocate(2, 4);
    ASSERT_TRUE(m) << m.error().message();
    if (with_image) {
      EXPECT_TRUE(all_zero(m->base, 0, 100));
      EXPECT_TRUE(holds_pattern(m->base, 100, 100 + image.size(), 9));
      EXPECT_TRUE(all_zero(m->base, 100 + image.size(), 2 * kPage));
    } else {
      EXPECT_TRUE(all_zero(m->base, 0, 2 * kPage)) << "round " << round;
    }
    ASSERT_TRUE(a->grow(2, 1));
    EXPECT_TRUE(all_zero(m->base, 2 * kPage, 3 * kPage));
    fill_pattern(m->base, 0, 3 * kPage, 4);
    ASSERT_TRUE(a->deallocate(m->base, 3 * kPage));
  }
  EXPECT_EQ(pool.retired_slots(), 0u);
  EXPECT_EQ(pool.available_slots(), slots);
}

std::vector<std::byte> image_bytes() {
  std::vector<std::byte> bytes(3000);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = alloc_test::pattern_byte(100 + i, 9);
  return bytes;
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
TEST(PoolResetFallback, S8_EveryMadviseFailingRetiresNoSlot) {
  fault::reset();
  auto image = MemoryImage::create(image_bytes(), 100);
  ASSERT_TRUE(image);
  for (const std::size_t keep : {std::size_t{0}, kPage}) {
    MemoryPool pool = make_pool({.slots = 2, .maximum_pages = 4, .keep_resident_bytes = keep});
    fault::fail(fault::OsCall::Madvise, EINVAL, 0, 1'000'000);
    const auto fixed_before = fault::calls(fault::OsCall::MapFixed);
    churn(pool, *image, 30);
    // Each release made its madvise, and mapped fresh pages when it failed.
    EXPECT_GT(fault::calls(fault::OsCall::Madvise), 0u);
    EXPECT_GE(fault::calls(fault::OsCall::MapFixed) - fixed_before,
              fault::calls(fault::OsCall::Madvise));
    fault::reset();
  }
}
#endif

// For real: under mlockall, madvise(MADV_DONTNEED) fails with EINVAL on the
// locked pages. In a child (mlockall is process-wide); skipped where locking
// is not allowed and under the sanitizers (their shadow would be locked).
TEST(PoolResetFallback, S8_UnderMlockallThePoolKeepsServing) {
#if defined(WRT_PLATFORM_TRAP_TEST_ASAN) || defined(WRT_PLATFORM_TRAP_TEST_TSAN)
  GTEST_SKIP() << "mlockall would lock the sanitizer's shadow memory";
#else
  GTEST_FLAG_SET(death_test_style, death_test::kDeathTestStyle);
  constexpr int kCannotLock = 77;
  int status = -1;
  EXPECT_EXIT(
      {
        auto image = MemoryImage::create(image_bytes(), 100);
        if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) std::_Exit(kCannotLock);
        auto pool = MemoryPool::create({.slots = 2, .maximum_pages = 4});
        if (!pool) std::_Exit(kCannotLock);  // the locked-memory limit
        ASSERT_TRUE(image);
        churn(*pool, *image, 20);
        trap_test::exit_with_verdict();
      },
      [&status](int s) {
        status = s;
        return true;
      },
      "");
  if (WIFEXITED(status) && WEXITSTATUS(status) == kCannotLock)
    GTEST_SKIP() << "mlockall or a locked pool is not allowed here";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
#endif
}

}  // namespace
}  // namespace wrt::platform::tenants_test
#endif
