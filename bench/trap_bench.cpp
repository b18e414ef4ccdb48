// Traps (section T), side by side in one run:
// - the round trip of one trap (fault -> catch_traps returns) against a raw
//   sigsetjmp / SIGSEGV / siglongjmp loop with its own handler, as a
//   runtime without the library would write it;
// - an interpreter-like loop of 32-bit loads at data-dependent addresses
//   with an explicit bounds check per access, against the same loop with
//   no check, relying on the guard and traps (what the feature buys).
#include <setjmp.h>
#include <signal.h>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "bench_support.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"
#include "wrt/platform/trap.hpp"

namespace wrt::platform::bench {
namespace {

// A memory of one committed page, the second page reserved but not
// committed (a load there traps), or nullopt.
std::optional<MmapPageAllocator> one_page_memory() {
  MmapPageAllocator a({.maximum_pages = 2, .guard_bytes = kWasmPageSize});
  if (!a.allocate(1, 2)) return std::nullopt;
  return a;
}

std::uint32_t load32(const std::byte* p) {
  return *reinterpret_cast<const volatile std::uint32_t*>(p);
}

void BM_TrapRoundTrip_Ours(benchmark::State& state) {
  auto memory = one_page_memory();
  if (!check(state, memory && install_trap_handler(), "allocate or install failed")) return;
  const std::byte* const uncommitted = memory->base() + kWasmPageSize;
  std::int64_t traps = 0;
  for (auto _ : state) {
    auto trap = catch_traps([&] { (void)load32(uncommitted); });
    traps += trap && trap->address == uncommitted;
  }
  check(state, traps == state.iterations(), "an access did not trap at the right address");
}
BENCHMARK(BM_TrapRoundTrip_Ours);

// The raw baseline: its own SIGSEGV handler, installed for the benchmark
// only (the library's, if any, is put back afterwards).
sigjmp_buf raw_target;
void raw_handler(int, siginfo_t*, void*) { siglongjmp(raw_target, 1); }

// One raw round trip: true when the load faulted and the handler jumped back.
// savemask = 1: the handler runs with SIGSEGV blocked; the jump must unblock
// it, or the next fault kills the process.
[[gnu::noinline]] bool raw_fault_once(const std::byte* page) {
  if (sigsetjmp(raw_target, 1) != 0) return true;
  (void)load32(page);
  return false;
}

void BM_TrapRoundTrip_RawSigsetjmp(benchmark::State& state) {
  std::byte* const page = raw_map(kWasmPageSize, PROT_NONE);
  struct sigaction raw {
  }, previous{};
  raw.sa_sigaction = raw_handler;
  raw.sa_flags = SA_SIGINFO;
  sigemptyset(&raw.sa_mask);
  if (!check(state, page != nullptr && sigaction(SIGSEGV, &raw, &previous) == 0,
             "mmap or sigaction failed"))
    return;
  std::int64_t traps = 0;
  for (auto _ : state) traps += raw_fault_once(page);
  sigaction(SIGSEGV, &previous, nullptr);
  munmap(page, kWasmPageSize);
  check(state, traps == state.iterations(), "an access did not fault");
}
BENCHMARK(BM_TrapRoundTrip_RawSigsetjmp);

// The interpreter loop: kLoads 32-bit loads at pseudo-random in-bounds
// addresses of a 16-page memory (indices precomputed, so both variants do
// the same memory work), summed.
constexpr std::uint32_t kPages = 16;
constexpr std::size_t kLoads = 1 << 16;

struct LoadLoop {
  std::optional<MmapPageAllocator> memory;
  std::vector<std::uint32_t> addresses;
  std::uint64_t expected_sum = 0;

  LoadLoop() {
    MmapPageAllocator a({.maximum_pages = kPages, .guard_bytes = kWasmPageSize});
    if (!a.allocate(kPages, kPages)) return;
    auto* words = reinterpret_cast<std::uint32_t*>(a.base());
    for (std::size_t i = 0; i < a.committed_bytes() / 4; ++i)
      words[i] = static_cast<std::uint32_t>(i * 2654435761u);
    std::mt19937 random(42);
    std::uniform_int_distribution<std::uint32_t> pick(
        0, static_cast<std::uint32_t>(a.committed_bytes() - 4));
    for (std::size_t i = 0; i < kLoads; ++i) {
      addresses.push_back(pick(random));
      expected_sum += load32(a.base() + addresses.back());
    }
    memory = std::move(a);
  }
};

void BM_InterpreterLoads_BoundsChecked(benchmark::State& state) {
  LoadLoop loop;
  if (!check(state, loop.memory.has_value(), "allocate failed")) return;
  const std::byte* const base = loop.memory->base();
  std::size_t byte_length = loop.memory->committed_bytes();
  benchmark::DoNotOptimize(byte_length);  // read from the instance at run time
  std::uint64_t sum = 0;
  bool out_of_bounds = false;
  for (auto _ : state) {
    sum = 0;
    for (const std::uint32_t address : loop.addresses) {
      if (std::uint64_t{address} + 4 > byte_length) {  // i32.load's check
        out_of_bounds = true;
        break;
      }
      sum += load32(base + address);
    }
  }
  check(state, !out_of_bounds && sum == loop.expected_sum, "wrong sum");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kLoads));
}
BENCHMARK(BM_InterpreterLoads_BoundsChecked);

void BM_InterpreterLoads_GuardedByTraps(benchmark::State& state) {
  LoadLoop loop;
  if (!check(state, loop.memory.has_value() && install_trap_handler(),
             "allocate or install failed"))
    return;
  const std::byte* const base = loop.memory->base();
  std::uint64_t sum = 0;
  std::optional<Trap> trap;
  for (auto _ : state) {
    trap = catch_traps([&] {
      sum = 0;
      for (const std::uint32_t address : loop.addresses) sum += load32(base + address);
    });
    if (trap) break;
  }
  check(state, !trap && sum == loop.expected_sum, "wrong sum or a trap");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kLoads));
}
BENCHMARK(BM_InterpreterLoads_GuardedByTraps);

}  // namespace
}  // namespace wrt::platform::bench
