// macOS futex backend: __ulock_wait / __ulock_wake (libSystem, xnu
// bsd/kern/sys_ulock.c). Every decision (timeouts, re-arming, return codes,
// wake counts) is a pure function of futex_logic.hpp, tested on every host;
// this file only makes the calls. See docs/SAFETY.md, "Futex".
#ifdef __APPLE__

#include <time.h>

#include <cerrno>

#include "futex/futex_backend.hpp"
#include "os/seam.hpp"

// Private but stable since macOS 10.12; declared as xnu defines them.
extern "C" int __ulock_wait(std::uint32_t operation, void* addr, std::uint64_t value,
                            std::uint32_t timeout_us);
extern "C" int __ulock_wake(std::uint32_t operation, void* addr, std::uint64_t wake_value);

namespace wrt::platform::detail {
namespace {

using prim::OsCall;

// The kernel only reads the word; the prototypes take void*.
void* os_address(const std::uint32_t* addr) noexcept { return const_cast<std::uint32_t*>(addr); }

}  // namespace

std::chrono::nanoseconds DarwinFutexBackend::now() noexcept {
  return std::chrono::nanoseconds(clock_gettime_nsec_np(CLOCK_MONOTONIC));
}

Result<WaitResult> DarwinFutexBackend::wait(const std::uint32_t* addr, std::uint32_t expected,
                                            Deadline deadline) noexcept {
  const WaitOutcome outcome = ulock_wait_loop(deadline, now, [&](std::uint32_t timeout_us) {
    if (const int injected = prim::intercept(OsCall::FutexWait)) return -injected;
    return __ulock_wait(kUlCompareAndWait | kUlfNoErrno, os_address(addr), expected, timeout_us);
  });
  return finish_wait(outcome.step, outcome.error);
}

Result<std::uint32_t> DarwinFutexBackend::wake(const std::uint32_t* addr, std::uint32_t count,
                                               std::uint32_t registered) noexcept {
  const WakeOutcome outcome = ulock_wake_loop(count, registered, [&](bool wake_all) {
    if (const int injected = prim::intercept(OsCall::FutexWake)) return -injected;
    return __ulock_wake(ulock_wake_operation(wake_all), os_address(addr), 0);
  });
  if (outcome.error != 0) return wake_failed(outcome.error);
  return outcome.woken;
}

}  // namespace wrt::platform::detail

#endif  // __APPLE__
