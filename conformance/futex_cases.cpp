// The kit's futex cases: F2, F3, F5 and F6 through Futex. Woken may be
// spurious (F5), so no case counts on a waiter staying asleep.
#include <chrono>
#include <vector>

#include "kit.hpp"

namespace wrt::platform::conformance::kit {
namespace {

void expect_wait(const Result<WaitResult>& result, WaitResult expected, const char* call) {
  ASSERT_TRUE(result.has_value()) << call << ": " << result.error().message();
  EXPECT_EQ(static_cast<int>(*result), static_cast<int>(expected))
      << call << " (0 Woken, 1 NotEqual, 2 TimedOut)";
}

void expect_wake(const Result<std::uint32_t>& result, std::uint32_t expected, const char* call) {
  ASSERT_TRUE(result.has_value()) << call << ": " << result.error().message();
  EXPECT_EQ(*result, expected) << call;
}

void f2_wait_returns_not_equal_at_once_when_the_word_differs(Adapter& adapter) {
  const auto futex = adapter.create_futex(5);
  ASSERT_NE(futex, nullptr);
  expect_wait(futex->wait(4, kPatience), WaitResult::NotEqual, "wait(4) on 5");
  futex->store(9);
  expect_wait(futex->wait(5, kPatience), WaitResult::NotEqual, "wait(5) after store(9)");
}

void f3_a_zero_or_negative_timeout_checks_once(Adapter& adapter) {
  const auto futex = adapter.create_futex(5);
  ASSERT_NE(futex, nullptr);
  expect_wait(futex->wait(5, std::chrono::nanoseconds(0)), WaitResult::TimedOut, "timeout 0");
  expect_wait(futex->wait(5, std::chrono::nanoseconds(-1)), WaitResult::TimedOut, "timeout -1");
  expect_wait(futex->wait(4, std::chrono::nanoseconds(0)), WaitResult::NotEqual,
              "timeout 0, differing");
}

// F5: TimedOut means the deadline passed (a spurious Woken is allowed).
void f5_timed_out_means_the_deadline_passed(Adapter& adapter) {
  const auto futex = adapter.create_futex(5);
  ASSERT_NE(futex, nullptr);
  constexpr auto kTimeout = std::chrono::milliseconds(5);
  const auto start = std::chrono::steady_clock::now();
  const auto result = futex->wait(5, kTimeout);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  if (*result == WaitResult::TimedOut)
    EXPECT_GE(std::chrono::steady_clock::now() - start, kTimeout) << "TimedOut too early";
  else
    EXPECT_EQ(*result, WaitResult::Woken) << "an equal word gave NotEqual";
}

void f6_wake_with_nobody_waiting_or_a_count_of_zero_wakes_nobody(Adapter& adapter) {
  const auto futex = adapter.create_futex(0);
  ASSERT_NE(futex, nullptr);
  expect_wake(futex->wake(1), 0, "wake(1) with nobody waiting");
  expect_wake(futex->wake(UINT32_MAX), 0, "wake(all) with nobody waiting");
  expect_wake(futex->wake(0), 0, "wake(0)");
}

// F6: wake(1) wakes a waiter and never reports more than one; the sum of
// wake results never exceeds the Woken returns (each counted wake ended a
// wait; spurious Woken returns only add to the latter).
void f6_wake_wakes_waiters_and_never_counts_more_than_it_woke(Adapter& adapter) {
  const auto futex = adapter.create_futex(0);
  ASSERT_NE(futex, nullptr);
  constexpr std::uint32_t kWaiters = 3;
  std::atomic<std::uint32_t> arrived{0};
  std::atomic<std::uint32_t> woken{0};
  std::atomic<bool> released{false};
  std::vector<std::unique_ptr<Worker>> waiters;
  for (std::uint32_t i = 0; i < kWaiters; ++i)
    waiters.push_back(std::make_unique<Worker>([&] {
      arrived.fetch_add(1);
      while (!released.load()) {
        const auto result = futex->wait(0, kPatience);
        if (!result) break;
        if (*result == WaitResult::Woken) woken.fetch_add(1);
      }
    }));
  expect_eventually([&] { return arrived.load() == kWaiters; }, "the waiters to start");
  std::uint32_t total = 0;
  expect_eventually(
      [&] {
        const auto count = futex->wake(1);
        if (!count || *count > 1) {
          ADD_FAILURE() << "wake(1) returned " << (count ? *count : 99) << " or an error";
          return true;
        }
        total += *count;
        return total >= kWaiters;
      },
      "wake(1) to wake waiters three times");
  released.store(true);
  futex->store(1);
  std::uint32_t woken_at_release = 0;
  expect_eventually(
      [&] {
        const auto count = futex->wake(UINT32_MAX);
        if (count && *count <= kWaiters)
          woken_at_release += *count;
        else
          ADD_FAILURE() << "wake(all) returned more than the waiters or an error";
        for (const auto& waiter : waiters)
          if (!waiter->done()) return false;
        return true;
      },
      "the released waiters to return");
  for (auto& waiter : waiters) waiter->finish("a released waiter to return");
  if (adapter.capabilities().exact_wake_count) {
    EXPECT_LE(total + woken_at_release, woken.load()) << "wake counted waiters it did not wake";
  }
}

constexpr Case kCases[] = {
    {"F2_WaitReturnsNotEqualAtOnceWhenTheWordDiffers", Needs::Nothing,
     f2_wait_returns_not_equal_at_once_when_the_word_differs},
    {"F3_AZeroOrNegativeTimeoutChecksOnce", Needs::Nothing,
     f3_a_zero_or_negative_timeout_checks_once},
    {"F5_TimedOutMeansTheDeadlinePassed", Needs::Nothing, f5_timed_out_means_the_deadline_passed},
    {"F6_WakeWithNobodyWaitingOrACountOfZeroWakesNobody", Needs::Nothing,
     f6_wake_with_nobody_waiting_or_a_count_of_zero_wakes_nobody},
    {"F6_WakeWakesWaitersAndNeverCountsMoreThanItWoke", Needs::Nothing,
     f6_wake_wakes_waiters_and_never_counts_more_than_it_woke},
};

}  // namespace

std::span<const Case> futex_cases() { return kCases; }

}  // namespace wrt::platform::conformance::kit
