// Futex wait/wake from 2-4 threads on two words, through the public API
// (Futex objects or plain words via wait_on_address/wake_address) or the
// portable parking-lot backend. The input decodes into one script per
// thread (set, wait with a short or non-positive timeout, wake with a count,
// calls on bad addresses); the harness checks each result against what the
// contract allows (F2-F8):
// - every wait returns a WaitResult, never an error, on a valid word;
// - a non-positive timeout never reports Woken (F3);
// - TimedOut only once the timeout has passed on the monotonic clock (F5);
// - NotEqual only if the word ever held another value, and always if it
//   never held `expected` (F2);
// - a wake reports at most `count` and at most the other threads (F6), and
//   per word all wakes together report no more than the waits that returned
//   Woken (each woken waiter returns Woken; spurious Woken are allowed);
// - null and misaligned addresses give InvalidArgument and Misaligned (F8);
// - with the seam (fault-injection builds), a failing futex wait maps its
//   errno as F4/F10 say;
// - once every thread has left, nobody is counted as waiting, and with
//   nobody waiting neither wake nor a NotEqual wait calls the OS (F7).
// Run under ThreadSanitizer too (scripts/fuzz.sh does). The scripts run on
// the calling thread and threads kept for the whole run (workers.hpp):
// starting 2-4 threads per input cost more than the input itself.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "check.hpp"
#include "futex/futex_core.hpp"
#include "pick.hpp"
#include "workers.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif
#include "wrt/platform/futex.hpp"

using namespace wrt::platform;
using std::chrono::nanoseconds;

namespace {

constexpr std::size_t kWords = 2;
constexpr std::size_t kThreads = 4;

enum class Kind { Set, Wait, Wake, BadAddress };

struct Op {
  Kind kind;
  std::size_t word;
  std::uint32_t value;  // Set: the value; Wait: expected; Wake: count
  nanoseconds timeout;  // Wait only
};

struct Outcome {
  std::optional<Result<WaitResult>> waited;
  std::optional<Result<std::uint32_t>> woke;
  nanoseconds elapsed{0};
};

// How the harness reaches the words: each mode is one way a runtime may.
enum class Mode { FutexObjects, PlainWords, PortableBackend };

class Words {
 public:
  explicit Words(Mode mode) : mode_(mode) {}

  void store(std::size_t w, std::uint32_t v) {
    if (mode_ == Mode::FutexObjects)
      futexes_[w].word().store(v);
    else
      std::atomic_ref(plain_[w].value).store(v);
  }
  std::uint32_t load(std::size_t w) {
    return mode_ == Mode::FutexObjects ? futexes_[w].word().load()
                                       : std::atomic_ref(plain_[w].value).load();
  }

  Result<WaitResult> wait(std::size_t w, std::uint32_t expected, nanoseconds timeout) {
    switch (mode_) {
      case Mode::FutexObjects:
        return futexes_[w].wait(expected, timeout);
      case Mode::PlainWords:
        return wait_on_address(&plain_[w].value, expected, timeout);
      default:
        return Portable::wait(&plain_[w].value, expected, timeout, portable_waiters_[w]);
    }
  }
  Result<std::uint32_t> wake(std::size_t w, std::uint32_t count) {
    switch (mode_) {
      case Mode::FutexObjects:
        return futexes_[w].wake(count);
      case Mode::PlainWords:
        return wake_address(&plain_[w].value, count);
      default:
        return Portable::wake(&plain_[w].value, count, portable_waiters_[w]);
    }
  }

  // F8: null and misaligned words are refused, never dereferenced.
  void check_bad_addresses(std::uint32_t value) {
    const auto* misaligned = reinterpret_cast<const std::uint32_t*>(
        reinterpret_cast<const std::byte*>(&plain_[0].value) + 1 + value % 3);
    for (const std::uint32_t* bad : {static_cast<const std::uint32_t*>(nullptr), misaligned}) {
      const ErrorCode expected =
          bad == nullptr ? ErrorCode::InvalidArgument : ErrorCode::Misaligned;
      const auto waited = mode_ == Mode::PortableBackend
                              ? Portable::wait(bad, value, nanoseconds(1), portable_waiters_[0])
                              : wait_on_address(bad, value, nanoseconds(1));
      FUZZ_CHECK(!waited && waited.error().code() == expected);
      const auto woke = mode_ == Mode::PortableBackend
                            ? Portable::wake(bad, value, portable_waiters_[0])
                            : wake_address(bad, value);
      FUZZ_CHECK(!woke && woke.error().code() == expected);
    }
  }

