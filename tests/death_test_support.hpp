// Death-test helpers: how a child starts, and (POSIX) the touch that proves
// an inaccessible byte faults.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdlib>

namespace wrt::platform::death_test {

// How gtest starts a death-test child. "threadsafe" re-executes the binary,
// which is safe whatever threads exist. Under qemu-user (aarch64 preset) the
// re-exec of a foreign binary fails with ENOEXEC (qemu is not registered
// with binfmt_misc), so there the child is forked ("fast"): a death test
// starts from gtest's main thread while no other test thread runs.
#ifdef WRT_PLATFORM_TESTS_UNDER_QEMU
inline constexpr const char* kDeathTestStyle = "fast";
#else
inline constexpr const char* kDeathTestStyle = "threadsafe";
#endif

// Writes one byte at `p` in a death-test child and exits 0 if that did not
// fault. Sanitizers install their own SIGSEGV handler (which reports and
// exits); the default action is restored first so that the child dies of the
// fault itself in every build.
#if !defined(_WIN32)
[[noreturn]] inline void touch(std::byte* p) {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(SIGSEGV, &default_action, nullptr);
  *static_cast<volatile std::byte*>(p) = std::byte{1};
  std::_Exit(0);
}
#endif

}  // namespace wrt::platform::death_test
