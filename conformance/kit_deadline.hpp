// Waiting on another thread without hanging: every such wait in the kit
// (and in the project's own tests, through tests/deadline_test_support.hpp)
// has a generous deadline, and missing it fails the test with a message
// instead of spinning until ctest's timeout. Standard C++ only (every host).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace wrt::platform::conformance {

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

}  // namespace wrt::platform::conformance
