// The futex's decisions, free of system calls: deadlines, timeout
// conversions, and how each backend's return codes map to results. Every
// backend calls these, and tests check them on every host, so the macOS
// mapping is exercised on Linux too (clause F9).
#pragma once

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

namespace wrt::platform::detail {

using std::chrono::nanoseconds;

// An absolute point on a backend's monotonic clock, in nanoseconds since the
// clock's epoch. `at == nanoseconds::max()` means "never": a deadline that
// saturated (292 years after the epoch) cannot be told apart from forever.
struct Deadline {
  nanoseconds at;

  static constexpr Deadline never() noexcept { return Deadline{nanoseconds::max()}; }
  constexpr bool is_never() const noexcept { return at == nanoseconds::max(); }
  friend constexpr bool operator==(Deadline, Deadline) noexcept = default;
};

// The deadline `timeout` after `now` (now >= 0). nullopt waits forever; a
// zero or negative timeout gives `now` (already due); a sum past the clock's
// range saturates to never, so a huge timeout never wraps into a short one
// (clause F3).
constexpr Deadline deadline_after(nanoseconds now, std::optional<nanoseconds> timeout) noexcept {
  if (!timeout) return Deadline::never();
  if (*timeout <= nanoseconds::zero()) return Deadline{now};
  if (*timeout >= nanoseconds::max() - now) return Deadline::never();
  return Deadline{now + *timeout};
}

// Time left until `deadline` at `now`; zero or negative once it is due.
// Only meaningful for a deadline that is not never().
constexpr nanoseconds time_left(Deadline deadline, nanoseconds now) noexcept {
  return deadline.at - now;
}

// A deadline split as struct timespec wants it (seconds, nanoseconds < 1e9).
struct SecondsAndNanos {
  std::int64_t seconds;
  std::int64_t nanos;
  friend constexpr bool operator==(SecondsAndNanos, SecondsAndNanos) noexcept = default;
};

constexpr SecondsAndNanos split_seconds(nanoseconds at) noexcept {
  constexpr std::int64_t kPerSecond = 1'000'000'000;
  return {at.count() / kPerSecond, at.count() % kPerSecond};
}

// What a wait loop does after one attempt.
enum class WaitStep { Woken, NotEqual, TimedOut, Retry, Fail };

// futex(2) FUTEX_WAIT_BITSET: `error` is 0 after a return of 0, else errno.
// EINTR retries with the same absolute deadline (clause F4); every errno
// outside the documented three is an OS failure (clause F10). The portable
// backend maps errors injected through the seam with the same function.
constexpr WaitStep futex_wait_step(int error) noexcept {
  switch (error) {
    case 0:
      return WaitStep::Woken;
    case EINTR:
      return WaitStep::Retry;
    case EAGAIN:
      return WaitStep::NotEqual;
    case ETIMEDOUT:
      return WaitStep::TimedOut;
    default:
      return WaitStep::Fail;
  }
}

// How a wait loop ended: a step other than Retry, and the errno behind Fail.
struct WaitOutcome {
  WaitStep step;
  int error;
  friend constexpr bool operator==(WaitOutcome, WaitOutcome) noexcept = default;
};

// The futex(2) wait loop: `attempt()` makes one FUTEX_WAIT_BITSET call
// with the same absolute deadline and returns 0 or its errno.
template <typename Attempt>
WaitOutcome futex_wait_loop(Attempt attempt) {
  for (;;) {
    const int error = attempt();
    const WaitStep step = futex_wait_step(error);
    if (step != WaitStep::Retry) return {step, error};
  }
}

// macOS ulock ABI (<sys/ulock.h>, xnu bsd/sys/ulock.h).
inline constexpr std::uint32_t kUlCompareAndWait = 1;
inline constexpr std::uint32_t kUlfWakeAll = 0x00000100;
inline constexpr std::uint32_t kUlfNoErrno = 0x01000000;

// A relative timeout for `left` (> 0) nanoseconds in units of `unit`
// nanoseconds, as the OS calls that take one want it: rounded up, so a wait
// never ends early; at least 1, because 0 means forever or only polls; at
// most `max`, and the caller re-arms until its deadline.
constexpr std::uint32_t relative_timeout(nanoseconds left, std::int64_t unit,
                                         std::uint32_t max) noexcept {
  if (left <= nanoseconds::zero()) return 1;
  const std::int64_t ns = left.count();
  const std::int64_t units = ns / unit + (ns % unit != 0 ? 1 : 0);
  return static_cast<std::uint32_t>(units < std::int64_t{max} ? units : std::int64_t{max});
}

// __ulock_wait's timeout in microseconds, clamped to its 32-bit field (about
// 71 minutes per call at most).
constexpr std::uint32_t ulock_timeout_us(nanoseconds left) noexcept {
  return relative_timeout(left, 1000, std::numeric_limits<std::uint32_t>::max());
}

// The wait loop of the OS calls that take a relative timeout (macOS,
// Windows). `now()` reads the clock of `deadline`; `timeout_for(left)` turns
// the time left into the call's timeout, and `forever` is the timeout that
// means no deadline; `attempt(timeout)` makes one call and says what it
// means. Every round recomputes the time left to the absolute deadline:
// signals, spurious returns and clamped timeouts re-arm the wait, and
// TimedOut comes only once the deadline has passed (clauses F3, F4).
template <typename Now, typename TimeoutFor, typename Attempt>
WaitOutcome relative_wait_loop(Deadline deadline, Now now, std::uint32_t forever,
                               TimeoutFor timeout_for, Attempt attempt) {
  for (;;) {
    std::uint32_t timeout = forever;
    if (!deadline.is_never()) {
      const nanoseconds left = time_left(deadline, now());
      if (left <= nanoseconds::zero()) return {WaitStep::TimedOut, 0};
      timeout = timeout_for(left);
    }
    const WaitOutcome outcome = attempt(timeout);
    if (outcome.step != WaitStep::Retry) return outcome;
  }
}

// __ulock_wait with ULF_NO_ERRNO returns >= 0 (woken, or the value already
// differed) or -errno. EINTR and ETIMEDOUT go back to the wait loop, which
// returns TimedOut only once the absolute deadline has passed (a clamped
// timeout may expire first). EFAULT means the page holding the word was
// paged out while the kernel looked at it; the word is mapped (we just read
// it), so like libpthread we report a spurious wake (clause F5).
constexpr WaitStep ulock_wait_step(int rc) noexcept {
  if (rc >= 0) return WaitStep::Woken;
  switch (-rc) {
    case EINTR:
    case ETIMEDOUT:
      return WaitStep::Retry;
    case EFAULT:
      return WaitStep::Woken;
    default:
      return WaitStep::Fail;
  }
}

// The macOS wait loop. `now()` reads the clock of `deadline`;
// `ulock_wait(timeout_us)` makes one __ulock_wait call (0 µs: forever) and
// returns its result.
template <typename Now, typename UlockWait>
WaitOutcome ulock_wait_loop(Deadline deadline, Now now, UlockWait ulock_wait) {
  return relative_wait_loop(deadline, now, 0, ulock_timeout_us, [&](std::uint32_t timeout_us) {
    const int rc = ulock_wait(timeout_us);
    return WaitOutcome{ulock_wait_step(rc), -rc};
  });
}

// How a macOS wake(count) is carried out, given `registered` waiters
// announced by our waiter accounting. The OS does not say how many threads
// a wake-all released, so wake-all reports `registered`, i.e.
// min(count, registered) (clause F9). Any other count wakes one thread per
// call, at most min(count, registered) times, and counts the successes.
struct UlockWakePlan {
  bool wake_all;
  std::uint32_t single_wakes;
  friend constexpr bool operator==(UlockWakePlan, UlockWakePlan) noexcept = default;
};

constexpr UlockWakePlan ulock_wake_plan(std::uint32_t count, std::uint32_t registered) noexcept {
  if (count == std::numeric_limits<std::uint32_t>::max()) return {true, 0};
  return {false, count < registered ? count : registered};
}

// The operation word for __ulock_wake.
constexpr std::uint32_t ulock_wake_operation(bool wake_all) noexcept {
  return kUlCompareAndWait | kUlfNoErrno | (wake_all ? kUlfWakeAll : 0);
}

// What one __ulock_wake call returned.
enum class WakeStep { Woke, NobodyWaiting, Retry, Fail };

constexpr WakeStep ulock_wake_step(int rc) noexcept {
  if (rc >= 0) return WakeStep::Woke;
  switch (-rc) {
    case ENOENT:
      return WakeStep::NobodyWaiting;
    case EINTR:
      return WakeStep::Retry;
    default:
      return WakeStep::Fail;
  }
}

// How a wake ended: how many threads it reports woken, or the errno that
// failed it (then `error` != 0).
struct WakeOutcome {
  std::uint32_t woken;
  int error;
  friend constexpr bool operator==(WakeOutcome, WakeOutcome) noexcept = default;
};

// The macOS wake. `ulock_wake(wake_all)` makes one __ulock_wake call and
// returns its result; EINTR repeats the call. A failure after some single
// wakes reports the failure: those threads return Woken, which F5 allows.
template <typename UlockWake>
WakeOutcome ulock_wake_loop(std::uint32_t count, std::uint32_t registered, UlockWake ulock_wake) {
  int rc = 0;
  const auto answered = [&](bool wake_all) {
    for (;;) {
      rc = ulock_wake(wake_all);
      const WakeStep step = ulock_wake_step(rc);
      if (step != WakeStep::Retry) return step;
    }
  };
  const UlockWakePlan plan = ulock_wake_plan(count, registered);
  if (plan.wake_all) {
    switch (answered(true)) {
      case WakeStep::Woke:
        return {registered, 0};  // the OS does not say how many (F9)
      case WakeStep::Fail:
        return {0, -rc};
      default:
        return {0, 0};
    }
  }
  std::uint32_t woken = 0;
  while (woken < plan.single_wakes) {
    const WakeStep step = answered(false);
    if (step == WakeStep::Fail) return {woken, -rc};
    if (step == WakeStep::NobodyWaiting) break;
    ++woken;
  }
  return {woken, 0};
}

// Windows WaitOnAddress / WakeByAddressSingle / WakeByAddressAll
// (synchronization.lib). Values of <windows.h>, repeated here so that the
// logic is tested on every host.
inline constexpr std::uint32_t kWin32Infinite = 0xFFFFFFFF;  // INFINITE
inline constexpr int kWin32ErrorTimeout = 1460;              // ERROR_TIMEOUT

// WaitOnAddress's timeout in milliseconds, below INFINITE (about 49.7 days
// per call at most).
constexpr std::uint32_t wait_on_address_timeout_ms(nanoseconds left) noexcept {
  return relative_timeout(left, 1'000'000, kWin32Infinite - 1);
}

// What one WaitOnAddress call means; `error` is 0 after it returned TRUE,
// else GetLastError(). TRUE is a wake, a spurious return or a value that
// already differed (Windows does not tell them apart): Woken, which F5
// allows. ERROR_TIMEOUT goes back to the wait loop, which returns TimedOut
// only once the absolute deadline has passed; anything else is an OS
// failure (F10).
constexpr WaitStep wait_on_address_step(int error) noexcept {
  if (error == 0) return WaitStep::Woken;
  if (error == kWin32ErrorTimeout) return WaitStep::Retry;
  return WaitStep::Fail;
}

// The Windows wait loop: `wait_on_address(timeout_ms)` makes one
// WaitOnAddress call (INFINITE: forever) and returns 0 or GetLastError().
template <typename Now, typename WaitOnAddress>
WaitOutcome wait_on_address_loop(Deadline deadline, Now now, WaitOnAddress wait_on_address) {
  return relative_wait_loop(deadline, now, kWin32Infinite, wait_on_address_timeout_ms,
                            [&](std::uint32_t timeout_ms) {
                              const int error = wait_on_address(timeout_ms);
                              return WaitOutcome{wait_on_address_step(error), error};
                            });
}

// Slot of `address` in a table of `slots` entries (a power of two). Words
// are 4-byte aligned, so the low bits carry nothing; a Fibonacci multiply
// spreads neighbouring words over the table.
constexpr std::size_t address_slot(std::uintptr_t address, std::size_t slots) noexcept {
  const std::uint64_t mixed = static_cast<std::uint64_t>(address >> 2) * 0x9E3779B97F4A7C15ull;
  return static_cast<std::size_t>(mixed >> 32) & (slots - 1);
}

}  // namespace wrt::platform::detail
