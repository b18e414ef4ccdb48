// Waiting on another thread without hanging: the conformance kit's
// deadline helpers (conformance/kit_deadline.hpp: kPatience, eventually,
// expect_eventually), the rescue of a thread a failed test left blocked,
// and a gate for threads held at a seam pause point. Used by tests/ and
// proptests/.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "kit_deadline.hpp"

namespace wrt::platform::testing_deadline {

using conformance::eventually;
using conformance::expect_eventually;
using conformance::kPatience;

// Frees a thread that a failed test or property left blocked: calls
// `rescue()` until `done()`, for at most kPatience. A thread that its rescue
// cannot free can be neither joined nor left behind (it uses the test's
// objects): the binary ends, with a message naming `what`.
template <typename Done, typename Rescue>
void free_or_abort(Done done, Rescue rescue, const char* what) {
  if (eventually([&] {
        if (done()) return true;
        rescue();
        return false;
      }))
    return;
  std::fprintf(stderr, "test: %s that its rescue cannot free in %lld s; aborting\n", what,
               static_cast<long long>(kPatience.count()));
  std::abort();
}

// Holds the threads that reach a test hook (a seam pause point, see
// os/fault_injection.hpp) until the test opens it, for at most kPatience.
// Plain functions and lock-free atomics, so hold() may run in a signal
// handler. One gate per process: a test resets it before use.
struct Gate {
  static inline std::atomic<int> arrived{0};
  static inline std::atomic<bool> opened{false};

  static void reset() noexcept {
    arrived.store(0);
    opened.store(false);
  }
  static void hold() noexcept {
    arrived.fetch_add(1);
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (!opened.load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  }
  static void open() noexcept { opened.store(true); }
  // True once `n` threads reached hold(); a test failure naming `what` after kPatience.
  static bool eventually_arrived(int n, const char* what) {
    return expect_eventually([n] { return arrived.load() >= n; }, what);
  }
};

}  // namespace wrt::platform::testing_deadline