  Mode mode() const { return mode_; }

 private:
  using Portable = detail::FutexCore<detail::PortableFutexBackend>;
  struct alignas(64) PlainWord {
    std::uint32_t value = 0;
  };

  Mode mode_;
  std::array<Futex, kWords> futexes_;
  std::array<PlainWord, kWords> plain_;
  std::array<detail::WaiterCount, kWords> portable_waiters_{};
};

Op decode_op(FuzzedDataProvider& in) {
  Op op{};
  op.kind = static_cast<Kind>(in.ConsumeIntegralInRange<int>(0, 3));
  op.word = in.ConsumeIntegralInRange<std::size_t>(0, kWords - 1);
  // Few distinct values, so that equal and differing words both happen.
  op.value = in.ConsumeIntegralInRange<std::uint32_t>(0, 3);
  if (op.kind == Kind::Wake) {
    static constexpr std::array<std::uint32_t, 6> kCounts = {0, 1, 2, 3, 0x7fffffff, UINT32_MAX};
    op.value = kCounts[in.ConsumeIntegralInRange<std::size_t>(0, kCounts.size() - 1)];
  }
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      op.timeout = nanoseconds(0);
      break;
    case 1:
      op.timeout = -nanoseconds(in.ConsumeIntegralInRange<std::int64_t>(1, INT64_MAX));
      break;
    default:  // up to 2.1 ms
      op.timeout = nanoseconds(fuzz::pick_timeout_ns(in, 20));
      break;
  }
  return op;
}

Outcome run_op(Words& words, const Op& op) {
  Outcome outcome;
  switch (op.kind) {
    case Kind::Set:
      words.store(op.word, op.value);
      break;
    case Kind::Wait: {
      const auto start = std::chrono::steady_clock::now();
      outcome.waited = words.wait(op.word, op.value, op.timeout);
      outcome.elapsed = std::chrono::steady_clock::now() - start;
      break;
    }
    case Kind::Wake:
      outcome.woke = words.wake(op.word, op.value);
      break;
    case Kind::BadAddress:
      if (words.mode() != Mode::FutexObjects) words.check_bad_addresses(op.value);
      break;
  }
  return outcome;
}

// Once every thread has left, no waiter is counted on `w`: wake-all finds
// nobody, and (F7) neither it nor a wait on a differing value reaches the
// OS, as the seam's call counters show in fault-injection builds.
void check_quiet_word(Words& words, std::size_t w) {
#ifdef WRT_PLATFORM_FAULT_INJECTION
  const std::uint64_t waits_before = fault::calls(fault::OsCall::FutexWait);
  const std::uint64_t wakes_before = fault::calls(fault::OsCall::FutexWake);
#endif
  const auto woke = words.wake(w, UINT32_MAX);
  FUZZ_CHECK(woke.has_value() && *woke == 0);
  const auto waited = words.wait(w, words.load(w) + 1, nanoseconds(1'000'000));
  FUZZ_CHECK(waited.has_value() && *waited == WaitResult::NotEqual);
#ifdef WRT_PLATFORM_FAULT_INJECTION
  FUZZ_CHECK(fault::calls(fault::OsCall::FutexWait) == waits_before);
  FUZZ_CHECK(fault::calls(fault::OsCall::FutexWake) == wakes_before);
#endif
}

// F4, F10 through the seam: the next `times` futex waits fail with `error`.
// Decoded in every build, so that a corpus means the same everywhere; only
// fault-injection builds can apply it.
struct WaitFault {
  int error;
  std::uint32_t times;
  nanoseconds timeout;
};

WaitFault decode_wait_fault(FuzzedDataProvider& in) {
  static constexpr std::array kErrnos = {EINTR, EAGAIN, ETIMEDOUT, EINVAL, EFAULT, ENOMEM, EPERM};
  WaitFault fault{};
  fault.error = in.ConsumeBool()
                    ? kErrnos[in.ConsumeIntegralInRange<std::size_t>(0, kErrnos.size() - 1)]
                    : in.ConsumeIntegralInRange<int>(1, 133);
  fault.times = in.ConsumeIntegralInRange<std::uint32_t>(1, 3);
  fault.timeout = nanoseconds(in.ConsumeIntegralInRange<std::int64_t>(1, 1'000'000));
  return fault;
}

