// Properties of the futex's fast paths and argument checks, on one thread:
// random sequences of waits and wakes on a few words make exactly the
// system calls the contract allows (F7: none for a wake with nobody waiting
// or a wait on a differing value, none for a zero or negative timeout), and
// any pointer, aligned or not, null or not, gets a result or a clear error
// and never a crash (F8).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "futex/futex_backend.hpp"
#include "futex/futex_core.hpp"
#include "wrt/platform/futex.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::proptest {
namespace {

using std::chrono::nanoseconds;

constexpr std::uint32_t kWakeAll = std::numeric_limits<std::uint32_t>::max();

#ifdef WRT_PLATFORM_FAULT_INJECTION
// What one step does to one of a few words, each with its own accounting.
enum class Step {
  WaitDiffering,    // wait for a value the word does not hold: NotEqual
  WaitNotPositive,  // wait for its value with a timeout <= 0: TimedOut
  WaitShort,        // wait for its value with 1-200 µs: sleeps, TimedOut
  Wake,             // wake with nobody waiting: 0
  Store,            // give the word a new value
};

template <typename Backend>
void check_system_calls() {
  using Core = detail::FutexCore<Backend>;
  constexpr std::size_t kWords = 3;
  struct alignas(64) Word {
    std::atomic<std::uint32_t> value{0};
    detail::WaiterCount waiters{0};
  };
  std::array<Word, kWords> words;
  fault::reset();
  std::uint64_t sleeps = 0;  // waits that must reach the backend
  const auto steps = *rc::gen::container<std::vector<Step>>(rc::gen::element(
      Step::WaitDiffering, Step::WaitNotPositive, Step::WaitShort, Step::Wake, Step::Store));
  for (const Step step : steps) {
    Word& word = words[*rc::gen::inRange<std::size_t>(0, kWords)];
    const std::uint32_t* addr = detail::word_address(word.value);
    const std::uint32_t value = word.value.load();
    switch (step) {
      case Step::WaitDiffering: {
        const auto timeout = *rc::gen::element<std::optional<nanoseconds>>(
            std::nullopt, nanoseconds(0), nanoseconds(-1), nanoseconds(1'000'000'000),
            nanoseconds::max());
        const std::uint32_t other = value + *rc::gen::inRange<std::uint32_t>(1, kWakeAll);
        RC_ASSERT(Core::wait(addr, other, timeout, word.waiters) == WaitResult::NotEqual);
        break;
      }
      case Step::WaitNotPositive: {
        const auto timeout = nanoseconds(
            -*rc::gen::inRange<std::int64_t>(0, std::numeric_limits<std::int64_t>::max()));
        RC_ASSERT(Core::wait(addr, value, timeout, word.waiters) == WaitResult::TimedOut);
        break;
      }
      case Step::WaitShort: {
        const auto timeout = nanoseconds(*rc::gen::inRange<std::int64_t>(1'000, 200'000));
        RC_ASSERT(Core::wait(addr, value, timeout, word.waiters) == WaitResult::TimedOut);
        ++sleeps;
        break;
      }
      case Step::Wake: {
        const auto count = *rc::gen::element(0u, 1u, 2u, 1000u, kWakeAll);
        RC_ASSERT(Core::wake(addr, count, word.waiters) == 0u);
        break;
      }
      case Step::Store:
        word.value.store(value + 1);
        break;
    }
    RC_ASSERT(word.waiters.load() == 0u);  // a finished wait leaves no trace
    RC_ASSERT(fault::calls(fault::OsCall::FutexWait) == sleeps);
    RC_ASSERT(fault::calls(fault::OsCall::FutexWake) == 0u);
  }
}

RC_GTEST_PROP(FutexAccountingProp, F3_F7_PortableCallsTheBackendOnlyToSleep, ()) {
  check_system_calls<detail::PortableFutexBackend>();
}

#ifdef __linux__
RC_GTEST_PROP(FutexAccountingProp, F3_F7_LinuxCallsFutexOnlyToSleep, ()) {
  check_system_calls<detail::LinuxFutexBackend>();
}
#endif
#endif  // WRT_PLATFORM_FAULT_INJECTION

// F8 through the public API: a word anywhere in a buffer, at any byte
// offset, or null. Aligned: NotEqual for a differing value, TimedOut for
// its own value with a timeout <= 0, and 0 woken; misaligned: Misaligned;
// null: InvalidArgument. Nothing is ever written through the pointer.
RC_GTEST_PROP(FutexAccountingProp, F8_AnyPointerGetsAResultOrAClearError, ()) {
  alignas(64) std::array<std::uint32_t, 16> buffer{};
  for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<std::uint32_t>(i * 7);
  const auto original = buffer;
  const bool null = *rc::gen::inRange(0, 8) == 0;
  const std::size_t offset = *rc::gen::inRange<std::size_t>(0, sizeof buffer - 3);
  const bool aligned = !null && offset % 4 == 0;
  const auto* addr = null ? nullptr
                          : reinterpret_cast<const std::uint32_t*>(
                                reinterpret_cast<const char*>(buffer.data()) + offset);
  // Only an aligned word can be read to pick a value that differs from it.
  const bool same = aligned && *rc::gen::arbitrary<bool>();
  const std::uint32_t expected =
      aligned ? buffer[offset / 4] + (same ? 0 : *rc::gen::inRange<std::uint32_t>(1, kWakeAll))
              : *rc::gen::arbitrary<std::uint32_t>();
  const auto timeout = same
                           ? *rc::gen::element<std::optional<nanoseconds>>(
                                 nanoseconds(0), nanoseconds(-5), nanoseconds::min())
                           : *rc::gen::element<std::optional<nanoseconds>>(
                                 std::nullopt, nanoseconds(0), nanoseconds(-5), nanoseconds::max());
  const auto count = *rc::gen::element(0u, 1u, kWakeAll);
  const auto waited = wait_on_address(addr, expected, timeout);
  const auto woke = wake_address(addr, count);
  if (!aligned) RC_ASSERT(!waited && !woke);
  if (null) {
    RC_ASSERT(waited.error().code() == ErrorCode::InvalidArgument);
    RC_ASSERT(woke.error().code() == ErrorCode::InvalidArgument);
  } else if (!aligned) {
    RC_ASSERT(waited.error().code() == ErrorCode::Misaligned);
    RC_ASSERT(woke.error().code() == ErrorCode::Misaligned);
  } else {
    RC_ASSERT(waited == (same ? WaitResult::TimedOut : WaitResult::NotEqual));
    RC_ASSERT(woke == 0u);
  }
  RC_ASSERT(buffer == original);
}

}  // namespace
}  // namespace wrt::platform::proptest
