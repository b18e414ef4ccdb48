// Windows futex backend: WaitOnAddress / WakeByAddressSingle /
// WakeByAddressAll (synchronization.lib). Every decision (timeouts,
// re-arming, return codes, wake counts) is a pure function of
// futex_logic.hpp, tested on every host; this file only makes the calls.
// See docs/SAFETY.md, "Futex".
#ifdef _WIN32

#ifndef NOMINMAX
#define NOMINMAX  // <windows.h> must not define min and max macros
#endif
#include <windows.h>

#include <chrono>

#include "futex/futex_backend.hpp"
#include "os/seam.hpp"

namespace wrt::platform::detail {
namespace {

using prim::OsCall;

// WaitOnAddress only reads the word; the prototypes take void*.
void* os_address(const std::uint32_t* addr) noexcept { return const_cast<std::uint32_t*>(addr); }

}  // namespace

// WaitOnAddress takes a relative timeout, so any monotonic clock serves.
std::chrono::nanoseconds WindowsFutexBackend::now() noexcept {
  return std::chrono::steady_clock::now().time_since_epoch();
}

Result<WaitResult> WindowsFutexBackend::wait(const std::uint32_t* addr, std::uint32_t expected,
                                             Deadline deadline) noexcept {
  const WaitOutcome outcome = wait_on_address_loop(deadline, now, [&](std::uint32_t timeout_ms) {
    if (const int injected = prim::intercept(OsCall::FutexWait)) return injected;
    std::uint32_t compare = expected;
    if (WaitOnAddress(os_address(addr), &compare, sizeof compare, timeout_ms)) return 0;
    return static_cast<int>(GetLastError());
  });
  return finish_wait(outcome.step, outcome.error);
}

// The wakes cannot fail and do not say how many threads they released: the
// count is the plan's, min(count, registered), as for macOS wake-all (F9).
Result<std::uint32_t> WindowsFutexBackend::wake(const std::uint32_t* addr, std::uint32_t count,
                                                std::uint32_t registered) noexcept {
  if (const int injected = prim::intercept(OsCall::FutexWake)) return wake_failed(injected);
  const UlockWakePlan plan = ulock_wake_plan(count, registered);
  if (plan.wake_all) {
    WakeByAddressAll(os_address(addr));
    return registered;
  }
  for (std::uint32_t i = 0; i < plan.single_wakes; ++i) WakeByAddressSingle(os_address(addr));
  return plan.single_wakes;
}

}  // namespace wrt::platform::detail

#endif  // _WIN32