// A wait whose OS call fails: EINTR is retried against the same deadline
// (then, with nobody to wake it, the wait times out), EAGAIN means the word
// differed, ETIMEDOUT that the deadline passed; any other errno is a
// SystemError carrying it.
void check_wait_fault([[maybe_unused]] Words& words, [[maybe_unused]] const WaitFault& planned) {
#ifdef WRT_PLATFORM_FAULT_INJECTION
  fault::fail(fault::OsCall::FutexWait, planned.error, 0, planned.times);
  const auto start = std::chrono::steady_clock::now();
  const auto waited = words.wait(0, words.load(0), planned.timeout);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  fault::reset();
  if (planned.error == EINTR || planned.error == ETIMEDOUT || planned.error == EAGAIN) {
    FUZZ_CHECK(waited.has_value());
    const WaitResult expected =
        planned.error == EAGAIN ? WaitResult::NotEqual : WaitResult::TimedOut;
    FUZZ_CHECK(*waited == expected);
    if (planned.error == EINTR) FUZZ_CHECK(elapsed >= planned.timeout);
  } else {
    FUZZ_CHECK(!waited && waited.error().code() == ErrorCode::SystemError &&
               waited.error().os_errno() == planned.error);
  }
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto mode = static_cast<Mode>(in.ConsumeIntegralInRange<int>(0, 2));
  const auto thread_count = in.ConsumeIntegralInRange<std::size_t>(2, kThreads);
  Words words(mode);
  // Every value each word ever holds: its initial value and every Set.
  std::array<std::set<std::uint32_t>, kWords> held;
  for (std::size_t w = 0; w < kWords; ++w) {
    const auto initial = in.ConsumeIntegralInRange<std::uint32_t>(0, 3);
    words.store(w, initial);
    held[w].insert(initial);
  }
  std::vector<std::vector<Op>> scripts(thread_count);
  for (auto& script : scripts) {
    const auto ops = in.ConsumeIntegralInRange<std::size_t>(1, 6);
    for (std::size_t i = 0; i < ops && in.remaining_bytes() > 0; ++i) {
      script.push_back(decode_op(in));
      if (script.back().kind == Kind::Set) held[script.back().word].insert(script.back().value);
    }
  }
  // Decoded last, so that inputs written before it existed keep their
  // meaning; an input used up by the scripts plans one EPERM failure.
  const WaitFault wait_fault = decode_wait_fault(in);

  std::vector<std::vector<Outcome>> outcomes(thread_count);
  fuzz::run_together(fuzz::workers<kThreads - 1>(), thread_count, [&](std::size_t t) {
    for (const Op& op : scripts[t]) outcomes[t].push_back(run_op(words, op));
  });

  std::array<std::uint64_t, kWords> woken_waits{};
  std::array<std::uint64_t, kWords> reported_wakes{};
  for (std::size_t t = 0; t < thread_count; ++t) {
    for (std::size_t i = 0; i < scripts[t].size(); ++i) {
      const Op& op = scripts[t][i];
      const Outcome& outcome = outcomes[t][i];
      if (op.kind == Kind::Wait) {
        FUZZ_CHECK(outcome.waited && outcome.waited->has_value());
        const WaitResult result = **outcome.waited;
        FUZZ_CHECK(result == WaitResult::Woken || result == WaitResult::NotEqual ||
                   result == WaitResult::TimedOut);
        if (op.timeout <= nanoseconds::zero()) FUZZ_CHECK(result != WaitResult::Woken);
        if (result == WaitResult::TimedOut && op.timeout > nanoseconds::zero())
          FUZZ_CHECK(outcome.elapsed >= op.timeout);
        if (!held[op.word].contains(op.value)) FUZZ_CHECK(result == WaitResult::NotEqual);
        if (held[op.word] == std::set{op.value}) FUZZ_CHECK(result != WaitResult::NotEqual);
        woken_waits[op.word] += result == WaitResult::Woken ? 1 : 0;
      } else if (op.kind == Kind::Wake) {
        FUZZ_CHECK(outcome.woke && outcome.woke->has_value());
        const std::uint32_t woke = **outcome.woke;
        FUZZ_CHECK(woke <= op.value);
        FUZZ_CHECK(woke <= thread_count - 1);
        reported_wakes[op.word] += woke;
      }
    }
  }
  check_wait_fault(words, wait_fault);
  for (std::size_t w = 0; w < kWords; ++w) {
    FUZZ_CHECK(reported_wakes[w] <= woken_waits[w]);
    FUZZ_CHECK(held[w].contains(words.load(w)));
    check_quiet_word(words, w);
  }
  return 0;
}
