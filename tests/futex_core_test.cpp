// Clauses F2-F7 and F10 against every backend this host runs: the shared
// core (futex_core.hpp) instantiated with the Linux and the portable
// backend, with a waiter count of the test's own.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "futex/futex_core.hpp"
#include "futex_test_support.hpp"
#include "signal_test_support.hpp"

namespace wrt::platform::futex_testing {
namespace {

using detail::FutexCore;
using std::chrono::nanoseconds;
using std::chrono::steady_clock;

template <typename Backend>
class FutexCoreTest : public ::testing::Test {
 protected:
  using Core = FutexCore<Backend>;

  void SetUp() override { reset_seam(); }
  void TearDown() override { reset_seam(); }

  const std::uint32_t* addr() const { return detail::word_address(word_); }
  void store(std::uint32_t value) { word_.store(value); }

  Result<WaitResult> wait(std::uint32_t expected, std::optional<nanoseconds> timeout = {}) {
    return Core::wait(addr(), expected, timeout, waiters_);
  }
  Result<std::uint32_t> wake(std::uint32_t count) { return Core::wake(addr(), count, waiters_); }
  std::function<void()> rescue() const { return rescue_on<Backend>(addr()); }

  // Starts `n` threads waiting for `expected` to change and returns once
  // all of them sleep in the backend.
  void start_sleepers(std::uint32_t n, std::uint32_t expected,
                      std::optional<nanoseconds> timeout = {}) {
    for (std::uint32_t i = 0; i < n; ++i)
      threads_.push_back(std::make_unique<WaitingThread>(
          [this, expected, timeout] { return wait(expected, timeout); }, rescue()));
    ASSERT_TRUE(eventually_sleeping<Backend>(addr(), raw_threads(), n));
  }

  std::vector<WaitingThread*> raw_threads() const {
    std::vector<WaitingThread*> raw;
    for (const auto& t : threads_) raw.push_back(t.get());
    return raw;
  }
  std::uint32_t sleepers() const { return sleeping<Backend>(addr(), raw_threads()); }
  std::uint32_t finished() const {
    std::uint32_t n = 0;
    for (const auto& t : threads_) n += t->done() ? 1 : 0;
    return n;
  }

  alignas(64) std::atomic<std::uint32_t> word_{0};
  detail::WaiterCount waiters_{0};
  std::vector<std::unique_ptr<WaitingThread>> threads_;
};

struct BackendName {
  template <typename Backend>
  static std::string GetName(int) {
    return std::is_same_v<Backend, PortableFutexBackend> ? "Portable" : "Linux";
  }
};

using Backends = ::testing::Types<PortableFutexBackend
#ifdef __linux__
                                  ,
                                  detail::LinuxFutexBackend
#endif
                                  >;
TYPED_TEST_SUITE(FutexCoreTest, Backends, BackendName);

TYPED_TEST(FutexCoreTest, F2_WaitReturnsNotEqualWhenTheValueDiffers) {
  this->store(7);
  EXPECT_EQ(this->wait(6), WaitResult::NotEqual);
  EXPECT_EQ(this->wait(6, 1s), WaitResult::NotEqual);
  EXPECT_EQ(this->waiters_.load(), 0u);
}

TYPED_TEST(FutexCoreTest, F2_WaitSleepsUntilWoken) {
  this->start_sleepers(1, 0);
  EXPECT_FALSE(this->threads_[0]->done());
  this->store(1);
  EXPECT_EQ(this->wake(1), 1u);
  EXPECT_EQ(this->threads_[0]->join(), WaitResult::Woken);
  EXPECT_EQ(this->waiters_.load(), 0u);
}

TYPED_TEST(FutexCoreTest, F3_ZeroOrNegativeTimeoutChecksOnceWithoutSleeping) {
  this->store(3);
  for (const nanoseconds timeout : {nanoseconds(0), nanoseconds(-1), nanoseconds::min()}) {
    EXPECT_EQ(this->wait(3, timeout), WaitResult::TimedOut);
    EXPECT_EQ(this->wait(4, timeout), WaitResult::NotEqual);
  }
#ifdef WRT_PLATFORM_FAULT_INJECTION
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWait), 0u);
#endif
}

