// LinearMemory<A> with threads (docs/SPEC.md, W3, W5-W9): waits, notifies
// and grows from several threads, typed over every page allocator backend.
// A test goes on only once the waiters it needs are queued and asleep (read
// from the queue and /proc/self/task/<tid>/syscall), never after a sleep;
// every wait is bounded (WaitingThread::join), so a bug fails, not hangs.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "futex/futex_logic.hpp"
#include "linear_memory_test_support.hpp"
#include "signal_test_support.hpp"

namespace wrt::platform::linear_memory_testing {
namespace {

using namespace std::chrono_literals;
using futex_testing::expect_eventually;
using futex_testing::InterruptingSignal;
using std::chrono::steady_clock;
using testing_deadline::Gate;

template <typename A>
using LinearMemoryThreads = LinearMemoryTest<A>;
TYPED_TEST_SUITE(LinearMemoryThreads, Backends, BackendName);

std::vector<WaitingThread*> raw(const std::vector<std::unique_ptr<WaitingThread>>& threads) {
  std::vector<WaitingThread*> out;
  for (const auto& t : threads) out.push_back(t.get());
  return out;
}

// --- W5: a wait ends Woken only when a notify chose it ---

TYPED_TEST(LinearMemoryThreads, W5_W6_ANotifyWakesAWaiterThatWaitsForever) {
  auto memory = this->make(shared_type(1));
  for (const bool wide : {false, true}) {
    auto waiter = start_waiter(memory, 64, wide, 0, -1);
    ASSERT_TRUE(eventually_asleep(memory, 64, 1, {waiter.get()}));
    EXPECT_FALSE(waiter->done());
    EXPECT_EQ(memory.atomic_notify(64, 1), 1u);
    EXPECT_EQ(waiter->join(), WaitResult::Woken);
    EXPECT_EQ(detail::atomic_waiters_at(memory.data() + 64), 0u);
  }
}

TYPED_TEST(LinearMemoryThreads, W5_AHugeTimeoutSaturatesInsteadOfWrapping) {
  auto memory = this->make(shared_type(1));
  auto waiter = start_waiter(memory, 0, true, 0, std::numeric_limits<std::int64_t>::max());
  ASSERT_TRUE(eventually_asleep(memory, 0, 1, {waiter.get()}));
  EXPECT_FALSE(waiter->done());  // asleep, and still queued: not timed out
  EXPECT_EQ(memory.atomic_notify(0, 1), 1u);
  EXPECT_EQ(waiter->join(), WaitResult::Woken);
}

TYPED_TEST(LinearMemoryThreads, W5_W7_AStoreWithoutANotifyWakesNobody) {
  auto memory = this->make(shared_type(1));
  auto narrow = start_waiter(memory, 0, false, 0, -1);
  ASSERT_TRUE(eventually_asleep(memory, 0, 1, {narrow.get()}));
  auto wide = start_waiter(memory, 8, true, 0, -1);
  ASSERT_TRUE(eventually_asleep(memory, 8, 1, {wide.get()}));
  store<std::uint32_t>(memory, 0, 1);
  store<std::uint64_t>(memory, 8, std::uint64_t{1} << 40);  // only the high half
  // Both are still queued and asleep: nothing but a notify ends their wait.
  ASSERT_TRUE(eventually_asleep(memory, 0, 1, {narrow.get(), wide.get()}));
  ASSERT_TRUE(eventually_asleep(memory, 8, 1, {narrow.get(), wide.get()}));
  EXPECT_FALSE(narrow->done());
  EXPECT_FALSE(wide->done());
  EXPECT_EQ(memory.atomic_notify(8, kAllValues), 1u);
  EXPECT_EQ(wide->join(), WaitResult::Woken);
  EXPECT_EQ(memory.atomic_notify(0, kAllValues), 1u);
  EXPECT_EQ(narrow->join(), WaitResult::Woken);
}

// Sends signals to `target` while it is queued on `address` and asleep.
template <typename M>
int interrupt_until_done(M& memory, std::uint64_t address, WaitingThread& target, int max_signals) {
  return futex_testing::interrupt_until_done(
      target,
      [&] {
        return detail::atomic_waiters_at(memory.data() + address) == 1 &&
               blocked_in_futex_call(target.tid());
      },
      max_signals);
}

TYPED_TEST(LinearMemoryThreads, W5_SignalsNeitherWakeNorShortenATimedWait) {
  // A signal neither ends the wait Woken nor ends it before its timeout.
  auto memory = this->make(shared_type(1));
  const InterruptingSignal signal;
  const std::int64_t timeout_ns = 200'000'000;
  futex_testing::expect_signals_neither_end_nor_shorten(
      [&] { return memory.atomic_wait64(0, 0, timeout_ns); },
      [&] { (void)memory.atomic_notify(0, kAllValues); },
      [&](WaitingThread& waiter) { return interrupt_until_done(memory, 0, waiter, 1000); },
      std::chrono::nanoseconds(timeout_ns));
}

TYPED_TEST(LinearMemoryThreads, W5_SignalsDoNotEndAnUntimedWait) {
  auto memory = this->make(shared_type(1));
  const InterruptingSignal signal;
  auto waiter = start_waiter(memory, 4, false, 0, -1);
  ASSERT_TRUE(eventually_asleep(memory, 4, 1, {waiter.get()}));
  EXPECT_EQ(interrupt_until_done(memory, 4, *waiter, 20), 20);
  ASSERT_TRUE(eventually_asleep(memory, 4, 1, {waiter.get()}));
  EXPECT_FALSE(waiter->done());
  EXPECT_EQ(memory.atomic_notify(4, 1), 1u);
  EXPECT_EQ(waiter->join(), WaitResult::Woken);
}

// The first word after address 0 whose waiters share address 0's bucket of
// the wait queue.
template <typename M>
std::uint64_t word_in_the_bucket_of_zero(const M& memory) {
  const auto bucket = [&](std::uint64_t address) {
    return detail::address_slot(reinterpret_cast<std::uintptr_t>(memory.data() + address),
                                detail::kWaitQueueBuckets);
  };
  std::uint64_t word = 4;
  while (bucket(word) != bucket(0)) word += 4;
  return word;
}

// --- W6: notify: FIFO, exact counts, no system call without waiters ---

TYPED_TEST(LinearMemoryThreads, W6_NotifyWakesInArrivalOrderAcrossWait32AndWait64) {
  auto memory = this->make(shared_type(1));
  constexpr std::size_t kWaiters = 6;
  std::vector<std::unique_ptr<WaitingThread>> waiters;
  for (std::size_t i = 0; i < kWaiters; ++i) {
    waiters.push_back(start_waiter(memory, 128, i % 2 == 1, 0, -1));  // 32, 64, 32, ...
    ASSERT_TRUE(eventually_asleep(memory, 128, static_cast<std::uint32_t>(i + 1), raw(waiters)));
  }
  for (std::size_t i = 0; i < kWaiters; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(memory.atomic_notify(128, 1), 1u);
    // Exactly the oldest was chosen: the rest are still queued, and only a
    // notify can take a forever wait out of the queue.
    EXPECT_EQ(detail::atomic_waiters_at(memory.data() + 128), kWaiters - i - 1);
    EXPECT_EQ(waiters[i]->join(), WaitResult::Woken);
    for (std::size_t j = i + 1; j < kWaiters; ++j) EXPECT_FALSE(waiters[j]->done()) << j;
  }
}

TYPED_TEST(LinearMemoryThreads, W6_NotifyReturnsExactlyHowManyItWoke) {
  auto memory = this->make(shared_type(1));
  std::vector<std::unique_ptr<WaitingThread>> waiters;
  for (std::uint32_t i = 0; i < 5; ++i) {
    waiters.push_back(start_waiter(memory, 0, i == 2, 0, -1));
    ASSERT_TRUE(eventually_asleep(memory, 0, i + 1, raw(waiters)));
  }
  EXPECT_EQ(memory.atomic_notify(0, 0), 0u);  // count 0 wakes none
  EXPECT_EQ(detail::atomic_waiters_at(memory.data()), 5u);
  EXPECT_EQ(memory.atomic_notify(0, 2), 2u);
  EXPECT_EQ(waiters[0]->join(), WaitResult::Woken);
  EXPECT_EQ(waiters[1]->join(), WaitResult::Woken);
  EXPECT_EQ(memory.atomic_notify(0, 7), 3u);  // min(count, waiters)
  for (std::size_t i = 2; i < 5; ++i) EXPECT_EQ(waiters[i]->join(), WaitResult::Woken);
  EXPECT_EQ(memory.atomic_notify(0, kAllValues), 0u);
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
TYPED_TEST(LinearMemoryThreads, W6_NotifyWithNobodyWaitingMakesNoSystemCall) {
  auto memory = this->make(shared_type(1));
  // A waiter on another word of the same bucket: the bucket is not empty,
  // and the notify still makes no system call for the word it was asked.
  const std::uint64_t neighbour = word_in_the_bucket_of_zero(memory);
  ASSERT_LT(neighbour, memory.byte_length());
  fault::reset();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(memory.atomic_notify(0, kAllValues), 0u);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWake), 0u);
  auto other = start_waiter(memory, neighbour, false, 0, -1);
  ASSERT_TRUE(eventually_asleep(memory, neighbour, 1, {other.get()}));
  fault::reset();
  EXPECT_EQ(memory.atomic_notify(0, kAllValues), 0u);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWake), 0u);
  // The control: a notify that chooses a sleeping waiter wakes it with
  // exactly one call.
  EXPECT_EQ(memory.atomic_notify(neighbour, kAllValues), 1u);
  EXPECT_EQ(other->join(), WaitResult::Woken);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWake), 1u);
}

