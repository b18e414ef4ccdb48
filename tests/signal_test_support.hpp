// Signals that interrupt a blocking wait, for the tests that prove a signal
// neither ends nor shortens a wait (F4, W5). POSIX only.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <climits>
#include <functional>
#include <thread>

#include "futex_test_support.hpp"

namespace wrt::platform::futex_testing {

// SIGUSR1 with a handler that does nothing, installed without SA_RESTART so
// that a blocking call it hits fails with EINTR; the previous action is
// restored on destruction.
class InterruptingSignal {
 public:
  InterruptingSignal() {
    struct sigaction action {};
    action.sa_handler = [](int) {};
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    sigaction(SIGUSR1, &action, &previous_);
  }
  ~InterruptingSignal() { sigaction(SIGUSR1, &previous_, nullptr); }
  InterruptingSignal(const InterruptingSignal&) = delete;
  InterruptingSignal& operator=(const InterruptingSignal&) = delete;

 private:
  struct sigaction previous_ {};
};

// Sends SIGUSR1 to `target` whenever `asleep()` says it sleeps, about once a
// millisecond, until it finishes or `max_signals` were sent; neither within
// kPatience is a test failure. Returns how many signals were sent to a sleeper.
template <typename Asleep>
int interrupt_until_done(WaitingThread& target, Asleep asleep, int max_signals = INT_MAX) {
  int sent = 0;
  expect_eventually(
      [&] {
        if (target.done() || sent == max_signals) return true;
        if (asleep()) {
          pthread_kill(target.native_handle(), SIGUSR1);
          ++sent;
        }
        // Pacing only: the loop's exit does not depend on this pause.
        const auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
        while (std::chrono::steady_clock::now() < next) std::this_thread::yield();
        return false;
      },
      "the signalled waiter to return or to be seen asleep max_signals times");
  return sent;
}

// F4/W5: starts `wait` (a wait of `timeout` that nobody wakes) on a thread
// and signals it while `interrupt(thread)` finds it asleep; the wait must
// time out, neither early nor restarted with the full timeout forever. The
// OS only guarantees that a signal sent to a sleeper is delivered, not that
// it interrupts the system call, so no call count is asserted. On a loaded
// machine the waiter may time out before it is ever seen asleep: such a
// round proves nothing and is run again (at most 20 rounds).
template <typename Wait, typename Interrupt>
void expect_signals_neither_end_nor_shorten(Wait wait, std::function<void()> rescue,
                                            Interrupt interrupt, std::chrono::nanoseconds timeout) {
  int sent = 0;
  for (int round = 0; round < 20 && sent == 0; ++round) {
    std::chrono::steady_clock::duration elapsed{};
    WaitingThread waiter(
        [&] {
          const auto start = std::chrono::steady_clock::now();
          const auto result = wait();
          elapsed = std::chrono::steady_clock::now() - start;
          return result;
        },
        rescue);
    sent = interrupt(waiter);
    EXPECT_EQ(waiter.join(), WaitResult::TimedOut);
    EXPECT_GE(elapsed, timeout);              // not restarted short, not failed early
    EXPECT_LT(elapsed, timeout + kPatience);  // not restarted with the full timeout forever
  }
  EXPECT_GE(sent, 1) << "no round saw the waiter asleep";
}

}  // namespace wrt::platform::futex_testing
