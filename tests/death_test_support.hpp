// Death-test helper for the tests that prove an inaccessible byte faults
// (POSIX only).
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdlib>

namespace wrt::platform::death_test {

// Writes one byte at `p` in a death-test child and exits 0 if that did not
// fault. Sanitizers install their own SIGSEGV handler (which reports and
// exits); the default action is restored first so that the child dies of the
// fault itself in every build.
[[noreturn]] inline void touch(std::byte* p) {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(SIGSEGV, &default_action, nullptr);
  *static_cast<volatile std::byte*>(p) = std::byte{1};
  std::_Exit(0);
}

}  // namespace wrt::platform::death_test