// Holds every thread that reaches the seam for `call` at the Gate until
// destroyed (which opens the gate and removes the hook), so that a test
// orders two threads by a handshake, not by how fast they run.
class HeldBefore {
 public:
  explicit HeldBefore(fault::OsCall call) : call_(call) {
    Gate::reset();
    fault::before(call_, &Gate::hold);
  }
  ~HeldBefore() {
    fault::before(call_, nullptr);
    Gate::open();
  }
  HeldBefore(const HeldBefore&) = delete;
  HeldBefore& operator=(const HeldBefore&) = delete;

 private:
  fault::OsCall call_;
};

TYPED_TEST(LinearMemoryThreads, W6_AChosenWaiterWhoseWakeFailedStillReturnsWoken) {
  // The waiter is held after it queued and before it sleeps, until its
  // deadline has passed for sure; then a notify chooses it and the wake
  // fails. Let go, the waiter finds the mark: Woken, not TimedOut.
  auto memory = this->make(shared_type(1));
  fault::reset();
  std::unique_ptr<WaitingThread> waiter;
  {
    const HeldBefore held(fault::OsCall::FutexWait);
    waiter = start_waiter(memory, 0, false, 0, 1'000'000);  // 1 ms
    ASSERT_TRUE(Gate::eventually_arrived(1, "the waiter to reach its futex wait"));
    // Not synchronisation (the waiter is held): only lets its deadline,
    // taken before it arrived, pass.
    std::this_thread::sleep_until(steady_clock::now() + 1ms);
    EXPECT_EQ(detail::atomic_waiters_at(memory.data()), 1u);
    fault::fail(fault::OsCall::FutexWake, EINVAL);
    EXPECT_EQ(memory.atomic_notify(0, 1), 1u);  // chosen: counted, whatever the OS says
    EXPECT_EQ(fault::calls(fault::OsCall::FutexWake), 1u);
  }
  EXPECT_EQ(waiter->join(), WaitResult::Woken);
  fault::reset();
}
#endif

