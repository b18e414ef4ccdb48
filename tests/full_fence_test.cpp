// full_fence() (src/futex/full_fence.hpp), the store-load barrier every
// waker needs (F2), as the store-buffering litmus test: each of two threads
// stores to its own word, fences, then loads the other's word. With a full
// barrier at least one of them sees the other's store in every round; the
// outcome "both read 0" is forbidden. Without one, x86's store buffer lets
// both loads pass their stores, and two threads on two CPUs show it within
// a few thousand rounds (the planted compiler-only barrier: sanitizers/README.md).
// The test states only the guarantee: no round may end 0/0; how many rounds
// run depends on the machine's load and is not checked.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "deadline_test_support.hpp"
#include "futex/full_fence.hpp"

namespace wrt::platform {
namespace {

using conformance::expect_eventually;

// Spins on `ready()` without a system call for a while before each yield,
// so that the two threads of a round start within nanoseconds of each other
// when both have a CPU.
template <typename Ready>
bool spin_until(Ready ready, const char* what) {
  return expect_eventually(
      [&] {
        for (int i = 0; i < 4096; ++i)
          if (ready()) return true;
        return false;
      },
      what);
}

TEST(FullFence, F2_AStoreIsNeverPassedByALaterLoadOfAnotherWord) {
  constexpr std::uint64_t kRounds = 1'000'000;
  constexpr auto kTimeBudget = std::chrono::seconds(2);
  struct alignas(64) Word {
    std::atomic<std::uint32_t> value{0};
  };
  Word mine, theirs;
  std::atomic<std::uint64_t> started{0}, finished{0};
  std::atomic<std::uint32_t> their_view{0};
  std::atomic<bool> stop{false};

  std::thread other([&] {
    for (std::uint64_t round = 1;; ++round) {
      if (!spin_until([&] { return stop.load() || started.load() == round; }, "the next round"))
        return;
      if (stop.load()) return;
      theirs.value.store(1, std::memory_order_relaxed);
      detail::full_fence();
      their_view.store(mine.value.load(std::memory_order_relaxed), std::memory_order_relaxed);
      finished.store(round, std::memory_order_release);
    }
  });

  std::uint64_t both_zero = 0, rounds = 0;
  const auto give_up = std::chrono::steady_clock::now() + kTimeBudget;
  while (rounds < kRounds && std::chrono::steady_clock::now() < give_up) {
    ++rounds;
    mine.value.store(0, std::memory_order_relaxed);
    theirs.value.store(0, std::memory_order_relaxed);
    started.store(rounds, std::memory_order_seq_cst);
    mine.value.store(1, std::memory_order_relaxed);
    detail::full_fence();
    const std::uint32_t my_view = theirs.value.load(std::memory_order_relaxed);
    if (!spin_until([&] { return finished.load(std::memory_order_acquire) == rounds; },
                    "the other thread's round"))
      break;
    if (my_view == 0 && their_view.load(std::memory_order_relaxed) == 0) ++both_zero;
  }
  stop.store(true);
  other.join();
  EXPECT_EQ(both_zero, 0u) << "in " << rounds
                           << " rounds both threads read the other's word before its store";
}

}  // namespace
}  // namespace wrt::platform
