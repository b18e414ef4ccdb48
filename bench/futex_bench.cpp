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

// The CPUs the two ping-pong threads run on: the first two this process
// may use when `cpus` is 2, the first one for both when it is 1 (or when
// the process may use only one). Left to the scheduler, the partner
// sometimes shares the benchmark thread's CPU and sometimes not, and on a VM
// the two cases differ by 10x.
std::optional<std::array<int, 2>> ping_pong_cpus(std::int64_t cpus) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return std::nullopt;
  std::array<int, 2> picked{-1, -1};
  std::size_t found = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) picked[found++] = cpu;
  if (found == 0) return std::nullopt;
  if (cpus == 1 || found == 1) picked[1] = picked[0];
  return picked;
}

bool pin_current_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// Keeps the benchmark thread on one CPU while it lives and gives it back
// the CPUs it had, for the benchmarks that run after.
class PinnedThread {
 public:
  explicit PinnedThread(int cpu) {
    saved_ = pthread_getaffinity_np(pthread_self(), sizeof previous_, &previous_) == 0;
    pinned_ = saved_ && pin_current_thread(cpu);
  }
  ~PinnedThread() {
    if (saved_) pthread_setaffinity_np(pthread_self(), sizeof previous_, &previous_);
  }
  PinnedThread(const PinnedThread&) = delete;
  PinnedThread& operator=(const PinnedThread&) = delete;
  bool pinned() const { return pinned_; }

 private:
  cpu_set_t previous_{};
  bool saved_ = false;
  bool pinned_ = false;
};

// One iteration is one round trip: the benchmark thread advances the value
// to an odd number, the partner answers with the next even one. The partner
// counts its answers, so a lost or doubled turn fails the benchmark.
// range(0): the threads share one CPU (1) or run on two (2).
template <typename Channel>
void BM_PingPong(benchmark::State& state) {
  constexpr std::uint32_t kStop = UINT32_MAX;  // never reached by counting
  const auto cpus = ping_pong_cpus(state.range(0));
  if (!check(state, cpus.has_value(), "sched_getaffinity failed")) return;
  if ((*cpus)[0] == (*cpus)[1] && state.range(0) == 2) state.SetLabel("one CPU only: shared");
  const PinnedThread pinned((*cpus)[0]);
  if (!check(state, pinned.pinned(), "cannot pin the benchmark thread")) return;
  Channel channel;
  std::int64_t answers = 0;
  bool partner_ok = true;
  std::thread partner([&] {
    partner_ok = pin_current_thread((*cpus)[1]);
    for (std::uint32_t last = 0; partner_ok;) {
      partner_ok = channel.wait_while(last);
      const std::uint32_t seen = channel.load();
      if (!partner_ok || seen == kStop) break;
      last = seen + 1;
      ++answers;
      partner_ok = channel.publish(last);
    }
    // On an error, free the benchmark thread from its wait: its check of
    // the value then fails.
    if (!partner_ok) channel.publish(kStop - 1);
  });

  std::uint32_t value = 0;
  bool ok = true;
  for (auto _ : state) {
    ok = channel.publish(value + 1) && channel.wait_while(value + 1);
    value += 2;
    if (!ok || channel.load() != value) break;
  }
  ok = ok && channel.load() == value;
  channel.publish(kStop);
  partner.join();
  check(state, ok && partner_ok && answers == state.iterations(),
        "ping-pong lost or repeated a turn, or a wait/wake failed");
}
// Wall time is the measure, and on a shared machine it depends on when the
// other thread next gets its CPU: many short repetitions, which random
// interleaving spreads over the whole run, give every channel the same mix
// of quiet and busy moments and a stable median.
void ping_pong_runs(benchmark::internal::Benchmark* b) {
  b->ArgName("cpus")->Arg(1)->Arg(2)->UseRealTime()->Repetitions(15)->MinTime(0.02);
}
BENCHMARK_TEMPLATE(BM_PingPong, OursChannel)->Apply(ping_pong_runs);
BENCHMARK_TEMPLATE(BM_PingPong, RawFutexChannel)->Apply(ping_pong_runs);
BENCHMARK_TEMPLATE(BM_PingPong, AtomicWaitChannel)->Apply(ping_pong_runs);
BENCHMARK_TEMPLATE(BM_PingPong, CondVarChannel)->Apply(ping_pong_runs);
BENCHMARK_TEMPLATE(BM_PingPong, PortableChannel)->Apply(ping_pong_runs);

}  // namespace
}  // namespace wrt::platform::bench
