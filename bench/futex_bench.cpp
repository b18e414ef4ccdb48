// Futex: the fast paths that must make no system call (F7), against the
// raw futex(2) call they replace, and a two-thread ping-pong through the
// public Futex, raw futex(2), std::atomic wait/notify, a condition variable
// and the portable parking lot.
//
// The portable backend is not what the public API uses on Linux, so it is
// reached as the tests reach it: FutexCore instantiated with
// PortableFutexBackend and a waiter count of the benchmark's own.
#include <pthread.h>
#include <sched.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "bench_support.hpp"
#include "futex/futex_core.hpp"
#include "ping_pong.hpp"
#include "wrt/platform/futex.hpp"

namespace wrt::platform::bench {
namespace {

void BM_FutexWakeNoWaiters_Ours(benchmark::State& state) {
  Futex futex;
  for (auto _ : state) {
    const Result<std::uint32_t> woken = futex.wake_one();
    if (!check(state, woken && *woken == 0, "Futex::wake_one did not return 0")) break;
  }
}
BENCHMARK(BM_FutexWakeNoWaiters_Ours);

void BM_FutexWakeNoWaiters_Raw(benchmark::State& state) {
  alignas(64) std::atomic<std::uint32_t> word{0};
  for (auto _ : state) {
    const long woken = raw_futex(&word, FUTEX_WAKE_PRIVATE, 1);
    if (!check(state, woken == 0, "FUTEX_WAKE did not return 0")) break;
  }
}
BENCHMARK(BM_FutexWakeNoWaiters_Raw);

void BM_FutexWaitNotEqual_Ours(benchmark::State& state) {
  Futex futex(1);
  for (auto _ : state) {
    const Result<WaitResult> waited = futex.wait(0);
    if (!check(state, waited && *waited == WaitResult::NotEqual, "Futex::wait was not NotEqual"))
      break;
  }
}
BENCHMARK(BM_FutexWaitNotEqual_Ours);

void BM_FutexWaitNotEqual_Raw(benchmark::State& state) {
  alignas(64) std::atomic<std::uint32_t> word{1};
  for (auto _ : state) {
    const long rc = raw_futex(&word, FUTEX_WAIT_PRIVATE, 0);
    if (!check(state, rc == -1 && errno == EAGAIN, "FUTEX_WAIT did not fail with EAGAIN")) break;
  }
}
BENCHMARK(BM_FutexWaitNotEqual_Raw);

// Ping-pong channels: a 32-bit value two threads take turns to advance.
// publish() stores a value and wakes the other thread; wait_while(v)
// returns once the value differs from v. Both return false on an error.

// The public API.
struct OursChannel {
  Futex futex;

  std::uint32_t load() const { return futex.word().load(); }
  bool publish(std::uint32_t value) {
    futex.word().store(value);
    return futex.wake_one().has_value();
  }
  bool wait_while(std::uint32_t value) {
    while (load() == value)
      if (!futex.wait(value)) return false;
    return true;
  }
};

// FutexCore over one backend, with its own waiter accounting.
template <typename Backend>
struct CoreChannel {
  using Core = detail::FutexCore<Backend>;
  alignas(64) std::atomic<std::uint32_t> word{0};
  detail::WaiterCount waiters{0};

  const std::uint32_t* addr() const { return detail::word_address(word); }
  std::uint32_t load() const { return word.load(); }
  bool publish(std::uint32_t value) {
    word.store(value);
    return Core::wake(addr(), 1, waiters).has_value();
  }
  bool wait_while(std::uint32_t value) {
    while (load() == value)
      if (!Core::wait(addr(), value, std::nullopt, waiters)) return false;
    return true;
  }
};
using PortableChannel = CoreChannel<detail::PortableFutexBackend>;

// futex(2) as written by hand: wake after every store, sleep while equal.
struct RawFutexChannel {
  alignas(64) std::atomic<std::uint32_t> word{0};

  std::uint32_t load() const { return word.load(); }
  bool publish(std::uint32_t value) {
    word.store(value);
    return raw_futex(&word, FUTEX_WAKE_PRIVATE, 1) >= 0;
  }
  bool wait_while(std::uint32_t value) {
    while (load() == value)
      if (raw_futex(&word, FUTEX_WAIT_PRIVATE, value) == -1 && errno != EAGAIN && errno != EINTR)
        return false;
    return true;
  }
};

// C++20 std::atomic wait/notify (libstdc++ spins briefly, then futex).
struct AtomicWaitChannel {
  alignas(64) std::atomic<std::uint32_t> word{0};

  std::uint32_t load() const { return word.load(); }
  bool publish(std::uint32_t value) {
    word.store(value);
    word.notify_one();
    return true;
  }
  bool wait_while(std::uint32_t value) {
    word.wait(value);
    return true;
  }
};

// A mutex-protected value and a condition variable.
struct CondVarChannel {
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::uint32_t value = 0;

  std::uint32_t load() const {
    const std::lock_guard lock(mutex);
    return value;
  }
  bool publish(std::uint32_t new_value) {
    {
      const std::lock_guard lock(mutex);
      value = new_value;
    }
    changed.notify_one();
    return true;
  }
  bool wait_while(std::uint32_t old_value) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return value != old_value; });
    return true;
  }
};

BENCHMARK_TEMPLATE(BM_PingPong, OursChannel)->Apply(ping_pong_runs);
BENCHMARK_TEMPLATE(BM_PingPong, RawFutexChannel)->Apply(ping_pong_runs);
BENCHMARK_TEMPLATE(BM_PingPong, AtomicWaitChannel)->Apply(ping_pong_runs);
BENCHMARK_TEMPLATE(BM_PingPong, CondVarChannel)->Apply(ping_pong_runs);
BENCHMARK_TEMPLATE(BM_PingPong, PortableChannel)->Apply(ping_pong_runs);

}  // namespace
}  // namespace wrt::platform::bench