TYPED_TEST(FutexCoreTest, F3_ShortTimeoutReturnsTimedOutOnlyAfterTheDeadline) {
  const auto timeout = 30ms;
  const auto start = steady_clock::now();
  EXPECT_EQ(this->wait(0, timeout), WaitResult::TimedOut);
  const auto elapsed = steady_clock::now() - start;
  EXPECT_GE(elapsed, timeout);
  EXPECT_LT(elapsed, timeout + kPatience);
}

TYPED_TEST(FutexCoreTest, F3_HugeTimeoutsSaturateInsteadOfBecomingShort) {
  // Each would wrap to a deadline in the past if added without saturation.
  for (const nanoseconds timeout :
       {nanoseconds::max(), nanoseconds::max() - nanoseconds(1), nanoseconds(INT64_MAX / 2 + 1)}) {
    this->threads_.clear();
    this->store(0);
    this->start_sleepers(1, 0, timeout);
    this->store(1);
    EXPECT_EQ(this->wake(1), 1u);
    EXPECT_EQ(this->threads_[0]->join(), WaitResult::Woken);
  }
}

// Sends signals to `target` while it sleeps on `addr` in `Backend`.
template <typename Backend>
int interrupt_until_done(WaitingThread& target, const std::uint32_t* addr,
                         int max_signals = INT_MAX) {
  return futex_testing::interrupt_until_done(
      target, [&] { return sleeping<Backend>(addr, {&target}) == 1; }, max_signals);
}

TYPED_TEST(FutexCoreTest, F4_SignalsNeitherShortenNorFailATimedWait) {
  // The call count is not asserted (see the helper);
  // F4_InjectedEintrResumesWithTheTimeLeft checks the resume path exactly.
  const InterruptingSignal signal;
  const auto timeout = 300ms;
  expect_signals_neither_end_nor_shorten(
      [&] { return this->wait(0, timeout); }, this->rescue(),
      [&](WaitingThread& waiter) { return interrupt_until_done<TypeParam>(waiter, this->addr()); },
      timeout);
}

TYPED_TEST(FutexCoreTest, F4_SignalsDoNotEndAnUntimedWait) {
  const InterruptingSignal signal;
  this->start_sleepers(1, 0);
  const int sent = interrupt_until_done<TypeParam>(*this->threads_[0], this->addr(), 20);
  EXPECT_EQ(sent, 20);
  ASSERT_TRUE(eventually_sleeping<TypeParam>(this->addr(), this->raw_threads(), 1));
  EXPECT_FALSE(this->threads_[0]->done());
  this->store(1);
  EXPECT_EQ(this->wake(1), 1u);
  EXPECT_EQ(this->threads_[0]->join(), WaitResult::Woken);
}

TYPED_TEST(FutexCoreTest, F4_InjectedEintrResumesWithTheTimeLeft) {
#ifndef WRT_PLATFORM_FAULT_INJECTION
  GTEST_SKIP() << "needs WRT_PLATFORM_FAULT_INJECTION";
#else
  fault::fail(fault::OsCall::FutexWait, EINTR, 0, 3);
  const auto timeout = 30ms;
  const auto start = steady_clock::now();
  EXPECT_EQ(this->wait(0, timeout), WaitResult::TimedOut);
  const auto elapsed = steady_clock::now() - start;
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWait), 4u);
  EXPECT_GE(elapsed, timeout);
  EXPECT_LT(elapsed, timeout + kPatience);
#endif
}

TYPED_TEST(FutexCoreTest, F5_WokenMayComeWithTheValueUnchanged) {
  this->start_sleepers(1, 0);
  EXPECT_EQ(this->wake(1), 1u);  // no store: the caller must re-check
  EXPECT_EQ(this->threads_[0]->join(), WaitResult::Woken);
  EXPECT_EQ(this->word_.load(), 0u);
}

TYPED_TEST(FutexCoreTest, F6_WakeReturnsExactlyHowManySleepersItReleased) {
  this->start_sleepers(5, 0);
  EXPECT_EQ(this->wake(0), 0u);  // count 0 does nothing
  EXPECT_EQ(this->sleepers(), 5u);
  EXPECT_EQ(this->wake(2), 2u);
  ASSERT_TRUE(eventually([&] { return this->finished() == 2; }));
  EXPECT_EQ(this->sleepers(), 3u);
  EXPECT_EQ(this->wake(1), 1u);
  ASSERT_TRUE(eventually([&] { return this->finished() == 3; }));
  EXPECT_EQ(this->sleepers(), 2u);
  EXPECT_EQ(this->wake(UINT32_MAX), 2u);
  for (auto& t : this->threads_) EXPECT_EQ(t->join(), WaitResult::Woken);
  EXPECT_EQ(this->wake(UINT32_MAX), 0u);
}

