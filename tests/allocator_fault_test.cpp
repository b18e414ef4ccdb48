// A12 under OS failures: every system call MmapPageAllocator makes, on every
// path (src/allocator/mmap_page_allocator.cpp: mmap and mprotect in allocate, mprotect
// in grow, munmap in deallocate, in allocate's clean-up and in the
// destructor), failed through the seam (src/os/seam.hpp) with a chosen
// errno. Each test proves through fault::calls that the call was reached,
// then checks the error code and errno, that nothing changed (observers,
// committed bytes, the process's mappings: nothing leaked), and that a later
// correct call succeeds. Needs WRT_PLATFORM_FAULT_INJECTION=ON.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "allocator_test_support.hpp"
#include "wrt/platform.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::alloc_test {
namespace {

#ifdef WRT_PLATFORM_FAULT_INJECTION

using fault::OsCall;

constexpr std::size_t kPage = kWasmPageSize;

// The error that means out of memory: ENOMEM, or on Windows (where the seam
// injects GetLastError() codes) ERROR_COMMITMENT_LIMIT.
#ifdef _WIN32
constexpr int kOutOfMemory = 1455;
#else
constexpr int kOutOfMemory = ENOMEM;
#endif

// Out of memory and a few errors the calls can really return.
constexpr int kErrnos[] = {kOutOfMemory, EINVAL, EAGAIN, EACCES, EPERM};

// A12: out of memory is OutOfMemory, any other error SystemError.
ErrorCode code_for(int error) {
  return error == kOutOfMemory ? ErrorCode::OutOfMemory : ErrorCode::SystemError;
}

// Calls of each kind since the last reset.
struct Calls {
  std::uint64_t mmap = fault::calls(OsCall::Mmap);
  std::uint64_t mprotect = fault::calls(OsCall::Mprotect);
  std::uint64_t munmap = fault::calls(OsCall::Munmap);
};

// Runs `call(a)`, which must fail with the error for `error`, leave the
// allocator unchanged and leave the process's mappings as they were: a
// reservation made before the failure was given back. Mappings are counted
// right around the call, so the checks' own allocations cannot add one.
template <typename Call>
::testing::AssertionResult fails_and_leaks_nothing(MmapPageAllocator& a, int error, Call call) {
  const Snapshot before = snapshot(a);
  (void)mapping_count();  // warm up the C++ runtime's own allocations
  const std::size_t mappings_before = mapping_count();
  const auto result = call(a);
  const std::size_t mappings_after = mapping_count();
  if (auto failed = fails_with(result, code_for(error), error); !failed) return failed;
  if (auto same = unchanged_since(before, a); !same) return same;
  if (kMappingsAreOurs && mappings_after != mappings_before)
    return ::testing::AssertionFailure()
           << mappings_before << " mappings before the call, " << mappings_after << " after";
  return ::testing::AssertionSuccess();
}

class MmapFaults : public ::testing::Test {
 protected:
  void SetUp() override { fault::reset(); }
  void TearDown() override { fault::reset(); }
};

TEST_F(MmapFaults, A12_MmapFailureInAllocateLeavesNothing) {
  for (const int error : kErrnos) {
    MmapPageAllocator a({8, 4096});
    fault::reset();
    fault::fail(OsCall::Mmap, error);
    EXPECT_TRUE(fails_and_leaks_nothing(a, error, [](auto& x) { return x.allocate(2, 4); }))
        << "errno " << error;
    const Calls calls;
    EXPECT_EQ(calls.mmap, 1u);
    EXPECT_EQ(calls.mprotect, 0u);
    EXPECT_EQ(calls.munmap, 0u);
    EXPECT_TRUE(is_empty(a));

    const auto m = a.allocate(2, 4);
    ASSERT_TRUE(succeeds(m));
    EXPECT_TRUE(all_zero(m->base, 0, 2 * kPage));
  }
}

// The commit fails after the reservation was made: allocate must give the
// reservation back (one munmap) and report the mprotect error.
TEST_F(MmapFaults, A12_MprotectFailureInAllocateReleasesTheReservation) {
  for (const int error : kErrnos) {
    MmapPageAllocator a({8, 4096});
    fault::reset();
    fault::fail(OsCall::Mprotect, error);
    EXPECT_TRUE(fails_and_leaks_nothing(a, error, [](auto& x) { return x.allocate(2, 4); }))
        << "errno " << error;
    const Calls calls;
    EXPECT_EQ(calls.mmap, 1u);
    EXPECT_EQ(calls.mprotect, 1u);
    EXPECT_EQ(calls.munmap, 1u) << "the reservation was not released";
    EXPECT_TRUE(is_empty(a));

    const auto m = a.allocate(2, 4);
    ASSERT_TRUE(succeeds(m));
    EXPECT_TRUE(all_zero(m->base, 0, 2 * kPage));
  }
}

// When the clean-up munmap fails too, the caller still learns the first
// failure (the commit's); the allocator is unchanged. (The reservation stays
// mapped: nothing can release it when the OS refuses.)
TEST_F(MmapFaults, A12_FailedCleanUpReportsTheCommitFailure) {
  MmapPageAllocator a({1, 0});
  fault::fail(OsCall::Mprotect, EACCES);
  fault::fail(OsCall::Munmap, EINVAL);
  EXPECT_TRUE(fails_unchanged(
      a, ErrorCode::SystemError, [](auto& x) { return x.allocate(1); }, EACCES));
  EXPECT_EQ(fault::calls(OsCall::Munmap), 1u);
  EXPECT_TRUE(succeeds(a.allocate(1)));
}

TEST_F(MmapFaults, A12_MprotectFailureInGrowChangesNothing) {
  for (const int error : kErrnos) {
    MmapPageAllocator a({8, 0});
    const auto m = a.allocate(1, 4);
    ASSERT_TRUE(succeeds(m));
    fill_pattern(m->base, 0, kPage, 20);
    const Calls before;
    fault::fail(OsCall::Mprotect, error);
    EXPECT_TRUE(fails_and_leaks_nothing(a, error, [](auto& x) { return x.grow(1, 2); }))
        << "errno " << error;
    EXPECT_EQ(fault::calls(OsCall::Mprotect), before.mprotect + 1);

    ASSERT_TRUE(succeeds(a.grow(1, 2)));
    EXPECT_EQ(a.base(), m->base);
    EXPECT_TRUE(holds_pattern(m->base, 0, kPage, 20));
    EXPECT_TRUE(all_zero(m->base, kPage, 3 * kPage));
  }
}

TEST_F(MmapFaults, A12_MunmapFailureInDeallocateKeepsTheMemory) {
  for (const int error : kErrnos) {
    MmapPageAllocator a({8, 0});
    const auto m = a.allocate(2, 4);
    ASSERT_TRUE(succeeds(m));
    fill_pattern(m->base, 0, 2 * kPage, 21);
    const Calls before;
    fault::fail(OsCall::Munmap, error);
    EXPECT_TRUE(fails_and_leaks_nothing(a, error,
                                        [&](auto& x) { return x.deallocate(m->base, 2 * kPage); }))
        << "errno " << error;
    EXPECT_EQ(fault::calls(OsCall::Munmap), before.munmap + 1);

    // Still a live, usable memory that deallocates normally afterwards.
    fill_pattern(m->base, 0, 2 * kPage, 22);
    EXPECT_TRUE(succeeds(a.grow(2, 1)));
    EXPECT_TRUE(succeeds(a.deallocate(m->base, 3 * kPage)));
    EXPECT_TRUE(is_empty(a));
  }
}

// The destructor and a move assignment over a live memory release it with
// exactly one munmap; a failing one is swallowed (A13: never fails loudly).
TEST_F(MmapFaults, A13_DestructorReleasesWithOneMunmapAndSwallowsFailure) {
  {
    MmapPageAllocator a({1, 0});
    ASSERT_TRUE(succeeds(a.allocate(1)));
  }
  EXPECT_EQ(fault::calls(OsCall::Munmap), 1u);

  {
    MmapPageAllocator a({1, 0});
    MmapPageAllocator b({1, 0});
    ASSERT_TRUE(succeeds(a.allocate(1)));
    ASSERT_TRUE(succeeds(b.allocate(1)));
    b = std::move(a);  // releases b's old memory
    EXPECT_EQ(fault::calls(OsCall::Munmap), 2u);
    EXPECT_TRUE(b.is_allocated());
  }
  EXPECT_EQ(fault::calls(OsCall::Munmap), 3u);  // b's destructor; a was empty

  {
    MmapPageAllocator a({1, 0});
    ASSERT_TRUE(succeeds(a.allocate(1)));
    // The injected failure skips the real munmap: this one small reservation
    // stays mapped until the test process exits.
    fault::fail(OsCall::Munmap, EINVAL);
  }
  EXPECT_EQ(fault::calls(OsCall::Munmap), 4u);
}

// Calls that fail their checks never reach the OS (A3: "nothing is mapped").
TEST_F(MmapFaults, A3_A7_A9_A11_RejectedCallsMakeNoOsCall) {
  MmapPageAllocator a({8, 0});
  EXPECT_TRUE(fails_with(a.allocate(3, 2), ErrorCode::InvalidArgument));
  EXPECT_TRUE(fails_with(a.allocate(1, 9), ErrorCode::CapacityExceeded));
  EXPECT_TRUE(fails_with(a.grow(0, 1), ErrorCode::NotAllocated));
  EXPECT_TRUE(fails_with(a.deallocate(nullptr, 0), ErrorCode::NotAllocated));
  MmapPageAllocator huge_guard({8, SIZE_MAX});
  EXPECT_TRUE(fails_with(huge_guard.allocate(1), ErrorCode::CapacityExceeded));
  EXPECT_EQ(fault::calls(OsCall::Mmap), 0u);

  const auto m = a.allocate(1, 2);
  ASSERT_TRUE(succeeds(m));
  const Calls before;
  EXPECT_TRUE(fails_with(a.allocate(1, 2), ErrorCode::AlreadyAllocated));
  EXPECT_TRUE(fails_with(a.grow(0, 1), ErrorCode::StateMismatch));
  EXPECT_TRUE(fails_with(a.grow(1, 2), ErrorCode::CapacityExceeded));
  EXPECT_TRUE(fails_with(a.grow(1, UINT32_MAX), ErrorCode::CapacityExceeded));
  EXPECT_TRUE(fails_with(a.deallocate(m->base, 2 * kPage), ErrorCode::PointerMismatch));
  EXPECT_TRUE(fails_with(a.deallocate(m->base + 1, kPage), ErrorCode::PointerMismatch));
  EXPECT_TRUE(succeeds(a.grow(1, 0)));  // A8: nothing to commit
  const Calls after;
  EXPECT_EQ(after.mmap, before.mmap);
  EXPECT_EQ(after.mprotect, before.mprotect);
  EXPECT_EQ(after.munmap, before.munmap);
}

// A2: a memory of 0 initial pages is a reservation only: no commit call.
TEST_F(MmapFaults, A2_ZeroInitialPagesCommitNothing) {
  MmapPageAllocator a({8, 0});
  fault::fail(OsCall::Mprotect, EACCES);
  ASSERT_TRUE(succeeds(a.allocate(0, 4)));
  EXPECT_EQ(fault::calls(OsCall::Mmap), 1u);
  EXPECT_EQ(fault::calls(OsCall::Mprotect), 0u);
}

// A15: the static backend never calls the OS, whatever it does.
TEST(StaticFaults, A15_StaticAllocatorNeverCallsTheOs) {
  fault::reset();
  for (const OsCall call : {OsCall::Mmap, OsCall::Mprotect, OsCall::Munmap})
    fault::fail(call, EACCES, 0, UINT32_MAX);
  {
    Backend<StaticPageAllocator> backend;
    auto a = backend.make({4, 4096});
    const auto m = a.allocate(1, 3);
    ASSERT_TRUE(succeeds(m));
    ASSERT_TRUE(succeeds(a.grow(1, 2)));
    ASSERT_TRUE(succeeds(a.deallocate(m->base, 3 * kPage)));
    ASSERT_TRUE(succeeds(a.allocate(2)));
    StaticPageAllocator b(std::move(a));
    a = std::move(b);
  }
  EXPECT_EQ(fault::calls(OsCall::Mmap), 0u);
  EXPECT_EQ(fault::calls(OsCall::Mprotect), 0u);
  EXPECT_EQ(fault::calls(OsCall::Munmap), 0u);
  fault::reset();
}

#else

TEST(MmapFaults, A12_NeedsFaultInjection) {
  GTEST_SKIP() << "built without WRT_PLATFORM_FAULT_INJECTION: OS failures cannot be injected";
}

#endif

}  // namespace
}  // namespace wrt::platform::alloc_test
