// The futex backends: one struct per OS mechanism, each in its own source
// file, all with the same static interface (the FutexBackend concept).
// Backends only sleep and wake; argument checks, the no-syscall fast paths,
// deadlines and waiter accounting live once in futex_core.hpp.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>

#include "futex/futex_logic.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/futex.hpp"

namespace wrt::platform::detail {

// Reads a plain word that every thread accesses atomically (clause F8).
inline std::uint32_t load_word(const std::uint32_t* addr) noexcept {
  // atomic_ref<const T> arrives only in C++26; the load does not write.
  return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(addr)).load();
}

// A backend provides:
//   now():  the current time on the monotonic clock its deadlines use.
//   wait(addr, expected, deadline): sleeps while *addr == expected (compared
//     atomically with respect to wake) until woken or `deadline` passes.
//     Signals neither end the wait early nor make it fail.
//   wake(addr, count, registered): wakes at most count (>= 1) threads
//     sleeping on addr and returns how many it woke; `registered` (>= 1) is
//     how many threads the waiter accounting saw announced on addr.
// `addr` is non-null and 4-byte aligned.
template <typename B>
concept FutexBackend = requires(const std::uint32_t* addr, std::uint32_t value, Deadline deadline) {
  { B::now() }
  noexcept->std::same_as<std::chrono::nanoseconds>;
  { B::wait(addr, value, deadline) }
  noexcept->std::same_as<Result<WaitResult>>;
  { B::wake(addr, value, value) }
  noexcept->std::same_as<Result<std::uint32_t>>;
};

// Standard library only: a parking lot of mutex + condition-variable
// buckets keyed by address; every host compiles it.
struct PortableFutexBackend {
  static std::chrono::nanoseconds now() noexcept;
  static Result<WaitResult> wait(const std::uint32_t* addr, std::uint32_t expected,
                                 Deadline deadline) noexcept;
  static Result<std::uint32_t> wake(const std::uint32_t* addr, std::uint32_t count,
                                    std::uint32_t registered) noexcept;
  // How many threads are parked on `addr` right now (for tests that must
  // know a waiter really sleeps).
  static std::uint32_t parked(const std::uint32_t* addr) noexcept;
};

#ifdef __linux__
// futex(2): private futexes, FUTEX_WAIT_BITSET with an absolute
// CLOCK_MONOTONIC deadline, FUTEX_WAKE.
struct LinuxFutexBackend {
  static std::chrono::nanoseconds now() noexcept;
  static Result<WaitResult> wait(const std::uint32_t* addr, std::uint32_t expected,
                                 Deadline deadline) noexcept;
  static Result<std::uint32_t> wake(const std::uint32_t* addr, std::uint32_t count,
                                    std::uint32_t registered) noexcept;
};
#endif

#ifdef __APPLE__
// __ulock_wait / __ulock_wake (UL_COMPARE_AND_WAIT).
struct DarwinFutexBackend {
  static std::chrono::nanoseconds now() noexcept;
  static Result<WaitResult> wait(const std::uint32_t* addr, std::uint32_t expected,
                                 Deadline deadline) noexcept;
  static Result<std::uint32_t> wake(const std::uint32_t* addr, std::uint32_t count,
                                    std::uint32_t registered) noexcept;
};
#endif

#ifdef _WIN32
// WaitOnAddress / WakeByAddressSingle / WakeByAddressAll. The wakes return
// nothing, so wake counts come from the waiter accounting, as on macOS.
struct WindowsFutexBackend {
  static std::chrono::nanoseconds now() noexcept;
  static Result<WaitResult> wait(const std::uint32_t* addr, std::uint32_t expected,
                                 Deadline deadline) noexcept;
  static Result<std::uint32_t> wake(const std::uint32_t* addr, std::uint32_t count,
                                    std::uint32_t registered) noexcept;
};
#endif

// The backend behind the public API, chosen by CMake
// (WRT_PLATFORM_FUTEX_BACKEND).
#if defined(WRT_PLATFORM_FUTEX_LINUX)
using DefaultFutexBackend = LinuxFutexBackend;
#elif defined(WRT_PLATFORM_FUTEX_DARWIN)
using DefaultFutexBackend = DarwinFutexBackend;
#elif defined(WRT_PLATFORM_FUTEX_WINDOWS)
using DefaultFutexBackend = WindowsFutexBackend;
#elif defined(WRT_PLATFORM_FUTEX_PORTABLE)
using DefaultFutexBackend = PortableFutexBackend;
#else
#error "define one of WRT_PLATFORM_FUTEX_LINUX, _DARWIN, _WINDOWS or _PORTABLE (CMake does)"
#endif

// The result of a wait loop that ended with `step` (not Retry); `error` is
// the errno behind a Fail.
inline Result<WaitResult> finish_wait(WaitStep step, int error) noexcept {
  switch (step) {
    case WaitStep::NotEqual:
      return WaitResult::NotEqual;
    case WaitStep::TimedOut:
      return WaitResult::TimedOut;
    case WaitStep::Fail:
      return tl::unexpected(Error(ErrorCode::SystemError, "futex wait: the OS call failed", error));
    case WaitStep::Woken:
    case WaitStep::Retry:
      break;
  }
  return WaitResult::Woken;
}

// A wake whose OS call failed with `error`.
inline tl::unexpected<Error> wake_failed(int error) noexcept {
  return tl::unexpected(Error(ErrorCode::SystemError, "futex wake: the OS call failed", error));
}

}  // namespace wrt::platform::detail
