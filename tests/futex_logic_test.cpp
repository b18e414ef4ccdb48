// The futex's pure decisions (futex_logic.hpp), including the macOS ulock
// mapping, checked on every host (clauses F3, F4, F9, F10).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "futex/futex_backend.hpp"
#include "futex/futex_logic.hpp"

namespace wrt::platform::detail {
namespace {

using std::chrono::nanoseconds;
using namespace std::chrono_literals;

TEST(FutexLogic, F3_DeadlineIsNowPlusTimeoutOrNowWhenNotPositive) {
  EXPECT_EQ(deadline_after(100ns, 50ns), Deadline{150ns});
  EXPECT_EQ(deadline_after(100ns, 0ns), Deadline{100ns});
  EXPECT_EQ(deadline_after(100ns, -5ns), Deadline{100ns});
  EXPECT_EQ(deadline_after(100ns, nanoseconds::min()), Deadline{100ns});
}

TEST(FutexLogic, F3_NoTimeoutOrAHugeOneMeansNever) {
  EXPECT_TRUE(deadline_after(100ns, std::nullopt).is_never());
  EXPECT_TRUE(deadline_after(100ns, nanoseconds::max()).is_never());
  EXPECT_TRUE(deadline_after(100ns, nanoseconds::max() - 100ns).is_never());
  EXPECT_EQ(deadline_after(100ns, nanoseconds::max() - 101ns), Deadline{nanoseconds::max() - 1ns});
}

TEST(FutexLogic, F4_DeadlineSplitsIntoTimespecFields) {
  EXPECT_EQ(split_seconds(0ns), (SecondsAndNanos{0, 0}));
  EXPECT_EQ(split_seconds(1'999'999'999ns), (SecondsAndNanos{1, 999'999'999}));
  EXPECT_EQ(split_seconds(nanoseconds::max()), (SecondsAndNanos{9'223'372'036, 854'775'807}));
}

TEST(FutexLogic, F4_F10_FutexErrnoMapping) {
  EXPECT_EQ(futex_wait_step(0), WaitStep::Woken);
  EXPECT_EQ(futex_wait_step(EINTR), WaitStep::Retry);
  EXPECT_EQ(futex_wait_step(EAGAIN), WaitStep::NotEqual);
  EXPECT_EQ(futex_wait_step(ETIMEDOUT), WaitStep::TimedOut);
  for (const int error : {EFAULT, EINVAL, ENOSYS, EPERM, ENOMEM})
    EXPECT_EQ(futex_wait_step(error), WaitStep::Fail);
}

TEST(FutexLogic, F10_FailedWaitIsSystemErrorWithErrno) {
  const auto failed = finish_wait(WaitStep::Fail, EINVAL);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::SystemError);
  EXPECT_EQ(failed.error().os_errno(), EINVAL);
  EXPECT_EQ(finish_wait(WaitStep::NotEqual, 0), WaitResult::NotEqual);
  EXPECT_EQ(finish_wait(WaitStep::TimedOut, 0), WaitResult::TimedOut);
  EXPECT_EQ(finish_wait(WaitStep::Woken, 0), WaitResult::Woken);
}

TEST(FutexLogic, F9_UlockConstantsMatchXnu) {
  // bsd/sys/ulock.h: UL_COMPARE_AND_WAIT 1, ULF_WAKE_ALL 0x100,
  // ULF_NO_ERRNO 0x01000000.
  EXPECT_EQ(kUlCompareAndWait, 1u);
  EXPECT_EQ(kUlfWakeAll, 0x100u);
  EXPECT_EQ(kUlfNoErrno, 0x01000000u);
  EXPECT_EQ(ulock_wake_operation(false), 0x01000001u);
  EXPECT_EQ(ulock_wake_operation(true), 0x01000101u);
}

TEST(FutexLogic, F9_UlockTimeoutRoundsUpNeverZeroAndClamps) {
  EXPECT_EQ(ulock_timeout_us(1ns), 1u);  // 0 would mean forever
  EXPECT_EQ(ulock_timeout_us(1000ns), 1u);
  EXPECT_EQ(ulock_timeout_us(1001ns), 2u);
  EXPECT_EQ(ulock_timeout_us(1s), 1'000'000u);
  EXPECT_EQ(ulock_timeout_us(std::chrono::microseconds(UINT32_MAX)), UINT32_MAX);
  EXPECT_EQ(ulock_timeout_us(std::chrono::microseconds(UINT32_MAX) + 1ns), UINT32_MAX);
  EXPECT_EQ(ulock_timeout_us(nanoseconds::max()), UINT32_MAX);
}

TEST(FutexLogic, F9_UlockWaitReturnCodes) {
  EXPECT_EQ(ulock_wait_step(0), WaitStep::Woken);
  EXPECT_EQ(ulock_wait_step(3), WaitStep::Woken);  // waiters left on the address
  EXPECT_EQ(ulock_wait_step(-EINTR), WaitStep::Retry);
  EXPECT_EQ(ulock_wait_step(-ETIMEDOUT), WaitStep::Retry);  // the loop checks the deadline
  EXPECT_EQ(ulock_wait_step(-EFAULT), WaitStep::Woken);
  EXPECT_EQ(ulock_wait_step(-EINVAL), WaitStep::Fail);
  EXPECT_EQ(ulock_wait_step(-ENOMEM), WaitStep::Fail);
}

TEST(FutexLogic, F9_UlockWakeReturnCodes) {
  EXPECT_EQ(ulock_wake_step(0), WakeStep::Woke);
  EXPECT_EQ(ulock_wake_step(-ENOENT), WakeStep::NobodyWaiting);
  EXPECT_EQ(ulock_wake_step(-EINTR), WakeStep::Retry);
  EXPECT_EQ(ulock_wake_step(-EINVAL), WakeStep::Fail);
}

TEST(FutexLogic, F9_UlockWakeCountIsAtMostMinOfCountAndRegistered) {
  EXPECT_EQ(ulock_wake_plan(UINT32_MAX, 5), (UlockWakePlan{true, 0}));
  EXPECT_EQ(ulock_wake_plan(1, 5), (UlockWakePlan{false, 1}));
  EXPECT_EQ(ulock_wake_plan(3, 2), (UlockWakePlan{false, 2}));
  EXPECT_EQ(ulock_wake_plan(UINT32_MAX - 1, 7), (UlockWakePlan{false, 7}));
}

// The kernel's timeout argument: 0 means forever, so a wait without a
// deadline passes 0 and a timed one never does, even with 1 ns left.
TEST(FutexLogic, F9_UlockWaitPassesZeroOnlyForForever) {
  std::vector<std::uint32_t> asked;
  const auto woken_at_once = [&](std::uint32_t timeout_us) {
    asked.push_back(timeout_us);
    return 0;
  };
  const auto now = [] { return 100ns; };
  EXPECT_EQ(ulock_wait_loop(Deadline::never(), now, woken_at_once),
            (WaitOutcome{WaitStep::Woken, 0}));
  EXPECT_EQ(ulock_wait_loop(Deadline{101ns}, now, woken_at_once),
            (WaitOutcome{WaitStep::Woken, 0}));
  EXPECT_EQ(ulock_wait_loop(Deadline{100ns + 3s}, now, woken_at_once),
            (WaitOutcome{WaitStep::Woken, 0}));
  EXPECT_EQ(asked, (std::vector<std::uint32_t>{0, 1, 3'000'000}));
  // Due already: TimedOut without a call.
  EXPECT_EQ(ulock_wait_loop(Deadline{100ns}, now, woken_at_once),
            (WaitOutcome{WaitStep::TimedOut, 0}));
  EXPECT_EQ(asked.size(), 3u);
}

// EINTR and a kernel timeout that came before our deadline (the 32-bit
// clamp) call again with the time left; a failure carries its errno.
TEST(FutexLogic, F4_F9_UlockWaitRetriesWithTheTimeLeft) {
  nanoseconds clock = 0ns;
  std::vector<std::uint32_t> asked;
  const std::vector<int> replies = {-EINTR, -ETIMEDOUT, -EINVAL};
  const auto outcome = ulock_wait_loop(
      Deadline{10ms}, [&] { return clock; },
      [&](std::uint32_t timeout_us) {
        asked.push_back(timeout_us);
        clock += 4ms;
        return replies[asked.size() - 1];
      });
  EXPECT_EQ(outcome, (WaitOutcome{WaitStep::Fail, EINVAL}));
  EXPECT_EQ(asked, (std::vector<std::uint32_t>{10'000, 6'000, 2'000}));
}

// Wake-all is one call with ULF_WAKE_ALL; a count wakes one thread per call
// until ENOENT (nobody left) and reports the calls that woke someone.
TEST(FutexLogic, F6_F9_UlockWakeCallsAndCounts) {
  std::vector<bool> calls;
  int sleeping = 2;
  const auto kernel = [&](bool wake_all) {
    calls.push_back(wake_all);
    if (sleeping == 0) return -ENOENT;
    sleeping = wake_all ? 0 : sleeping - 1;
    return 0;
  };
  EXPECT_EQ(ulock_wake_loop(5, 4, kernel), (WakeOutcome{2, 0}));
  EXPECT_EQ(calls, (std::vector<bool>{false, false, false}));
  sleeping = 3;
  calls.clear();
  EXPECT_EQ(ulock_wake_loop(UINT32_MAX, 3, kernel), (WakeOutcome{3, 0}));
  EXPECT_EQ(calls, (std::vector<bool>{true}));
  EXPECT_EQ(ulock_wake_loop(UINT32_MAX, 3, kernel), (WakeOutcome{0, 0}));  // ENOENT
  EXPECT_EQ(ulock_wake_loop(1, 1, [](bool) { return -EPERM; }), (WakeOutcome{0, EPERM}));
}

// X3: WaitOnAddress takes milliseconds, INFINITE (0xFFFFFFFF) meaning
// forever: a timed wait rounds up, never asks for 0 (a mere poll) and stays
// below INFINITE.
TEST(FutexLogic, X3_WaitOnAddressTimeoutRoundsUpNeverZeroAndStaysBelowInfinite) {
  EXPECT_EQ(kWin32Infinite, 0xFFFFFFFFu);
  EXPECT_EQ(kWin32ErrorTimeout, 1460);
  EXPECT_EQ(wait_on_address_timeout_ms(1ns), 1u);
  EXPECT_EQ(wait_on_address_timeout_ms(1ms), 1u);
  EXPECT_EQ(wait_on_address_timeout_ms(1ms + 1ns), 2u);
  EXPECT_EQ(wait_on_address_timeout_ms(1s), 1000u);
  EXPECT_EQ(wait_on_address_timeout_ms(std::chrono::milliseconds(UINT32_MAX - 1)), UINT32_MAX - 1);
  EXPECT_EQ(wait_on_address_timeout_ms(std::chrono::milliseconds(UINT32_MAX)), UINT32_MAX - 1);
  EXPECT_EQ(wait_on_address_timeout_ms(nanoseconds::max()), UINT32_MAX - 1);
}

TEST(FutexLogic, X3_WaitOnAddressResults) {
  EXPECT_EQ(wait_on_address_step(0), WaitStep::Woken);  // TRUE: woken, spurious or changed
  EXPECT_EQ(wait_on_address_step(kWin32ErrorTimeout), WaitStep::Retry);
  EXPECT_EQ(wait_on_address_step(87), WaitStep::Fail);  // ERROR_INVALID_PARAMETER
}

// A wait without deadline passes INFINITE; an early ERROR_TIMEOUT (the
// clamp, or Windows' own rounding) waits again for the time left, and
// TimedOut comes only once the deadline has passed; a failure carries
// GetLastError().
TEST(FutexLogic, X3_WaitOnAddressLoopReArmsUntilTheDeadline) {
  nanoseconds clock = 0ns;
  std::vector<std::uint32_t> asked;
  std::vector<int> replies = {0};
  const auto windows = [&](std::uint32_t timeout_ms) {
    asked.push_back(timeout_ms);
    clock += 4ms;
    return replies[asked.size() - 1];
  };
  const auto now = [&] { return clock; };
  EXPECT_EQ(wait_on_address_loop(Deadline::never(), now, windows),
            (WaitOutcome{WaitStep::Woken, 0}));
  EXPECT_EQ(asked, (std::vector<std::uint32_t>{kWin32Infinite}));

  clock = 0ns;
  asked.clear();
  replies = {kWin32ErrorTimeout, kWin32ErrorTimeout, kWin32ErrorTimeout};
  EXPECT_EQ(wait_on_address_loop(Deadline{10ms}, now, windows),
            (WaitOutcome{WaitStep::TimedOut, 0}));
  EXPECT_EQ(asked, (std::vector<std::uint32_t>{10, 6, 2}));

  clock = 0ns;
  asked.clear();
  replies = {kWin32ErrorTimeout, 87};
  EXPECT_EQ(wait_on_address_loop(Deadline{10ms}, now, windows), (WaitOutcome{WaitStep::Fail, 87}));
}

TEST(FutexLogic, F7_AddressSlotStaysInTheTable) {
  for (std::uintptr_t a = 0; a < 4096; a += 4) {
    EXPECT_LT(address_slot(a, 64), 64u);
    EXPECT_LT(address_slot(a, 256), 256u);
  }
}

}  // namespace
}  // namespace wrt::platform::detail
