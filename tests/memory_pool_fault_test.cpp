// M5: every OS call of the pool fails through the seam (fault_injection.hpp)
// and the pool stays consistent: a failed call reports the errno, the
// allocator is unchanged or (on a failed reset) empty with its slot retired,
// no later user sees another's data, and nothing leaks (slots, descriptors).
#include <gtest/gtest.h>

#if defined(__linux__) && defined(WRT_PLATFORM_FAULT_INJECTION)
#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "allocator_test_support.hpp"
#include "os/fault_injection.hpp"
#include "wrt/platform.hpp"

namespace wrt::platform::pool_test {
namespace {

using alloc_test::all_zero;
using alloc_test::fails_unchanged;
using alloc_test::fails_with;
using alloc_test::fill_pattern;
using alloc_test::succeeds;
using fault::OsCall;

constexpr std::size_t kPage = kWasmPageSize;

std::size_t open_descriptors() {
  std::size_t count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++count;
    closedir(dir);
  }
  return count;
}

std::vector<std::byte> image_bytes(std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = alloc_test::pattern_byte(i, 3);
  return bytes;
}

class PoolFaults : public ::testing::Test {
 protected:
  void SetUp() override { fault::reset(); }
  void TearDown() override { fault::reset(); }
};

TEST_F(PoolFaults, M5_ReservationFailureInCreateLeavesNothing) {
  for (const int error : {ENOMEM, EINVAL}) {
    fault::reset();
    fault::fail(OsCall::Mmap, error);
    EXPECT_TRUE(fails_with(MemoryPool::create({2, 1}),
                           error == ENOMEM ? ErrorCode::OutOfMemory : ErrorCode::SystemError,
                           error));
    EXPECT_EQ(fault::calls(OsCall::Mmap), 1u);
    EXPECT_EQ(fault::calls(OsCall::Munmap), 0u);
  }
}

TEST_F(PoolFaults, M5_HeaderCommitFailureInCreateReleasesTheReservation) {
  fault::fail(OsCall::Mprotect, ENOMEM);
  EXPECT_TRUE(fails_with(MemoryPool::create({2, 1}), ErrorCode::OutOfMemory, ENOMEM));
  EXPECT_EQ(fault::calls(OsCall::Mmap), 1u);
  EXPECT_EQ(fault::calls(OsCall::Munmap), 1u);
}

// The image's state page, and its copy when there is no memfd, come from the
// OS: every failure releases what was mapped.
TEST_F(PoolFaults, M5_ImageStateFailuresLeaveNothing) {
  const auto bytes = image_bytes(100);
  struct Case {
    OsCall call;
    std::uint32_t skip;
    bool without_memfd;
  };
  for (const Case c : {Case{OsCall::Mmap, 0, false}, Case{OsCall::Mprotect, 0, false},
                       Case{OsCall::Mmap, 1, true}, Case{OsCall::Mprotect, 1, true}}) {
    fault::reset();
    if (c.without_memfd) fault::fail(OsCall::MemfdCreate, ENOSYS);
    fault::fail(c.call, ENOMEM, c.skip);
    EXPECT_TRUE(fails_with(MemoryImage::create(bytes, 0), ErrorCode::OutOfMemory, ENOMEM));
    // Every mmap that succeeded was undone (a failed one mapped nothing).
    const std::uint64_t mapped = fault::calls(OsCall::Mmap) - (c.call == OsCall::Mmap ? 1 : 0);
    EXPECT_EQ(fault::calls(OsCall::Munmap), mapped);
    EXPECT_GE(mapped, c.skip);
  }
}

TEST_F(PoolFaults, M5_S7_ImageFileFailuresCloseTheFile) {
  const auto bytes = image_bytes(3 * 4096);
  for (const OsCall call :
       {OsCall::MemfdCreate, OsCall::Ftruncate, OsCall::Pwrite, OsCall::AddSeals}) {
    fault::reset();
    const std::size_t before = open_descriptors();
    fault::fail(call, EMFILE);
    EXPECT_TRUE(fails_with(MemoryImage::create(bytes, 5), ErrorCode::SystemError, EMFILE));
    EXPECT_EQ(fault::calls(call), 1u);
    EXPECT_EQ(open_descriptors(), before);
  }
  fault::reset();
  fault::fail(OsCall::Pwrite, ENOMEM);
  EXPECT_TRUE(fails_with(MemoryImage::create(bytes, 5), ErrorCode::OutOfMemory, ENOMEM));
}

// A failed allocate() undoes what it did: the slot is clean and kept.
TEST_F(PoolFaults, M5_AllocateFailureKeepsTheSlotClean) {
  auto image = MemoryImage::create(image_bytes(5000), 70000);
  ASSERT_TRUE(succeeds(image));
  MemoryPool pool = *MemoryPool::create({1, 4, 0, kPage});
  auto a = pool.acquire(&*image);
  ASSERT_TRUE(succeeds(a));
  // The image's mapping, the commit before it, the commit after it.
  struct Case {
    OsCall call;
    std::uint32_t skip;
  };
  for (const Case c :
       {Case{OsCall::MapFixed, 0}, Case{OsCall::Mprotect, 0}, Case{OsCall::Mprotect, 1}}) {
    fault::reset();
    fault::fail(c.call, ENOMEM, c.skip);
    EXPECT_TRUE(fails_unchanged(
        *a, ErrorCode::OutOfMemory, [](auto& x) { return x.allocate(3, 4); }, ENOMEM));
    EXPECT_TRUE(a->holds_slot());
    EXPECT_EQ(pool.retired_slots(), 0u);
  }
  fault::reset();
  const auto m = a->allocate(3, 4);
  ASSERT_TRUE(succeeds(m));
  EXPECT_TRUE(all_zero(m->base, 0, 70000));
  EXPECT_TRUE(all_zero(m->base, 75000, 3 * kPage));
}

// When undoing a failed allocate() fails too, the slot is retired.
TEST_F(PoolFaults, M5_AFailedUndoRetiresTheSlot) {
  auto image = MemoryImage::create(image_bytes(100), 0);
  ASSERT_TRUE(succeeds(image));
  MemoryPool pool = *MemoryPool::create({2, 1});
  auto a = pool.acquire(&*image);
  ASSERT_TRUE(succeeds(a));
  fault::fail(OsCall::MapFixed, EACCES, 0, 2);  // the mapping and its undo
  EXPECT_TRUE(fails_with(a->allocate(1), ErrorCode::SystemError, EACCES));
  EXPECT_FALSE(a->holds_slot());
  EXPECT_FALSE(a->is_allocated());
  EXPECT_EQ(pool.retired_slots(), 1u);
  EXPECT_EQ(pool.available_slots(), 1u);
  fault::reset();
  // The allocator takes the other slot; then the pool is out of slots.
  ASSERT_TRUE(succeeds(a->allocate(1)));
  EXPECT_EQ(pool.available_slots(), 0u);
  EXPECT_TRUE(fails_with(pool.acquire(), ErrorCode::CapacityExceeded));
}

// A reset that fails retires the slot: never handed out again half reset;
// deallocate() reports the error and the allocator is empty. The reset's one
// system call is the madvise (M6); it retires the slot only when mapping
// fresh pages over the range fails too (S8).
TEST_F(PoolFaults, M5_S8_AFailedResetRetiresTheSlot) {
  auto image = MemoryImage::create(image_bytes(100), 0);
  ASSERT_TRUE(succeeds(image));
  {
    MemoryPool pool = *MemoryPool::create({2, 2});
    auto a = pool.acquire(&*image);
    ASSERT_TRUE(succeeds(a));
    const auto m = a->allocate(2);
    ASSERT_TRUE(succeeds(m));
    fill_pattern(m->base, 0, 2 * kPage, 4);
    fault::reset();
    fault::fail(OsCall::Madvise, EINVAL);
    fault::fail(OsCall::MapFixed, EINVAL);
    EXPECT_TRUE(fails_with(a->deallocate(m->base, 2 * kPage), ErrorCode::SystemError, EINVAL));
    EXPECT_EQ(fault::calls(OsCall::Madvise), 1u);
    EXPECT_EQ(fault::calls(OsCall::MapFixed), 1u);
    fault::reset();
    EXPECT_TRUE(alloc_test::is_empty(*a));
    EXPECT_FALSE(a->holds_slot());
    EXPECT_EQ(pool.retired_slots(), 1u);
    EXPECT_EQ(pool.available_slots(), 1u);
    // The one slot left is clean and not the retired one.
    auto b = pool.acquire();
    ASSERT_TRUE(succeeds(b));
    const auto other = b->allocate(2);
    ASSERT_TRUE(succeeds(other));
    EXPECT_NE(other->base, m->base);
    EXPECT_TRUE(all_zero(other->base, 0, 2 * kPage));
    EXPECT_TRUE(fails_with(pool.acquire(), ErrorCode::CapacityExceeded));
  }
}

// The destructor resets too, and swallows a failure the same way.
TEST_F(PoolFaults, M5_TheDestructorRetiresASlotItCannotReset) {
  MemoryPool pool = *MemoryPool::create({1, 1});
  {
    auto a = pool.acquire();
    ASSERT_TRUE(succeeds(a));
    ASSERT_TRUE(succeeds(a->allocate(1)));
    fault::fail(OsCall::Madvise, EINVAL);
    fault::fail(OsCall::MapFixed, EINVAL);  // and its fallback (S8)
  }
  EXPECT_EQ(pool.retired_slots(), 1u);
  EXPECT_EQ(pool.available_slots(), 0u);
  EXPECT_TRUE(fails_with(pool.acquire(), ErrorCode::CapacityExceeded));
}

TEST_F(PoolFaults, M5_GrowFailureChangesNothing) {
  MemoryPool pool = *MemoryPool::create({1, 4});
  auto a = pool.acquire();
  ASSERT_TRUE(succeeds(a));
  const auto m = a->allocate(1);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, kPage, 5);
  fault::fail(OsCall::Mprotect, ENOMEM);
  EXPECT_TRUE(fails_unchanged(
      *a, ErrorCode::OutOfMemory, [](auto& x) { return x.grow(1, 2); }, ENOMEM));
  EXPECT_TRUE(succeeds(a->grow(1, 2)));
  EXPECT_TRUE(all_zero(m->base, kPage, 3 * kPage));
}

// Rejected calls and a reset without committed bytes make no OS call.
TEST_F(PoolFaults, M5_RejectedCallsMakeNoOsCall) {
  MemoryPool pool = *MemoryPool::create({1, 2});
  auto a = pool.acquire();
  ASSERT_TRUE(succeeds(a));
  fault::reset();
  EXPECT_FALSE(a->allocate(3, 1));
  EXPECT_FALSE(a->grow(0, 1));
  EXPECT_FALSE(a->deallocate(nullptr, 0));
  ASSERT_TRUE(succeeds(a->allocate(0, 2)));
  ASSERT_TRUE(succeeds(a->deallocate(a->base(), 0)));
  // The successful allocate(0) registers the memory (a heap allocation, not
  // an OS call).
  for (std::size_t call = 0; call < prim::kOsCallCount; ++call)
    if (static_cast<OsCall>(call) != OsCall::HeapAlloc) {
      EXPECT_EQ(fault::calls(static_cast<OsCall>(call)), 0u) << "OsCall " << call;
    }
}

}  // namespace
}  // namespace wrt::platform::pool_test
#endif
