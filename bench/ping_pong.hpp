// The two-thread ping-pong every wait/wake channel is measured with
// (futex_bench.cpp, linear_memory_bench.cpp). A channel provides load(),
// publish(value) (store and wake the other thread) and wait_while(value)
// (return once the value differs); both return false on an error.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <array>
#include <cstdint>
#include <optional>
#include <thread>

#include "bench_support.hpp"

namespace wrt::platform::bench {

// The CPUs the two ping-pong threads run on: the first two this process
// may use when `cpus` is 2, the first one for both when it is 1 (or when
// the process may use only one). Left to the scheduler, the partner
// sometimes shares the benchmark thread's CPU and sometimes not, and on a VM
// the two cases differ by 10x.
inline std::optional<std::array<int, 2>> ping_pong_cpus(std::int64_t cpus) {
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

inline bool pin_current_thread(int cpu) {
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
inline void ping_pong_runs(benchmark::internal::Benchmark* b) {
  b->ArgName("cpus")->Arg(1)->Arg(2)->UseRealTime()->Repetitions(15)->MinTime(0.02);
}

}  // namespace wrt::platform::bench
