// Clause X3 on Windows only: the VirtualAlloc page allocator's view of the
// address space (VirtualQuery) and its error mapping, and the WaitOnAddress
// futex backend under the shared core. The typed allocator conformance
// suite and the futex logic tests run here too (README, "Platforms").
#ifndef NOMINMAX
#define NOMINMAX  // <windows.h> must not define min and max macros
#endif
#include <gtest/gtest.h>
#include <windows.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "allocator_test_support.hpp"
#include "futex/futex_backend.hpp"
#include "futex/futex_core.hpp"
#include "wrt/platform.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::alloc_test {
namespace {

using namespace std::chrono_literals;
constexpr std::size_t kPage = kWasmPageSize;

MEMORY_BASIC_INFORMATION query(const std::byte* p) {
  MEMORY_BASIC_INFORMATION info{};
  EXPECT_NE(VirtualQuery(p, &info, sizeof info), 0u);
  return info;
}

// Committed pages are MEM_COMMIT + PAGE_READWRITE, the rest of the
// reservation and the guard only MEM_RESERVE (no access, no commit charge);
// deallocate frees the whole reservation.
TEST(WindowsPageAllocator, X3_A1_A10_A11_ReserveCommitRelease) {
  MmapPageAllocator a({8, 2 * kPage});
  const auto m = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  const auto committed = query(m->base);
  EXPECT_EQ(committed.State, static_cast<DWORD>(MEM_COMMIT));
  EXPECT_EQ(committed.Protect, static_cast<DWORD>(PAGE_READWRITE));
  EXPECT_GE(committed.RegionSize, 2 * kPage);
  const auto reserved = query(m->base + 2 * kPage);
  EXPECT_EQ(reserved.State, static_cast<DWORD>(MEM_RESERVE));
  EXPECT_EQ(reserved.AllocationProtect, static_cast<DWORD>(PAGE_NOACCESS));
  ASSERT_TRUE(succeeds(a.grow(2, 1)));
  EXPECT_EQ(query(m->base + 2 * kPage).State, static_cast<DWORD>(MEM_COMMIT));
  EXPECT_EQ(query(m->base + 3 * kPage).State, static_cast<DWORD>(MEM_RESERVE));  // guard side
  ASSERT_TRUE(succeeds(a.deallocate(m->base, 3 * kPage)));
  EXPECT_EQ(query(m->base).State, static_cast<DWORD>(MEM_FREE));
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
using fault::OsCall;

// GetLastError codes reach os_errno; exhausted memory or commit limit is
// OutOfMemory, anything else SystemError, and nothing changes (A12).
TEST(WindowsPageAllocator, X3_A12_Win32ErrorsMapToOutOfMemoryOrSystemError) {
  struct Case {
    OsCall call;
    int error;
    ErrorCode code;
  };
  for (const Case c : {Case{OsCall::Mmap, ERROR_NOT_ENOUGH_MEMORY, ErrorCode::OutOfMemory},
                       Case{OsCall::Mmap, ERROR_COMMITMENT_LIMIT, ErrorCode::OutOfMemory},
                       Case{OsCall::Mprotect, ERROR_OUTOFMEMORY, ErrorCode::OutOfMemory},
                       Case{OsCall::Mprotect, ERROR_INVALID_PARAMETER, ErrorCode::SystemError}}) {
    fault::reset();
    MmapPageAllocator a({8, 0});
    fault::fail(c.call, c.error);
    EXPECT_TRUE(fails_unchanged(
        a, c.code, [](auto& x) { return x.allocate(1); }, c.error))
        << "error " << c.error;
    EXPECT_TRUE(succeeds(a.allocate(1)));
  }
  fault::reset();
}
#endif

}  // namespace
}  // namespace wrt::platform::alloc_test

namespace wrt::platform::detail {
namespace {

using namespace std::chrono_literals;
using Core = FutexCore<WindowsFutexBackend>;

struct WindowsFutex : ::testing::Test {
  const std::uint32_t* addr() const { return word_address(word); }
  // Threads that wait untimed for the word to change from `expected`.
  void start_waiters(int n, std::uint32_t expected) {
    for (int i = 0; i < n; ++i)
      threads.emplace_back([this, expected] {
        const auto result = Core::wait(addr(), expected, std::nullopt, waiters);
        if (result == WaitResult::Woken) woken.fetch_add(1);
      });
  }
  // Spins until `n` threads have announced their wait (the accounting the
  // wake consults); they may or may not sleep yet: either way a changed
  // value releases them.
  bool announced(std::uint32_t n) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (waiters.load() != n)
      if (std::chrono::steady_clock::now() > give_up) return false;
    return true;
  }
  void join() {
    for (auto& t : threads) t.join();
  }

  alignas(64) std::atomic<std::uint32_t> word{0};
  WaiterCount waiters{0};
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
};

TEST_F(WindowsFutex, X3_F2_WaitReturnsNotEqualWhenTheValueDiffers) {
  word.store(1);
  EXPECT_EQ(Core::wait(addr(), 0, std::nullopt, waiters), WaitResult::NotEqual);
  EXPECT_EQ(waiters.load(), 0u);
}

// TimedOut only once the whole timeout has passed (the loop re-arms).
TEST_F(WindowsFutex, X3_F3_TimedWaitEndsOnlyAfterItsTimeout) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Core::wait(addr(), 0, 30ms, waiters), WaitResult::TimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

TEST_F(WindowsFutex, X3_F2_F6_StoreThenWakeOneReleasesTheWaiter) {
  start_waiters(1, 0);
  ASSERT_TRUE(announced(1));
  word.store(1);
  EXPECT_EQ(Core::wake(addr(), 1, waiters), 1u);
  join();
  EXPECT_EQ(woken.load(), 1);
  EXPECT_EQ(waiters.load(), 0u);
}

TEST_F(WindowsFutex, X3_F6_WakeAllReleasesEveryWaiterAndCountsThem) {
  start_waiters(3, 0);
  ASSERT_TRUE(announced(3));
  word.store(1);
  EXPECT_EQ(Core::wake(addr(), UINT32_MAX, waiters), 3u);
  join();
  EXPECT_EQ(woken.load(), 3);
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
using fault::OsCall;

TEST_F(WindowsFutex, X3_F7_WakeWithoutWaitersMakesNoCall) {
  fault::reset();
  EXPECT_EQ(Core::wake(addr(), UINT32_MAX, waiters), 0u);
  EXPECT_EQ(fault::calls(OsCall::FutexWake), 0u);
}

// A failed WaitOnAddress is SystemError with the GetLastError code; an
// early ERROR_TIMEOUT re-arms until the deadline.
TEST_F(WindowsFutex, X3_F10_FailuresCarryTheWin32CodeAndEarlyTimeoutsReArm) {
  fault::reset();
  fault::fail(OsCall::FutexWait, ERROR_INVALID_PARAMETER);
  const auto failed = Core::wait(addr(), 0, std::nullopt, waiters);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::SystemError);
  EXPECT_EQ(failed.error().os_errno(), ERROR_INVALID_PARAMETER);

  fault::reset();
  fault::fail(OsCall::FutexWait, ERROR_TIMEOUT);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Core::wait(addr(), 0, 20ms, waiters), WaitResult::TimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_GE(fault::calls(OsCall::FutexWait), 2u);
  fault::reset();
}
#endif

}  // namespace
}  // namespace wrt::platform::detail
