// A concurrency property of the futex core over each backend: random
// interleavings of waits (with no, zero or tiny timeouts) and wakes (with
// and without a change of value) on a few words across threads never lose a
// wake-up, never report more threads woken than were blocked or than really
// returned Woken, and leave the waiter accounting at zero (clauses F2, F3,
// F5, F6). Bounded: a lost wake-up fails after 30 s instead of hanging
// (generous: on a loaded machine a waiter may wait seconds for a CPU), and
// a waiter that not even a raw backend wake frees then ends the binary
// with a message.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "deadline_test_support.hpp"
#include "futex/futex_backend.hpp"
#include "futex/futex_core.hpp"

namespace wrt::platform::proptest {
namespace {

using std::chrono::nanoseconds;
using namespace std::chrono_literals;

constexpr std::uint32_t kWakeAll = UINT32_MAX;
constexpr std::size_t kMaxWords = 3;

// One wake by the waking thread: on which word, how many, and whether it
// first changes the word's value (a new generation).
struct WakeAction {
  std::size_t word;
  std::uint32_t count;
  bool bump;
  std::uint32_t pause;  // spins before the step, to vary the interleaving
};

// Busy-waits `iterations` rounds. Not sched_yield: on an oversubscribed
// machine each yield can cost a whole time slice, and 64 of them per step
// made a run take minutes (the flake hunt timed it out, clause X4).
void spin(std::uint32_t iterations) {
  for (std::uint32_t i = 0; i < iterations; ++i)
    std::atomic_signal_fence(std::memory_order_seq_cst);
}

struct Scenario {
  std::size_t words;
  bool shared_accounting;                 // one waiter count for all words, like a stripe
  std::vector<std::size_t> waiter_words;  // one waiting thread per entry
  std::vector<std::optional<nanoseconds>> timeouts;  // cycled by every waiter
  std::vector<WakeAction> wakes;
};

rc::Gen<std::optional<nanoseconds>> a_timeout() {
  return rc::gen::weightedOneOf<std::optional<nanoseconds>>({
      {3, rc::gen::just(std::optional<nanoseconds>())},
      {1, rc::gen::just(std::optional<nanoseconds>(0ns))},
      {3, rc::gen::map(rc::gen::inRange(1'000, 2'000'000),
                       [](int ns) { return std::optional<nanoseconds>(nanoseconds(ns)); })},
  });
}

Scenario a_scenario() {
  Scenario s;
  s.words = *rc::gen::inRange<std::size_t>(1, kMaxWords + 1);
  s.shared_accounting = *rc::gen::arbitrary<bool>();
  const auto word = rc::gen::inRange<std::size_t>(0, s.words);
  s.waiter_words =
      *rc::gen::container<std::vector<std::size_t>>(*rc::gen::inRange<std::size_t>(1, 5), word);
  s.timeouts = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::optional<nanoseconds>>>(
      *rc::gen::inRange<std::size_t>(1, 6), a_timeout()));
  const auto wakes = *rc::gen::inRange<std::size_t>(0, 16);
  for (std::size_t i = 0; i < wakes; ++i)
    s.wakes.push_back({*word, *rc::gen::element(0u, 1u, 2u, 3u, kWakeAll),
                       *rc::gen::arbitrary<bool>(), *rc::gen::inRange(0u, 64u)});
  return s;
}

template <typename Backend>
void check_interleaving(const Scenario& s) {
  using Core = detail::FutexCore<Backend>;
  struct alignas(64) Word {
    std::atomic<std::uint32_t> value{0};
    detail::WaiterCount own_waiters{0};
    std::atomic<std::uint64_t> woken_results{0};  // waits on it that returned Woken
    std::atomic<std::uint64_t> entered{0};        // waits on it that have begun
    std::atomic<std::uint64_t> left{0};           // waits on it that have returned
  };
  std::array<Word, kMaxWords> words;
  detail::WaiterCount shared_waiters{0};
  const auto waiters_of = [&](std::size_t w) -> detail::WaiterCount& {
    return s.shared_accounting ? shared_waiters : words[w].own_waiters;
  };
  const auto addr = [&](std::size_t w) { return detail::word_address(words[w].value); };

  // Every waiter runs until its word reaches the last generation.
  std::array<std::uint32_t, kMaxWords> final_value{};
  for (const WakeAction& step : s.wakes) final_value[step.word] += step.bump ? 1 : 0;
  for (std::uint32_t& v : final_value) ++v;  // the closing wake-all bumps once more

  std::atomic<bool> failed{false};
  std::vector<std::unique_ptr<std::atomic<bool>>> done;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < s.waiter_words.size(); ++i) {
    done.push_back(std::make_unique<std::atomic<bool>>(false));
    threads.emplace_back([&, i, w = s.waiter_words[i]] {
      for (std::size_t k = i;; ++k) {
        const std::uint32_t seen = words[w].value.load();
        if (seen == final_value[w]) break;
        words[w].entered.fetch_add(1);
        const auto result =
            Core::wait(addr(w), seen, s.timeouts[k % s.timeouts.size()], waiters_of(w));
        if (result == WaitResult::Woken) words[w].woken_results.fetch_add(1);
        words[w].left.fetch_add(1);
        if (!result) failed.store(true);
        // A wait that did not sleep gives the waking thread the core back.
        if (result != WaitResult::Woken) std::this_thread::yield();
      }
      done[i]->store(true);
    });
  }

