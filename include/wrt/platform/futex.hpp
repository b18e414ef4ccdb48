// Futex: wait until a 32-bit word changes, wake the threads waiting on it.
//
// The basis of WebAssembly memory.atomic.wait/notify and of every lock the
// runtime builds. The compare and the sleep are atomic with respect to wake
// (no lost wake-up); Woken may be spurious, so callers re-check the word in a
// loop, as with the OS futex. Timeouts run on a monotonic clock against an
// absolute deadline; signals never shorten, lengthen or fail a wait.
// See docs/SPEC.md (F1-F10) and docs/SAFETY.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "wrt/platform/error.hpp"

namespace wrt::platform {

enum class WaitResult { Woken = 0, NotEqual = 1, TimedOut = 2 };

// Waits while `*loc == expected`, for at most `timeout` (nullopt: forever;
// zero or negative: check once, never sleep). `loc` must be a 4-byte-aligned
// word every thread accesses atomically. Errors: InvalidArgument (null),
// Misaligned, SystemError (with os_errno).
Result<WaitResult> wait_on_address(const std::atomic<std::uint32_t>& loc, std::uint32_t expected,
                                   std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
Result<WaitResult> wait_on_address(const std::uint32_t* loc, std::uint32_t expected,
                                   std::optional<std::chrono::nanoseconds> timeout = std::nullopt);

// Wakes at most `count` threads waiting on `loc` and returns how many it woke
// (UINT32_MAX wakes all; 0 does nothing). On macOS the count is
// min(count, waiters registered through this library): the OS does not report it.
Result<std::uint32_t> wake_address(const std::atomic<std::uint32_t>& loc, std::uint32_t count);
Result<std::uint32_t> wake_address(const std::uint32_t* loc, std::uint32_t count);

// A cache-line-aligned futex word. wait()/wake() are exactly
// wait_on_address(word(), ...)/wake_address(word(), ...): the two forms mix
// freely, and wake() with nobody waiting makes no system call (the waiter
// accounting is keyed by address). Neither copyable nor movable: waiters are
// keyed by the word's address.
class Futex {
 public:
  explicit Futex(std::uint32_t initial = 0) noexcept : word_(initial) {}
  Futex(const Futex&) = delete;
  Futex& operator=(const Futex&) = delete;

  std::atomic<std::uint32_t>& word() noexcept { return word_; }
  const std::atomic<std::uint32_t>& word() const noexcept { return word_; }

  // As wait_on_address(word(), expected, timeout).
  Result<WaitResult> wait(std::uint32_t expected,
                          std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
  // As wake_address(word(), count).
  Result<std::uint32_t> wake(std::uint32_t count);
  Result<std::uint32_t> wake_one() { return wake(1); }
  Result<std::uint32_t> wake_all() { return wake(UINT32_MAX); }

 private:
  alignas(64) std::atomic<std::uint32_t> word_;
};

}  // namespace wrt::platform
