// Linux futex backend: futex(2). See docs/SAFETY.md, "Futex".
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "futex/futex_backend.hpp"
#include "os/seam.hpp"

namespace wrt::platform::detail {
namespace {

using prim::OsCall;

// The errno of one futex(2) call, or 0 when it returned `*value` >= 0.
// Asks the seam first, so tests can count and fail the call.
int futex_call(OsCall which, long* value, const std::uint32_t* addr, int op, std::uint32_t val,
               const timespec* deadline, std::uint32_t val3) noexcept {
  if (const int injected = prim::intercept(which)) return injected;
  const long rc = syscall(SYS_futex, addr, op, val, deadline, nullptr, val3);
  if (rc < 0) return errno;
  *value = rc;
  return 0;
}

}  // namespace

std::chrono::nanoseconds LinuxFutexBackend::now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // cannot fail for CLOCK_MONOTONIC
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

Result<WaitResult> LinuxFutexBackend::wait(const std::uint32_t* addr, std::uint32_t expected,
                                           Deadline deadline) noexcept {
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so a retry
  // after EINTR waits exactly for the time left (clause F4).
  const SecondsAndNanos split = split_seconds(deadline.at);
  const timespec at{static_cast<time_t>(split.seconds), static_cast<long>(split.nanos)};
  const timespec* until = deadline.is_never() ? nullptr : &at;
  const WaitOutcome outcome = futex_wait_loop([&] {
    long ignored = 0;
    return futex_call(OsCall::FutexWait, &ignored, addr, FUTEX_WAIT_BITSET_PRIVATE, expected, until,
                      FUTEX_BITSET_MATCH_ANY);
  });
  return finish_wait(outcome.step, outcome.error);
}

Result<std::uint32_t> LinuxFutexBackend::wake(const std::uint32_t* addr, std::uint32_t count,
                                              std::uint32_t /*registered*/) noexcept {
  // The kernel takes an int and reports exactly how many it woke.
  const int n = count > static_cast<std::uint32_t>(INT_MAX) ? INT_MAX : static_cast<int>(count);
  long woken = 0;
  const int error = futex_call(OsCall::FutexWake, &woken, addr, FUTEX_WAKE_PRIVATE,
                               static_cast<std::uint32_t>(n), nullptr, 0);
  if (error != 0) return wake_failed(error);
  return static_cast<std::uint32_t>(woken);
}

}  // namespace wrt::platform::detail
