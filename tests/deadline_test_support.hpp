// Waiting on another thread without hanging: every such wait in a test has a
// generous deadline, and missing it fails the test with a message instead
// of spinning until ctest's timeout. Standard C++ only (every host).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace wrt::platform::testing_deadline {

using namespace std::chrono_literals;

// Generous: only a broken implementation takes this long, even under a
// sanitizer, qemu or a machine running twice as many threads as cores.
inline constexpr std::chrono::seconds kPatience = 20s;

// Spins (yielding) until `done()` or kPatience passes; returns done().
// `done` may also do one step of the work it waits for.
template <typename Predicate>
bool eventually(Predicate done) {
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return done();
    std::this_thread::yield();
  }
  return true;
}

// eventually(), and a test failure naming `what` when it gave up.
template <typename Predicate>
bool expect_eventually(Predicate done, const char* what) {
  if (eventually(done)) return true;
  ADD_FAILURE() << "gave up after " << kPatience.count() << " s waiting for " << what;
  return false;
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