// Waiter threads make many waits with short timeouts on a few words while
// notifier threads notify them with random counts: whatever the
// interleaving, every notified waiter was counted once and only once.
template <typename M>
void expect_notify_sum_equals_woken(M& memory, int waiter_threads, int waits_each,
                                    int notifier_threads, std::uint64_t words) {
  std::atomic<std::uint64_t> woken{0};
  std::atomic<std::uint64_t> notified{0};
  std::atomic<int> waiters_left{waiter_threads};
  std::vector<std::thread> threads;
  for (int t = 0; t < waiter_threads; ++t)
    threads.emplace_back([&, t] {
      std::minstd_rand rng(static_cast<unsigned>(t) + 1);
      // Until enough waits were notified to make the sum mean something
      // (bounded: a machine that never wakes anyone fails below).
      const auto give_up = steady_clock::now() + futex_testing::kPatience;
      for (int i = 0; i < waits_each || (woken.load() < 20 && steady_clock::now() < give_up); ++i) {
        const std::uint64_t address = 8 * (rng() % words);
        const std::int64_t timeout_ns = static_cast<std::int64_t>(rng() % 200'000);
        const auto result = rng() % 2 == 0 ? memory.atomic_wait32(address, 0, timeout_ns)
                                           : memory.atomic_wait64(address, 0, timeout_ns);
        if (!result || *result == WaitResult::NotEqual) {
          ADD_FAILURE() << "a wait on a word nobody changes returned "
                        << (result ? "NotEqual" : result.error().message());
          break;  // not ASSERT, which would skip the count below and leave the notifiers running
        }
        if (*result == WaitResult::Woken) woken.fetch_add(1);
      }
      waiters_left.fetch_sub(1);
    });
  for (int t = 0; t < notifier_threads; ++t)
    threads.emplace_back([&, t] {
      std::minstd_rand rng(static_cast<unsigned>(t) + 100);
      expect_eventually(
          [&] {
            if (waiters_left.load() == 0) return true;
            const std::uint32_t count = rng() % 4 == 0 ? kAllValues : rng() % 3;
            const auto n = memory.atomic_notify(8 * (rng() % words), count);
            EXPECT_TRUE(n.has_value()) << n.error().message();
            notified.fetch_add(n.value_or(0));
            return false;
          },
          "the waiter threads to finish");
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(notified.load(), woken.load());
  EXPECT_GE(woken.load(), 20u);
  for (std::uint64_t w = 0; w < words; ++w)
    EXPECT_EQ(detail::atomic_waiters_at(memory.data() + 8 * w), 0u);
}

TYPED_TEST(LinearMemoryThreads, W6_TheSumOfNotifyResultsEqualsTheWokenWaitsUnderTimeouts) {
  auto memory = this->make(shared_type(1));
  expect_notify_sum_equals_woken(memory, 4, 300, 2, 2);
}

// --- W8: waiters are keyed by the exact address ---

TYPED_TEST(LinearMemoryThreads, W8_ANotifyWakesOnlyWaitersOnItsOwnAddress) {
  auto memory = this->make(shared_type(1));
  // 0 and the next word in the same bucket, then 8 (most likely another).
  const std::uint64_t neighbour = word_in_the_bucket_of_zero(memory);
  ASSERT_LT(neighbour + 8, memory.byte_length());
  auto at_zero = start_waiter(memory, 0, false, 0, -1);
  ASSERT_TRUE(eventually_asleep(memory, 0, 1, {at_zero.get()}));
  auto at_neighbour = start_waiter(memory, neighbour, false, 0, -1);
  ASSERT_TRUE(eventually_asleep(memory, neighbour, 1, {at_neighbour.get()}));
  auto at_eight = start_waiter(memory, 8, true, 0, -1);
  ASSERT_TRUE(eventually_asleep(memory, 8, 1, {at_eight.get()}));
  EXPECT_EQ(memory.atomic_notify(neighbour, kAllValues), 1u);
  EXPECT_EQ(at_neighbour->join(), WaitResult::Woken);
  EXPECT_EQ(memory.atomic_notify(4 + (neighbour == 4 ? 8 : 0), kAllValues), 0u);
  EXPECT_EQ(memory.atomic_notify(8, kAllValues), 1u);
  EXPECT_EQ(at_eight->join(), WaitResult::Woken);
  EXPECT_EQ(detail::atomic_waiters_at(memory.data()), 1u);
  EXPECT_FALSE(at_zero->done());
  EXPECT_EQ(memory.atomic_notify(0, kAllValues), 1u);
  EXPECT_EQ(at_zero->join(), WaitResult::Woken);
}

TYPED_TEST(LinearMemoryThreads, W8_TheSameOffsetInAnotherMemoryIsAnotherAddress) {
  auto first = this->make(shared_type(1));
  auto second = this->make(shared_type(1));
  auto waiter = start_waiter(first, 16, false, 0, -1);
  ASSERT_TRUE(eventually_asleep(first, 16, 1, {waiter.get()}));
  EXPECT_EQ(second.atomic_notify(16, kAllValues), 0u);
  EXPECT_EQ(detail::atomic_waiters_at(first.data() + 16), 1u);
  EXPECT_FALSE(waiter->done());
  EXPECT_EQ(first.atomic_notify(16, kAllValues), 1u);
  EXPECT_EQ(waiter->join(), WaitResult::Woken);
}

// --- W3: concurrent grow, size and access ---

TYPED_TEST(LinearMemoryThreads, W3_ConcurrentGrowsAreSerialisedAndTheirResultsChain) {
  for (int round = 0; round < 20; ++round) {
    auto memory = this->make(shared_type(0, kLimitPages));
    struct Grown {
      std::uint64_t previous;
      std::uint32_t delta;
    };
    std::vector<std::vector<Grown>> grown(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < grown.size(); ++t)
      threads.emplace_back([&, t] {
        for (std::uint32_t i = 0;; ++i) {
          const std::uint32_t delta = (static_cast<std::uint32_t>(t) + i) % 3;  // 0, 1 or 2
          const auto previous = memory.grow(delta);
          if (!previous) {
            EXPECT_EQ(previous.error().code(), ErrorCode::CapacityExceeded);
            if (delta == 1) return;  // full
            continue;
          }
          grown[t].push_back({*previous, delta});
        }
      });
    for (auto& t : threads) t.join();
    std::vector<Grown> all;
    for (const auto& g : grown)
      for (const Grown x : g)
        if (x.delta != 0) all.push_back(x);
    std::sort(all.begin(), all.end(), [](Grown a, Grown b) { return a.previous < b.previous; });
    std::uint32_t expected = 0;
    for (const Grown x : all) {
      EXPECT_EQ(x.previous, expected);
      expected = x.previous + x.delta;
    }
    EXPECT_EQ(expected, kLimitPages);
    EXPECT_EQ(memory.size(), kLimitPages);
  }
}

TYPED_TEST(LinearMemoryThreads, W3_SizeNeverDecreasesAndEveryByteBelowASeenSizeIsAccessible) {
  auto memory = this->make(shared_type(1, kLimitPages));
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r)
    readers.emplace_back([&, r] {
      std::uint32_t last = 0;
      const std::uint64_t own = 64 + 8 * static_cast<std::uint64_t>(r);
      while (!stop.load()) {
        const std::uint32_t seen = memory.size();
        EXPECT_GE(seen, last);
        last = seen;
        // The last word below what this thread saw: committed, readable,
        // zero (a grow never touches bytes it committed earlier).
        const std::uint64_t top = std::uint64_t{seen} * kWasmPageSize - 8;
        EXPECT_EQ(load<std::uint64_t>(memory, top), 0u);
        std::byte byte{};
        EXPECT_TRUE(memory.read(top, std::span(&byte, 1)).has_value());
        // Atomics on the first page run alongside the grows.
        EXPECT_TRUE(memory.write(own, std::span(&byte, 1)).has_value());
        EXPECT_EQ(memory.atomic_wait64(own, 1, -1), WaitResult::NotEqual);
        EXPECT_EQ(memory.atomic_notify(own, 1), 0u);
      }
    });
  std::vector<std::thread> growers;
  for (int g = 0; g < 2; ++g)
    growers.emplace_back([&] {
      while (memory.grow(1)) std::this_thread::yield();
    });
  for (auto& t : growers) t.join();
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(memory.size(), kLimitPages);
}

// --- W9: many threads, any guest input ---

// One thread's share of W9: 150 random calls; adds what its waits and
// notifies reported to `woken` and `notified`.
template <typename M>
void mix_every_call(M& memory, int t, std::atomic<std::uint64_t>& woken,
                    std::atomic<std::uint64_t>& notified) {
  std::minstd_rand rng(static_cast<unsigned>(t) * 7919u + 1);
  for (int i = 0; i < 150; ++i) {
    // Mostly words of the first page; some misaligned, some far away.
    std::uint64_t address = 4 * (rng() % 8);
    switch (rng() % 8) {
      case 0:
        address += 1 + rng() % 3;
        break;
      case 1:
        address = ~std::uint64_t{0} - rng() % 16;
        break;
      case 2:
        address = memory.byte_length() + 4 * (rng() % 4);
        break;
      default:
        break;
    }
    switch (rng() % 4) {
      case 0: {
        const auto r = memory.atomic_wait32(address, 0, rng() % 100'000);
        if (r && *r == WaitResult::Woken) woken.fetch_add(1);
        if (!r) {
          EXPECT_NE(r.error().code(), ErrorCode::SystemError);
        }
        break;
      }
      case 1: {
        const auto r = memory.atomic_wait64(address, 0, rng() % 100'000);
        if (r && *r == WaitResult::Woken) woken.fetch_add(1);
        if (!r) {
          EXPECT_NE(r.error().code(), ErrorCode::SystemError);
        }
        break;
      }
      case 2: {
        const auto n = memory.atomic_notify(address, rng() % 3);
        if (n) notified.fetch_add(*n);
        break;
      }
      default: {
        const auto previous = memory.grow(rng() % 2);
        if (!previous) {
          EXPECT_EQ(previous.error().code(), ErrorCode::CapacityExceeded);
        }
        break;
      }
    }
  }
}

TYPED_TEST(LinearMemoryThreads, W9_ManyThreadsMixingEveryCallKeepTheInvariants) {
  auto memory = this->make(shared_type(1, kLimitPages));
  constexpr int kThreads = 32;
  std::atomic<std::uint64_t> woken{0};
  std::atomic<std::uint64_t> notified{0};
  // No call of the mix touches this word: every thread ends with an untimed
  // wait on it, so at least kThreads waits are woken whatever the mix did.
  constexpr std::uint64_t kLast = 64;
  std::vector<std::unique_ptr<WaitingThread>> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.push_back(std::make_unique<WaitingThread>(
        [&, t] {
          mix_every_call(memory, t, woken, notified);
          return memory.atomic_wait32(kLast, 0, -1);
        },
        [&] { (void)memory.atomic_notify(kLast, kAllValues); }));
  // The lower bound the OS guarantees: waiters known to be asleep, notified.
  ASSERT_TRUE(eventually_asleep(memory, kLast, kThreads, raw(threads)))
      << "the last, untimed waits never all slept";
  const auto last = memory.atomic_notify(kLast, kAllValues);
  EXPECT_EQ(last, static_cast<std::uint32_t>(kThreads));
  notified.fetch_add(last.value_or(0));
  for (auto& t : threads)
    if (t->join() == WaitResult::Woken) woken.fetch_add(1);
  EXPECT_EQ(notified.load(), woken.load());
  EXPECT_GE(woken.load(), static_cast<std::uint64_t>(kThreads));
}

}  // namespace
}  // namespace wrt::platform::linear_memory_testing
