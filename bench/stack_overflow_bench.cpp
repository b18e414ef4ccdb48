// S4: the round trip of a stack-overflow trap (unbounded recursion ->
// catch_traps returns Trap{StackOverflow}) against a raw loop a runtime
// would write without the library: its own alternate signal stack, an
// SA_ONSTACK SIGSEGV handler and sigsetjmp / siglongjmp. Both run on a
// thread with a 64 KiB stack, so each round trip recurses through the same
// 64 KiB; wall time (the work is on that thread, the benchmark's waits).
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>

#include <cstdint>
#include <vector>

#include "bench_support.hpp"
#include "wrt/platform/trap.hpp"

namespace wrt::platform::bench {
namespace {

constexpr std::size_t kStackBytes = 64 * 1024;

// Never set: keeps the compiler from proving the recursion infinite.
volatile bool g_never = false;

[[gnu::noinline]] int recurse_forever(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (g_never) return frame[0];
  return recurse_forever(depth + 1) + frame[depth % 256];
}

using Loop = void (*)(benchmark::State&);

// Runs `loop(state)` on a new thread with a kStackBytes stack.
void on_small_stack(benchmark::State& state, Loop loop) {
  struct Call {
    benchmark::State* state;
    Loop loop;
  } call{&state, loop};
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, kStackBytes);
  pthread_t thread;
  const bool started = pthread_create(
                           &thread, &attributes,
                           [](void* p) -> void* {
                             auto* c = static_cast<Call*>(p);
                             c->loop(*c->state);
                             return nullptr;
                           },
                           &call) == 0;
  pthread_attr_destroy(&attributes);
  if (check(state, started, "pthread_create failed")) pthread_join(thread, nullptr);
}

void ours(benchmark::State& state) {
  if (!check(state, install_trap_handler().has_value(), "install failed")) return;
  std::int64_t overflows = 0;
  for (auto _ : state) {
    auto trap = catch_traps([] { (void)recurse_forever(0); });
    overflows += trap && trap->kind == TrapKind::StackOverflow;
  }
  check(state, overflows == state.iterations(), "a recursion was not a stack overflow trap");
}

void BM_StackOverflowTrap_Ours(benchmark::State& state) { on_small_stack(state, ours); }
BENCHMARK(BM_StackOverflowTrap_Ours)->UseRealTime();

// The raw baseline, installed for the benchmark only (the library's handler,
// if any, is put back afterwards).
sigjmp_buf raw_target;
void raw_handler(int, siginfo_t*, void*) { siglongjmp(raw_target, 1); }

// savemask = 1: the handler runs with SIGSEGV blocked; the jump unblocks it.
[[gnu::noinline]] bool raw_overflow_once() {
  if (sigsetjmp(raw_target, 1) != 0) return true;
  (void)recurse_forever(0);
  return false;
}

void raw(benchmark::State& state) {
  std::vector<char> alternate(kStackBytes);
  stack_t stack{};
  stack.ss_sp = alternate.data();
  stack.ss_size = alternate.size();
  struct sigaction action {
  }, previous{};
  action.sa_sigaction = raw_handler;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  if (!check(state,
             sigaltstack(&stack, nullptr) == 0 && sigaction(SIGSEGV, &action, &previous) == 0,
             "sigaltstack or sigaction failed"))
    return;
  std::int64_t overflows = 0;
  for (auto _ : state) overflows += raw_overflow_once();
  sigaction(SIGSEGV, &previous, nullptr);
  stack.ss_flags = SS_DISABLE;
  sigaltstack(&stack, nullptr);
  check(state, overflows == state.iterations(), "a recursion did not overflow");
}

void BM_StackOverflowTrap_RawSigaltstack(benchmark::State& state) { on_small_stack(state, raw); }
BENCHMARK(BM_StackOverflowTrap_RawSigaltstack)->UseRealTime();

}  // namespace
}  // namespace wrt::platform::bench
