// The library's pure decision functions against reference models written
// from the contract in 128-bit arithmetic:
// - page math and allocator checks (src/allocator/page_policy.hpp; A3-A9, A11);
// - futex deadlines, timespec split, ulock timeout/operation/wake plan, the
//   return-code mappings of futex(2) and __ulock_*, and the wait/wake loops
//   over a scripted OS and clock (src/futex/futex_logic.hpp; F3, F4, F6, F9,
//   F10), so the macOS logic is fuzzed on every host.
#include <fuzzer/FuzzedDataProvider.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <vector>

#include "allocator/page_policy.hpp"
#include "allocator_model.hpp"
#include "check.hpp"
#include "futex/futex_logic.hpp"
#include "pick.hpp"

using namespace wrt::platform;
using namespace wrt::platform::detail;
using fuzz::pick_near;
using fuzz::u128;
using std::chrono::nanoseconds;
__extension__ typedef __int128 i128;

namespace {

constexpr i128 kNanosMax = std::numeric_limits<nanoseconds::rep>::max();

void page_math(FuzzedDataProvider& in) {
  const auto a = pick_near<std::size_t>(in, SIZE_MAX / 2);
  const auto b = pick_near<std::size_t>(in, SIZE_MAX - a);
  const auto sum = checked_add(a, b);
  FUZZ_CHECK(sum.has_value() == (u128{a} + b <= fuzz::kSizeMax));
  if (sum) FUZZ_CHECK(*sum == a + b);

  const auto pages = pick_near<std::uint64_t>(in, SIZE_MAX / kWasmPageSize);
  const auto bytes = pages_to_bytes(pages);
  FUZZ_CHECK(bytes.has_value() == (u128{pages} * kWasmPageSize <= fuzz::kSizeMax));
  if (bytes) FUZZ_CHECK(*bytes == pages * kWasmPageSize);

  const std::size_t alignment = std::size_t{1} << in.ConsumeIntegralInRange<int>(0, 63);
  const auto value = pick_near<std::size_t>(in, SIZE_MAX - alignment);
  const u128 rounded = (u128{value} + alignment - 1) / alignment * alignment;
  const auto round = round_up(value, alignment);
  // round_up reports overflow whenever value + alignment - 1 does, even if
  // the rounded result itself would fit; both are refusals of the same size.
  FUZZ_CHECK(round.has_value() == (u128{value} + alignment - 1 <= fuzz::kSizeMax));
  if (round) FUZZ_CHECK(*round == rounded);
}

LinearMemoryState pick_state(FuzzedDataProvider& in, std::byte* base) {
  LinearMemoryState state;
  if (in.ConsumeBool()) return state;
  state.base = base;
  state.reserved_pages = pick_near<std::uint32_t>(in, 16);
  state.committed_pages = pick_near<std::uint32_t>(in, state.reserved_pages);
  if (state.committed_pages > state.reserved_pages) state.committed_pages = state.reserved_pages;
  return state;
}

fuzz::ModelState as_model(const LinearMemoryState& state) {
  return {state.allocated(), state.base, state.committed_pages, state.reserved_pages};
}

template <typename T>
void check_same_outcome(const Result<T>& actual, std::optional<ErrorCode> expected) {
  FUZZ_CHECK(actual.has_value() == !expected.has_value());
  if (expected) FUZZ_CHECK(actual.error().code() == *expected && actual.error().os_errno() == 0);
}

void allocator_checks(FuzzedDataProvider& in) {
  alignas(kWasmPageSize) static std::byte memory[1];
  const LinearMemoryState state = pick_state(in, memory);
  const auto limit = pick_near<std::uint32_t>(in, 16);

  const auto initial = pick_near<std::uint32_t>(in, limit);
  std::optional<std::uint32_t> maximum;
  if (in.ConsumeBool()) maximum = pick_near<std::uint32_t>(in, limit);
  const auto plan = plan_allocate(state, initial, maximum, limit);
  check_same_outcome(plan,
                     fuzz::expected_allocate_error(state.allocated(), initial, maximum, limit));
  if (plan) {
    FUZZ_CHECK(plan->initial_pages == initial);
    FUZZ_CHECK(plan->reserved_pages == maximum.value_or(limit));
    FUZZ_CHECK(plan->reserved_bytes == std::size_t{plan->reserved_pages} * kWasmPageSize);
  }

  const auto current = pick_near<std::uint32_t>(in, state.committed_pages);
  const auto additional =
      pick_near<std::uint32_t>(in, state.reserved_pages - state.committed_pages);
  const auto grown = plan_grow(state, current, additional);
  check_same_outcome(grown, fuzz::expected_grow_error(as_model(state), current, additional));
  if (grown) FUZZ_CHECK(*grown == current + additional);

  std::byte* ptr = in.ConsumeBool() ? state.base : memory + in.ConsumeIntegralInRange<int>(0, 1);
  const auto size = pick_near<std::size_t>(in, state.committed_bytes());
  check_same_outcome(check_deallocate(state, ptr, size),
                     fuzz::expected_deallocate_error(as_model(state), ptr, size));
}

nanoseconds pick_nanos(FuzzedDataProvider& in, nanoseconds::rep anchor) {
  return nanoseconds(static_cast<nanoseconds::rep>(
      pick_near<std::uint64_t>(in, static_cast<std::uint64_t>(anchor))));
}

// F3: deadline = now + timeout, saturating at never(); non-positive = now.
void deadlines(FuzzedDataProvider& in) {
  const nanoseconds now(in.ConsumeIntegralInRange<nanoseconds::rep>(0, nanoseconds::max().count()));
  std::optional<nanoseconds> timeout;
  if (in.ConsumeBool()) timeout = pick_nanos(in, nanoseconds::max().count() - now.count());
  const Deadline deadline = deadline_after(now, timeout);
  if (!timeout) {
    FUZZ_CHECK(deadline.is_never());
  } else if (*timeout <= nanoseconds::zero()) {
    FUZZ_CHECK(deadline.at == now);
  } else if (i128{now.count()} + timeout->count() >= kNanosMax) {
    FUZZ_CHECK(deadline.is_never());
  } else {
    FUZZ_CHECK(i128{deadline.at.count()} == i128{now.count()} + timeout->count());
    FUZZ_CHECK(time_left(deadline, now) == *timeout);
  }
  // A deadline never lies before now: a huge timeout never wraps short.
  FUZZ_CHECK(deadline.at >= now);

  // timespec: seconds * 1e9 + nanos == at, with 0 <= nanos < 1e9.
  const SecondsAndNanos split = split_seconds(deadline.at);
  FUZZ_CHECK(split.nanos >= 0 && split.nanos < 1'000'000'000);
  FUZZ_CHECK(i128{split.seconds} * 1'000'000'000 + split.nanos == i128{deadline.at.count()});
}

// F9: __ulock_wait's microseconds never end a wait early, are never 0
// (forever) and saturate at the 32-bit field.
void ulock_timeout(FuzzedDataProvider& in) {
  const nanoseconds left = pick_nanos(in, 1000 * std::int64_t{UINT32_MAX});
  const std::uint32_t us = ulock_timeout_us(left);
  FUZZ_CHECK(us >= 1);
  if (left <= nanoseconds::zero()) {
    FUZZ_CHECK(us == 1);
    return;
  }
  const i128 ceiling_us = (i128{left.count()} + 999) / 1000;
  FUZZ_CHECK(i128{us} == (ceiling_us < UINT32_MAX ? ceiling_us : i128{UINT32_MAX}));
}

// F4, F9, F10: how OS return codes become wait/wake steps.
void return_codes(FuzzedDataProvider& in) {
  const int error = in.ConsumeIntegralInRange<int>(-200, 200);
  const WaitStep futex_step = futex_wait_step(error);
  const WaitStep expected_futex = error == 0           ? WaitStep::Woken
                                  : error == EINTR     ? WaitStep::Retry
                                  : error == EAGAIN    ? WaitStep::NotEqual
                                  : error == ETIMEDOUT ? WaitStep::TimedOut
                                                       : WaitStep::Fail;
  FUZZ_CHECK(futex_step == expected_futex);

  // ULF_NO_ERRNO: rc >= 0 is success, else -errno.
  const WaitStep ulock_step = ulock_wait_step(error);
  const WaitStep expected_ulock = error >= 0                               ? WaitStep::Woken
                                  : -error == EINTR || -error == ETIMEDOUT ? WaitStep::Retry
                                  : -error == EFAULT                       ? WaitStep::Woken
                                                                           : WaitStep::Fail;
  FUZZ_CHECK(ulock_step == expected_ulock);

  const WakeStep wake_step = ulock_wake_step(error);
  const WakeStep expected_wake = error >= 0         ? WakeStep::Woke
                                 : -error == ENOENT ? WakeStep::NobodyWaiting
                                 : -error == EINTR  ? WakeStep::Retry
                                                    : WakeStep::Fail;
  FUZZ_CHECK(wake_step == expected_wake);
}

// F6, F9: the macOS wake plan reports min(count, registered) at most.
void ulock_wake(FuzzedDataProvider& in) {
  const auto registered = pick_near<std::uint32_t>(in, 4);
  const auto count = pick_near<std::uint32_t>(in, registered);
  const UlockWakePlan plan = ulock_wake_plan(count, registered);
  FUZZ_CHECK(plan.wake_all == (count == UINT32_MAX));
  FUZZ_CHECK(plan.single_wakes == (plan.wake_all ? 0 : (count < registered ? count : registered)));
  const std::uint32_t op = ulock_wake_operation(plan.wake_all);
  FUZZ_CHECK(op == (kUlCompareAndWait | kUlfNoErrno | (plan.wake_all ? kUlfWakeAll : 0u)));

  // Waiter stripes: in range, and blind to the two low address bits.
  const std::size_t slots = std::size_t{1} << in.ConsumeIntegralInRange<int>(0, 16);
  const auto address = in.ConsumeIntegral<std::uintptr_t>();
  const std::size_t slot = address_slot(address, slots);
  FUZZ_CHECK(slot < slots);
  FUZZ_CHECK(address_slot(address | 3, slots) == slot);
}

// An OS return code as the input scripts it: mostly the interesting ones.
int pick_errno(FuzzedDataProvider& in) {
  static constexpr int kErrnos[] = {0, EINTR, EAGAIN, ETIMEDOUT, EFAULT, ENOENT, EINVAL, ENOMEM};
  return in.ConsumeBool()
             ? kErrnos[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kErrnos) - 1)]
             : in.ConsumeIntegralInRange<int>(0, 200);
}

// F4, F10: the futex(2) loop retries EINTR only and ends with the first
// other answer, carrying its errno.
void futex_loop(FuzzedDataProvider& in) {
  std::vector<int> script;
  while (script.size() < 8 && in.remaining_bytes() > 0) script.push_back(pick_errno(in));
  std::size_t calls = 0;
  const WaitOutcome outcome =
      futex_wait_loop([&] { return calls < script.size() ? script[calls++] : (++calls, 0); });
  std::size_t first = 0;
  while (first < script.size() && script[first] == EINTR) ++first;
  const int ended_with = first < script.size() ? script[first] : 0;
  FUZZ_CHECK(calls == first + 1);
  FUZZ_CHECK(outcome.step != WaitStep::Retry);
  FUZZ_CHECK(outcome.step == futex_wait_step(ended_with) && outcome.error == ended_with);
}

// F3, F4, F9 on a simulated macOS: the clock advances as the script says
// (a timed-out call by at least its timeout). Every __ulock_wait gets 0 only
// for a wait without deadline, else a timeout that covers the time left or
// is the clamp; TimedOut comes only once the deadline has passed.
void ulock_loop(FuzzedDataProvider& in) {
  nanoseconds clock(in.ConsumeIntegralInRange<nanoseconds::rep>(0, nanoseconds::max().count() / 2));
  std::optional<nanoseconds> timeout;
  if (in.ConsumeBool()) timeout = pick_nanos(in, 1000 * std::int64_t{UINT32_MAX});
  const Deadline deadline = deadline_after(clock, timeout);
  nanoseconds last_read = clock;
  std::size_t calls = 0;
  int last_rc = 0;
  const auto now = [&] { return last_read = clock; };
  const auto ulock_wait = [&](std::uint32_t timeout_us) {
    if (deadline.is_never()) {
      FUZZ_CHECK(timeout_us == 0);
    } else {
      FUZZ_CHECK(timeout_us >= 1);
      const i128 left = i128{deadline.at.count()} - last_read.count();
      FUZZ_CHECK(i128{timeout_us} * 1000 >= left || timeout_us == UINT32_MAX);
    }
    ++calls;
    last_rc = calls <= 8 && in.remaining_bytes() > 0 ? -pick_errno(in) : 0;
    const i128 slept = last_rc == -ETIMEDOUT ? i128{timeout_us} * 1000 : 0;
    const i128 advanced = i128{clock.count()} + slept + in.ConsumeIntegralInRange<int>(0, 5000);
    clock = nanoseconds(static_cast<nanoseconds::rep>(advanced < kNanosMax ? advanced : kNanosMax));
    return last_rc;
  };
  const WaitOutcome outcome = ulock_wait_loop(deadline, now, ulock_wait);
  FUZZ_CHECK(outcome.step != WaitStep::Retry && outcome.step != WaitStep::NotEqual);
  if (outcome.step == WaitStep::TimedOut) {
    FUZZ_CHECK(!deadline.is_never() && last_read >= deadline.at);
  } else {
    FUZZ_CHECK(calls > 0 && outcome.step == ulock_wait_step(last_rc));
    if (outcome.step == WaitStep::Fail) FUZZ_CHECK(outcome.error == -last_rc);
  }
}

// F6, F9: the macOS wake reports no more than min(count, registered), one
// per single wake that answered, and the errno of a failing call.
void ulock_wake_calls(FuzzedDataProvider& in) {
  const auto registered = in.ConsumeIntegralInRange<std::uint32_t>(1, 6);
  const auto count = in.ConsumeBool() ? UINT32_MAX : in.ConsumeIntegralInRange<std::uint32_t>(1, 8);
  std::uint32_t calls = 0;
  std::uint32_t answered = 0;  // calls that returned >= 0
  int last_rc = 0;
  const WakeOutcome outcome = ulock_wake_loop(count, registered, [&](bool wake_all) {
    FUZZ_CHECK(wake_all == (count == UINT32_MAX));
    ++calls;
    last_rc = calls <= 12 && in.remaining_bytes() > 0 ? -pick_errno(in) : 0;
    answered += last_rc >= 0 ? 1 : 0;
    return last_rc;
  });
  const std::uint32_t most = count < registered ? count : registered;
  FUZZ_CHECK(outcome.woken <= most);
  if (last_rc < 0 && ulock_wake_step(last_rc) == WakeStep::Fail) {
    FUZZ_CHECK(outcome.error == -last_rc);
  } else {
    FUZZ_CHECK(outcome.error == 0);
  }
  if (count != UINT32_MAX)
    FUZZ_CHECK(outcome.woken == answered);
  else
    FUZZ_CHECK(outcome.woken == (answered > 0 ? registered : 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  while (in.remaining_bytes() > 0) {
    switch (in.ConsumeIntegralInRange<int>(0, 8)) {
      case 0:
        page_math(in);
        break;
      case 1:
        allocator_checks(in);
        break;
      case 2:
        deadlines(in);
        break;
      case 3:
        ulock_timeout(in);
        break;
      case 4:
        return_codes(in);
        break;
      case 5:
        ulock_wake(in);
        break;
      case 6:
        futex_loop(in);
        break;
      case 7:
        ulock_loop(in);
        break;
      default:
        ulock_wake_calls(in);
        break;
    }
  }
  return 0;
}