TYPED_TEST(FutexCoreTest, F6_CountAboveIntMaxWakesEveryone) {
  this->start_sleepers(3, 0);
  EXPECT_EQ(this->wake(static_cast<std::uint32_t>(INT_MAX) + 1u), 3u);
  for (auto& t : this->threads_) EXPECT_EQ(t->join(), WaitResult::Woken);
}

TYPED_TEST(FutexCoreTest, F6_WakeWithNobodyWaitingReturnsZero) {
  EXPECT_EQ(this->wake(1), 0u);
  EXPECT_EQ(this->wake(UINT32_MAX), 0u);
}

// Two distinct words in the same slot of the stripe and bucket tables.
struct SharedSlotWords {
  SharedSlotWords() {
    const auto slot = [this](std::size_t i) {
      return detail::address_slot(reinterpret_cast<std::uintptr_t>(&words[i]), 256);
    };
    for (second = 1; slot(second) != slot(0); ++second) {
    }
  }
  const std::uint32_t* first_address() const { return detail::word_address(words[0]); }
  const std::uint32_t* second_address() const { return detail::word_address(words[second]); }

  std::atomic<std::uint32_t> words[4096] = {};
  std::size_t second = 0;
};

TYPED_TEST(FutexCoreTest, F6_WakeReleasesOnlyWaitersOnItsOwnAddress) {
  using Core = typename TestFixture::Core;
  const auto shared = std::make_unique<SharedSlotWords>();
  ASSERT_LT(shared->second, 4096u);
  const std::uint32_t* a = shared->first_address();
  const std::uint32_t* b = shared->second_address();
  WaitingThread on_a([&] { return Core::wait(a, 0, std::nullopt, this->waiters_); },
                     rescue_on<TypeParam>(a));
  WaitingThread on_b([&] { return Core::wait(b, 0, std::nullopt, this->waiters_); },
                     rescue_on<TypeParam>(b));
  ASSERT_TRUE(eventually_sleeping<TypeParam>(a, {&on_a}, 1));
  ASSERT_TRUE(eventually_sleeping<TypeParam>(b, {&on_b}, 1));
  EXPECT_EQ(Core::wake(a, UINT32_MAX, this->waiters_), 1u);
  EXPECT_EQ(on_a.join(), WaitResult::Woken);
  EXPECT_FALSE(on_b.done());
  EXPECT_EQ(Core::wake(b, 1, this->waiters_), 1u);
  EXPECT_EQ(on_b.join(), WaitResult::Woken);
}

TYPED_TEST(FutexCoreTest, F7_NoSystemCallForADifferingValueOrWithoutWaiters) {
#ifndef WRT_PLATFORM_FAULT_INJECTION
  GTEST_SKIP() << "needs WRT_PLATFORM_FAULT_INJECTION";
#else
  this->store(1);
  EXPECT_EQ(this->wait(0), WaitResult::NotEqual);
  EXPECT_EQ(this->wait(0, 1s), WaitResult::NotEqual);
  EXPECT_EQ(this->wake(1), 0u);
  EXPECT_EQ(this->wake(UINT32_MAX), 0u);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWait), 0u);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWake), 0u);
  // With a waiter announced, the same wake does reach the backend.
  this->waiters_.store(1);
  EXPECT_EQ(this->wake(1), 0u);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWake), 1u);
#endif
}

// The accounting forgets a waiter once it has left, whether its wait timed
// out or was woken: a later wake with nobody waiting again makes no call.
TYPED_TEST(FutexCoreTest, F7_NoSystemCallOnceEveryWaiterHasLeft) {
#ifndef WRT_PLATFORM_FAULT_INJECTION
  GTEST_SKIP() << "needs WRT_PLATFORM_FAULT_INJECTION";
#else
  EXPECT_EQ(this->wait(0, 1ms), WaitResult::TimedOut);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWait), 1u);  // it did sleep in the backend
  this->start_sleepers(1, 0);
  EXPECT_EQ(this->wake(1), 1u);
  EXPECT_EQ(this->threads_[0]->join(), WaitResult::Woken);
  EXPECT_EQ(this->waiters_.load(), 0u);
  const std::uint64_t wakes = fault::calls(fault::OsCall::FutexWake);
  EXPECT_EQ(this->wake(1), 0u);
  EXPECT_EQ(this->wake(UINT32_MAX), 0u);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWake), wakes);