  // Checked after the threads are joined: RC_ASSERT throws.
  std::array<std::uint64_t, kMaxWords> reported{};
  bool wake_failed = false;
  bool overcounted = false;
  const auto wake = [&](std::size_t w, std::uint32_t count) {
    // A thread this wake releases was blocked in a wait that began before
    // the wake returned and had not returned when the wake began.
    const std::uint64_t left_before = words[w].left.load();
    const auto woke = Core::wake(addr(w), count, waiters_of(w));
    const std::uint64_t blocked_at_most = words[w].entered.load() - left_before;
    if (!woke) {
      wake_failed = true;
      return;
    }
    if (*woke > count || *woke > blocked_at_most) overcounted = true;
    reported[w] += *woke;
  };
  for (const WakeAction& step : s.wakes) {
    spin(step.pause * 64);
    if (step.bump) words[step.word].value.fetch_add(1);
    wake(step.word, step.count);
  }
  for (std::size_t w = 0; w < s.words; ++w) {
    words[w].value.fetch_add(1);
    wake(w, kWakeAll);
  }

  // After the closing wake-all no waiter may stay asleep. A lost wake-up is
  // reported, and backend wakes that bypass the waiter accounting under
  // test then free the thread, so the test ends even if the accounting is
  // broken (and ends the binary if even they cannot).
  const auto all_done = [&] {
    return std::all_of(done.begin(), done.end(), [](const auto& d) { return d->load(); });
  };
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!all_done() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  const bool lost = !all_done();
  for (std::size_t i = 0; i < threads.size(); ++i)
    testing_deadline::free_or_abort(
        [&] { return done[i]->load(); },
        [&] { (void)Backend::wake(addr(s.waiter_words[i]), kWakeAll, 1); },
        "a futex waiter after a lost wake-up");
  for (auto& t : threads) t.join();

  if (lost) RC_FAIL("a waiter still slept 30 s after the closing wake-all (a lost wake-up)");
  RC_ASSERT(!failed.load());
  RC_ASSERT(!wake_failed);
  RC_ASSERT(!overcounted);
  for (std::size_t w = 0; w < s.words; ++w) {
    // Each thread a wake counts returns Woken (Woken may also be spurious).
    RC_ASSERT(reported[w] <= words[w].woken_results.load());
    RC_ASSERT(words[w].own_waiters.load() == 0u);
  }
  RC_ASSERT(shared_waiters.load() == 0u);
}

RC_GTEST_PROP(FutexConcurrencyProp, F2_F3_F5_F6_PortableNeverLosesAWakeNorOvercounts, ()) {
  check_interleaving<detail::PortableFutexBackend>(a_scenario());
}

#ifdef __linux__
RC_GTEST_PROP(FutexConcurrencyProp, F2_F3_F5_F6_LinuxNeverLosesAWakeNorOvercounts, ()) {
  check_interleaving<detail::LinuxFutexBackend>(a_scenario());
}
#endif

}  // namespace
}  // namespace wrt::platform::proptest
