// Properties of the futex's pure decisions (src/futex/futex_logic.hpp) against
// models written from docs/SPEC.md in exact arithmetic, and of the macOS
// wait and wake loops driven by a simulated clock and kernel, so the ulock
// logic is checked on every host (clauses F3, F4, F9, F10).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "futex/futex_logic.hpp"

namespace wrt::platform::proptest {
namespace {

using detail::Deadline;
using detail::WaitOutcome;
using detail::WaitStep;
using detail::WakeOutcome;
using std::chrono::nanoseconds;

// The models' exact arithmetic. Their operands are non-negative int64
// values (clock readings, timeouts > 0, times left), so a sum of two, or a
// u32 times 1000, fits u64 exactly; no __int128, which 32-bit targets lack.
using u64 = std::uint64_t;
constexpr std::int64_t kNsMax = std::numeric_limits<std::int64_t>::max();
constexpr std::uint32_t kU32Max = std::numeric_limits<std::uint32_t>::max();

// A nanosecond count biased towards the edges of its range.
rc::Gen<std::int64_t> edgy_ns() {
  return rc::gen::weightedOneOf<std::int64_t>({
      {3, rc::gen::element<std::int64_t>(0, 1, -1, 999, 1000, 1001, kNsMax, kNsMax - 1,
                                         std::numeric_limits<std::int64_t>::min())},
      {3, rc::gen::inRange<std::int64_t>(-1'000'000, 10'000'000'000'000)},
      {2, rc::gen::arbitrary<std::int64_t>()},
  });
}

rc::Gen<std::int64_t> clock_reading() {
  return rc::gen::weightedOneOf<std::int64_t>({
      {3, rc::gen::inRange<std::int64_t>(0, 1'000'000'000'000'000)},
      {1, rc::gen::element<std::int64_t>(0, kNsMax, kNsMax - 1)},
      {1, rc::gen::inRange<std::int64_t>(0, kNsMax)},
  });
}

// A timeout from `gen`, or (one time in five) none: wait forever.
std::optional<std::int64_t> some_timeout(const rc::Gen<std::int64_t>& gen) {
  if (*rc::gen::inRange(0, 5) == 0) return std::nullopt;
  return *gen;
}

std::optional<nanoseconds> as_duration(std::optional<std::int64_t> ns) {
  return ns ? std::optional(nanoseconds(*ns)) : std::nullopt;
}

// The model: now + timeout in exact arithmetic, forever once it leaves the
// clock's range.
Deadline model_deadline(std::int64_t now, std::optional<std::int64_t> timeout) {
  if (!timeout) return Deadline::never();
  if (*timeout <= 0) return Deadline{nanoseconds(now)};
  const u64 sum = u64(now) + u64(*timeout);
  return sum >= u64{kNsMax} ? Deadline::never()
                            : Deadline{nanoseconds(static_cast<std::int64_t>(sum))};
}

RC_GTEST_PROP(FutexLogicProp, F3_DeadlineNeverOverflowsAndSaturatesToNever, ()) {
  const std::int64_t now = *clock_reading();
  const auto timeout = some_timeout(edgy_ns());
  const Deadline deadline = detail::deadline_after(nanoseconds(now), as_duration(timeout));
  RC_ASSERT(deadline == model_deadline(now, timeout));
  RC_ASSERT(deadline.at >= nanoseconds(now));  // never in the past, never a short wait
}

RC_GTEST_PROP(FutexLogicProp, F3_DeadlineIsMonotoneInTimeoutAndNow, ()) {
  const std::int64_t now = *clock_reading();
  const std::int64_t later = now + *rc::gen::inRange<std::int64_t>(0, kNsMax - now);
  std::int64_t a = *edgy_ns(), b = *edgy_ns();
  if (a > b) std::swap(a, b);
  RC_ASSERT(detail::deadline_after(nanoseconds(now), nanoseconds(a)).at <=
            detail::deadline_after(nanoseconds(now), nanoseconds(b)).at);
  RC_ASSERT(detail::deadline_after(nanoseconds(now), nanoseconds(a)).at <=
            detail::deadline_after(nanoseconds(later), nanoseconds(a)).at);
}

RC_GTEST_PROP(FutexLogicProp, F4_TimespecSplitIsExact, ()) {
  const std::int64_t at = *clock_reading();
  const auto split = detail::split_seconds(nanoseconds(at));
  RC_ASSERT(split.nanos >= 0);
  RC_ASSERT(split.nanos < 1'000'000'000);
  RC_ASSERT(split.seconds >= 0);
  RC_ASSERT(split.seconds <= kNsMax / 1'000'000'000);
  RC_ASSERT(u64(split.seconds) * 1'000'000'000 + u64(split.nanos) == u64(at));
}

RC_GTEST_PROP(FutexLogicProp, F9_UlockTimeoutIsTheCeilingInMicrosecondsClamped, ()) {
  const std::int64_t left = *rc::gen::weightedOneOf<std::int64_t>(
      {{3, rc::gen::inRange<std::int64_t>(1, 10'000'000'000'000'000)},
       {1, rc::gen::element<std::int64_t>(1, 999, 1000, 1001, kNsMax)},
       {1, rc::gen::inRange<std::int64_t>(1, kNsMax)}});
  const std::uint32_t us = detail::ulock_timeout_us(nanoseconds(left));
  const u64 ceiling = (u64(left) + 999) / 1000;
  RC_ASSERT(us >= 1u);  // 0 would mean forever
  if (ceiling <= kU32Max) {
    RC_ASSERT(u64{us} == ceiling);  // never ends early, never a microsecond longer
  } else {
    RC_ASSERT(us == kU32Max);
  }
  const std::int64_t more = left + *rc::gen::inRange<std::int64_t>(0, kNsMax - left);
  RC_ASSERT(detail::ulock_timeout_us(nanoseconds(more)) >= us);  // monotone
}

// Any errno, or the documented ones, as the kernel would return them.
rc::Gen<int> an_errno() {
  return rc::gen::weightedOneOf<int>({
      {3, rc::gen::element(EINTR, EAGAIN, ETIMEDOUT, EFAULT, EINVAL, ENOENT, ENOSYS, EPERM)},
      {1, rc::gen::inRange(1, 4096)},
  });
}

RC_GTEST_PROP(FutexLogicProp, F4_F10_FutexErrnoMapsToItsDocumentedStep, ()) {
  const int error = *an_errno();
  const WaitStep expected = error == EINTR       ? WaitStep::Retry
                            : error == EAGAIN    ? WaitStep::NotEqual
                            : error == ETIMEDOUT ? WaitStep::TimedOut
                                                 : WaitStep::Fail;
  RC_ASSERT(detail::futex_wait_step(error) == expected);
}

RC_GTEST_PROP(FutexLogicProp, F9_F10_UlockReturnCodesMapToTheirDocumentedSteps, ()) {
  const bool success = *rc::gen::arbitrary<bool>();
  const int rc = success ? *rc::gen::inRange(0, 1 << 20) : -*an_errno();
  const int error = -rc;
  const WaitStep wait = success                                ? WaitStep::Woken
                        : error == EINTR || error == ETIMEDOUT ? WaitStep::Retry
                        : error == EFAULT                      ? WaitStep::Woken
                                                               : WaitStep::Fail;
  RC_ASSERT(detail::ulock_wait_step(rc) == wait);
  const detail::WakeStep wake = success           ? detail::WakeStep::Woke
                                : error == ENOENT ? detail::WakeStep::NobodyWaiting
                                : error == EINTR  ? detail::WakeStep::Retry
                                                  : detail::WakeStep::Fail;
  RC_ASSERT(detail::ulock_wake_step(rc) == wake);
}

// A simulated __ulock_wait over a simulated clock: each call either sleeps
// its whole timeout and reports ETIMEDOUT, or is cut short after a random
// part of it by a signal (EINTR) or a wake (0), or fails.
struct SimulatedUlockWait {
  struct Call {
    std::int64_t clock;        // when it was made
    std::uint32_t timeout_us;  // what it asked for
  };
  std::int64_t clock;
  std::vector<Call> calls;
};

RC_GTEST_PROP(FutexLogicProp, F3_F4_F9_UlockWaitReArmsUntilTheAbsoluteDeadline, ()) {
  const std::int64_t start = *rc::gen::inRange<std::int64_t>(0, 1'000'000'000'000'000);
  const auto timeout = some_timeout(rc::gen::weightedOneOf<std::int64_t>(
      {{3, rc::gen::inRange<std::int64_t>(1, 20'000'000'000'000)},  // up to ~5.5 h
       {1, rc::gen::inRange<std::int64_t>(1, 5'000)}}));
  const Deadline deadline = detail::deadline_after(nanoseconds(start), as_duration(timeout));
  // The outcome of each call: 0 sleeps out the timeout, 1 EINTR, 2 woken,
  // 3 EINVAL; a forever wait ends by a wake once the script runs out.
  const auto script =
      *rc::gen::container<std::vector<int>>(rc::gen::weightedOneOf<int>({{6, rc::gen::just(0)},
                                                                         {3, rc::gen::just(1)},
                                                                         {1, rc::gen::just(2)},
                                                                         {1, rc::gen::just(3)}}));
  SimulatedUlockWait sim{start, {}};
  const auto now = [&] { return nanoseconds(sim.clock); };
  const WaitOutcome outcome = detail::ulock_wait_loop(deadline, now, [&](std::uint32_t us) {
    sim.calls.push_back({sim.clock, us});
    const std::size_t call = sim.calls.size() - 1;
    const int what = call < script.size() ? script[call] : (deadline.is_never() ? 2 : 0);
    const std::int64_t full = us == 0 ? 1'000'000'000 : std::int64_t{us} * 1000;
    switch (what) {
      case 0:
        sim.clock += full;
        return -ETIMEDOUT;
      case 1:
        sim.clock += full / 3;
        return -EINTR;
      case 2:
        sim.clock += full / 2;
        return 0;
      default:
        return -EINVAL;
    }
  });
  // A forever wait passes 0 (forever); a timed one never does, and never
  // asks for more than the time left, rounded up to a microsecond.
  for (const auto& call : sim.calls) {
    if (deadline.is_never()) {
      RC_ASSERT(call.timeout_us == 0u);
    } else {
      RC_ASSERT(call.clock < deadline.at.count());  // no call once the deadline has passed
      RC_ASSERT(call.timeout_us >= 1u);
      RC_ASSERT(u64{call.timeout_us} * 1000 < u64(deadline.at.count() - call.clock) + 1000);
    }
  }
  if (outcome.step == WaitStep::TimedOut) {
    RC_ASSERT(!deadline.is_never());
    RC_ASSERT(sim.clock >= deadline.at.count());  // only once the deadline has passed
  } else {
    RC_ASSERT(outcome.step == WaitStep::Woken || outcome.step == WaitStep::Fail);
    RC_ASSERT(outcome.step != WaitStep::Fail || outcome.error == EINVAL);
  }
}

// A simulated kernel with `sleeping` threads on the address; `registered`
// >= sleeping, as the waiter accounting guarantees.
RC_GTEST_PROP(FutexLogicProp, F6_F9_UlockWakeNeverReportsMoreThanMinOfCountAndRegistered, ()) {
  const std::uint32_t sleeping = *rc::gen::inRange<std::uint32_t>(0, 40);
  const std::uint32_t registered = sleeping + *rc::gen::inRange<std::uint32_t>(0, 5);
  const std::uint32_t count = *rc::gen::weightedOneOf<std::uint32_t>(
      {{3, rc::gen::inRange<std::uint32_t>(1, 50)}, {1, rc::gen::just(kU32Max)}});
  const auto interrupts = *rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>());
  std::uint32_t asleep = sleeping;
  std::size_t call = 0;
  const WakeOutcome outcome = detail::ulock_wake_loop(count, registered, [&](bool wake_all) {
    const bool interrupted = call < interrupts.size() && interrupts[call];
    ++call;
    if (interrupted) return -EINTR;
    if (asleep == 0) return -ENOENT;
    asleep = wake_all ? 0 : asleep - 1;
    return 0;
  });
  const std::uint32_t really_woken = sleeping - asleep;
  RC_ASSERT(outcome.error == 0);
  RC_ASSERT(outcome.woken <= std::min(count, registered));
  RC_ASSERT(really_woken == std::min(count, sleeping));
  if (count == kU32Max) {
    RC_ASSERT(outcome.woken == (sleeping == 0 ? 0u : registered));  // the documented caveat
  } else {
    RC_ASSERT(outcome.woken == really_woken);  // exact below wake-all
  }
}

RC_GTEST_PROP(FutexLogicProp, F10_UlockWakeFailureCarriesTheErrno, ()) {
  const int error = *rc::gen::element(EINVAL, EFAULT, EPERM, ENOTSUP);
  const std::uint32_t count = *rc::gen::element(1u, 3u, kU32Max);
  const WakeOutcome outcome = detail::ulock_wake_loop(count, 3, [&](bool) { return -error; });
  RC_ASSERT(outcome.error == error);
}

}  // namespace
}  // namespace wrt::platform::proptest