#endif
}

TYPED_TEST(FutexCoreTest, F8_NullAndMisalignedAddressesAreErrors) {
  const std::uint32_t* null = nullptr;
  EXPECT_EQ(TestFixture::Core::wait(null, 0, {}, this->waiters_).error().code(),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(TestFixture::Core::wake(null, 1, this->waiters_).error().code(),
            ErrorCode::InvalidArgument);
  alignas(8) unsigned char bytes[8] = {};
  for (int offset = 1; offset < 4; ++offset) {
    const auto* odd = reinterpret_cast<const std::uint32_t*>(bytes + offset);
    EXPECT_EQ(TestFixture::Core::wait(odd, 0, 1s, this->waiters_).error().code(),
              ErrorCode::Misaligned);
    EXPECT_EQ(TestFixture::Core::wake(odd, 1, this->waiters_).error().code(),
              ErrorCode::Misaligned);
  }
  EXPECT_EQ(this->waiters_.load(), 0u);
}

TYPED_TEST(FutexCoreTest, F10_OsFailuresAreSystemErrorsWithErrno) {
#ifndef WRT_PLATFORM_FAULT_INJECTION
  GTEST_SKIP() << "needs WRT_PLATFORM_FAULT_INJECTION";
#else
  for (const int error : {EFAULT, EINVAL, ENOSYS}) {
    fault::fail(fault::OsCall::FutexWait, error);
    const auto waited = this->wait(0);
    ASSERT_FALSE(waited);
    EXPECT_EQ(waited.error(), Error(ErrorCode::SystemError, "", error));
    EXPECT_EQ(this->waiters_.load(), 0u);  // the failed wait left the accounting
    fault::fail(fault::OsCall::FutexWake, error);
    this->waiters_.store(1);
    const auto woke = this->wake(1);
    this->waiters_.store(0);
    ASSERT_FALSE(woke);
    EXPECT_EQ(woke.error(), Error(ErrorCode::SystemError, "", error));
  }
#endif
}

TYPED_TEST(FutexCoreTest, F10_TimeoutAndValueErrnosAreResultsNotErrors) {
#ifndef WRT_PLATFORM_FAULT_INJECTION
  GTEST_SKIP() << "needs WRT_PLATFORM_FAULT_INJECTION";
#else
  fault::fail(fault::OsCall::FutexWait, EAGAIN);
  EXPECT_EQ(this->wait(0), WaitResult::NotEqual);
  fault::fail(fault::OsCall::FutexWait, ETIMEDOUT);
  EXPECT_EQ(this->wait(0, 1h), WaitResult::TimedOut);
#endif
}

// A lock built the classic way (Drepper, "Futexes are tricky", mutex 2):
// 0 free, 1 locked, 2 locked with sleepers. A lost wake-up leaves a thread
// asleep with the lock free, and its bounded wait then reports TimedOut.
template <typename Core>
class TestMutex {
 public:
  bool lock(detail::WaiterCount& waiters) {
    std::uint32_t state = 0;
    if (word_.compare_exchange_strong(state, 1)) return true;
    if (state != 2) state = word_.exchange(2);
    while (state != 0) {
      const auto result = Core::wait(detail::word_address(word_), 2, 10s, waiters);
      if (result == WaitResult::TimedOut || !result) return false;
      state = word_.exchange(2);
    }
    return true;
  }
  void unlock(detail::WaiterCount& waiters) {
    if (word_.exchange(0) == 2) (void)Core::wake(detail::word_address(word_), 1, waiters);
  }

 private:
  std::atomic<std::uint32_t> word_{0};
};

TYPED_TEST(FutexCoreTest, F2_NoLostWakeUpsUnderContention) {
  TestMutex<typename TestFixture::Core> mutex;
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  long counter = 0;  // plain: the mutex alone protects it
  std::atomic<bool> lost{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds && !lost.load(); ++i) {
        if (!mutex.lock(this->waiters_)) {
          lost.store(true);
          return;
        }
        ++counter;
        mutex.unlock(this->waiters_);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_FALSE(lost.load());
  EXPECT_EQ(counter, long{kThreads} * kRounds);
  EXPECT_EQ(this->waiters_.load(), 0u);
}

// A counting semaphore: up() adds a token and wakes one waiter; down()
// takes a token, waiting while there is none. A waiter is only left asleep
// for long by a lost wake-up, and its bounded wait then reports TimedOut.
template <typename Core>
class TestSemaphore {
 public:
  explicit TestSemaphore(std::uint32_t tokens) : tokens_(tokens) {}
  bool down() {
    for (std::uint32_t seen = tokens_.load();;) {
      if (seen == 0) {
        const auto result = Core::wait(detail::word_address(tokens_), 0, 10s, waiters_);
        if (!result || *result == WaitResult::TimedOut) return false;
        seen = tokens_.load();
      } else if (tokens_.compare_exchange_weak(seen, seen - 1)) {
        return true;
      }
    }
  }
  bool up() {
    tokens_.fetch_add(1);
    return Core::wake(detail::word_address(tokens_), 1, waiters_).has_value();
  }
  std::uint32_t tokens() const { return tokens_.load(); }
  std::uint32_t waiters() const { return waiters_.load(); }

 private:
  alignas(64) std::atomic<std::uint32_t> tokens_;
  detail::WaiterCount waiters_{0};
};

// Producers and consumers through a one-slot buffer made of two
// semaphores (free slot, full slot): each side keeps blocking on the other,
// so wake-ups race with waits all the time. Every item arrives exactly once.
TYPED_TEST(FutexCoreTest, F2_ProducersAndConsumersLoseNoWakeUp) {
  using Semaphore = TestSemaphore<typename TestFixture::Core>;
  constexpr std::uint32_t kProducers = 2, kConsumers = 3;
  constexpr std::uint32_t kItemsEach = 600;  // per producer; kConsumers divides the total
  constexpr std::uint32_t kShare = kProducers * kItemsEach / kConsumers;
  Semaphore free_slots(1), full_slots(0);
  std::atomic<std::uint32_t> slot{0};
  std::atomic<std::uint64_t> sum{0};
  std::atomic<bool> lost{false};
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < kProducers; ++p)
    threads.emplace_back([&, p] {
      for (std::uint32_t i = 1; i <= kItemsEach && !lost.load(); ++i) {
        if (!free_slots.down()) return lost.store(true);
        slot.store(p * kItemsEach + i);
        if (!full_slots.up()) return lost.store(true);
      }
    });
  for (std::uint32_t c = 0; c < kConsumers; ++c)
    threads.emplace_back([&] {
      for (std::uint32_t i = 0; i < kShare && !lost.load(); ++i) {
        if (!full_slots.down()) return lost.store(true);
        sum.fetch_add(slot.exchange(0));
        if (!free_slots.up()) return lost.store(true);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_FALSE(lost.load());
  constexpr std::uint64_t kItems = kProducers * kItemsEach;
  EXPECT_EQ(sum.load(), kItems * (kItems + 1) / 2);  // items 1..kItems, each once
  EXPECT_EQ(free_slots.tokens(), 1u);
  EXPECT_EQ(full_slots.tokens(), 0u);
  EXPECT_EQ(free_slots.waiters() + full_slots.waiters(), 0u);
}

TYPED_TEST(FutexCoreTest, F2_F6_PingPongNeverLosesAWakeAndNeverOvercounts) {
  // Two threads hand a turn back and forth; each wake's count must match a
  // waiter that really returned Woken.
  constexpr std::uint32_t kTurns = 5000;
  std::atomic<std::uint64_t> reported{0}, woken_results{0};
  std::atomic<bool> lost{false};
  auto player = [&](std::uint32_t parity) {
    for (std::uint32_t turn = parity; turn < kTurns && !lost.load(); turn += 2) {
      for (std::uint32_t seen = this->word_.load(); seen != turn; seen = this->word_.load()) {
        const auto result = this->wait(seen, 10s);
        if (!result || *result == WaitResult::TimedOut) lost.store(true);
        if (lost.load()) return;
        if (*result == WaitResult::Woken) woken_results.fetch_add(1);
      }
      this->store(turn + 1);
      const auto woke = this->wake(1);
      if (!woke) lost.store(true);
      reported.fetch_add(woke.value_or(0));
    }
  };
  std::thread even(player, 0u), odd(player, 1u);
  even.join();
  odd.join();
  EXPECT_FALSE(lost.load());
  EXPECT_EQ(this->word_.load(), kTurns);
  EXPECT_LE(reported.load(), woken_results.load());
}

}  // namespace
}  // namespace wrt::platform::futex_testing
