// macOS futex backend: __ulock_wait / __ulock_wake (libSystem, xnu
// bsd/kern/sys_ulock.c). The decisions (timeouts, return codes, wake
// counts) are the pure functions of futex_logic.hpp, tested on every host.
// See docs/SAFETY.md, "Futex".
#ifdef __APPLE__

#include <time.h>

#include <cerrno>

#include "futex_backend.hpp"
#include "prim/seam.hpp"

// Private but stable since macOS 10.12; declared here as xnu defines them.
extern "C" int __ulock_wait(std::uint32_t operation, void* addr, std::uint64_t value,
                            std::uint32_t timeout_us);
extern "C" int __ulock_wake(std::uint32_t operation, void* addr, std::uint64_t wake_value);

namespace wrt::platform::detail {
namespace {

using prim::OsCall;

// The kernel only reads the word; the prototypes take void*.
void* os_address(const std::uint32_t* addr) noexcept { return const_cast<std::uint32_t*>(addr); }

// One __ulock_wake; the seam may answer for it with -errno.
int ulock_wake_once(const std::uint32_t* addr, bool wake_all) noexcept {
  if (const int injected = prim::intercept(OsCall::FutexWake)) return -injected;
  return __ulock_wake(ulock_wake_operation(wake_all), os_address(addr), 0);
}

// Repeats one wake until it is answered. Returns 1 if it woke a thread (or
// some, for wake-all), 0 if nobody waited, -errno on failure.
int wake_step(const std::uint32_t* addr, bool wake_all) noexcept {
  for (;;) {
    const int rc = ulock_wake_once(addr, wake_all);
    switch (ulock_wake_step(rc)) {
      case WakeStep::Woke:
        return 1;
      case WakeStep::NobodyWaiting:
        return 0;
      case WakeStep::Retry:
        continue;
      case WakeStep::Fail:
        return rc;
    }
  }
}

}  // namespace

std::chrono::nanoseconds DarwinFutexBackend::now() noexcept {
  return std::chrono::nanoseconds(clock_gettime_nsec_np(CLOCK_MONOTONIC));
}

Result<WaitResult> DarwinFutexBackend::wait(const std::uint32_t* addr, std::uint32_t expected,
                                            Deadline deadline) noexcept {
  // The kernel takes a relative timeout of at most UINT32_MAX µs, so every
  // round recomputes the time left to the absolute deadline (clause F4).
  for (;;) {
    std::uint32_t timeout_us = 0;  // forever
    if (!deadline.is_never()) {
      const std::chrono::nanoseconds left = time_left(deadline, now());
      if (left <= std::chrono::nanoseconds::zero()) return WaitResult::TimedOut;
      timeout_us = ulock_timeout_us(left);
    }
    const int injected = prim::intercept(OsCall::FutexWait);
    const int rc = injected != 0 ? -injected
                                 : __ulock_wait(kUlCompareAndWait | kUlfNoErrno, os_address(addr),
                                                expected, timeout_us);
    const WaitStep step = ulock_wait_step(rc);
    if (step != WaitStep::Retry) return finish_wait(step, -rc);
  }
}

Result<std::uint32_t> DarwinFutexBackend::wake(const std::uint32_t* addr, std::uint32_t count,
                                               std::uint32_t registered) noexcept {
  const UlockWakePlan plan = ulock_wake_plan(count, registered);
  if (plan.wake_all) {
    const int rc = wake_step(addr, true);
    if (rc < 0) return wake_failed(-rc);
    return rc == 0 ? 0u : registered;  // the OS does not say how many (F9)
  }
  std::uint32_t woken = 0;
  while (woken < plan.single_wakes) {
    const int rc = wake_step(addr, false);
    if (rc < 0) return wake_failed(-rc);
    if (rc == 0) break;
    ++woken;
  }
  return woken;
}

}  // namespace wrt::platform::detail

#endif  // __APPLE__
