// Many tenants in one process (section S) under a fuzzer-chosen sequence:
// up to kTenants shared LinearMemory tenants, each over a PooledPageAllocator
// (slots of one MemoryPool, reused from tenant to tenant) or an
// MmapPageAllocator, are created, grown, written, probed and destroyed, and
// wait for and notify each other, on two worker threads.
// The model knows which tenant owns which address range and every byte each
// tenant holds. It checks:
// - isolation (S7, M2): a new tenant reads zero everywhere, whatever the
//   slot's earlier tenant wrote; a tenant's bytes change only by its writes;
// - the registry (S1, S9): an address inside a live tenant's span is
//   found with exactly that tenant's range and committed end (from the
//   thread that created it and from the worker); an address of a destroyed
//   tenant's former range is found only when another live tenant owns it;
// - traps (T1, T2): inside catch_traps, a load past a tenant's committed end
//   (in its span) traps with exactly that address, one below it returns the
//   model's byte;
// - waiters (W8, S7): a worker waiting on one tenant's word is woken by a
//   notify on that word only: notifies at the same offset of every other
//   tenant (including one now in a slot the waiter's tenant used earlier)
//   wake nobody and return 0.
// A fault the handler does not take as a trap goes to libFuzzer's handler
// and is a finding, as is any wait on the worker past its deadline.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "check.hpp"
#include "trap/fault_registry.hpp"
#include "workers.hpp"
#include "wrt/platform/linear_memory.hpp"
#include "wrt/platform/memory_pool.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"
#include "wrt/platform/trap.hpp"

using namespace wrt::platform;

namespace {

constexpr std::size_t kTenants = 4;
constexpr std::uint32_t kMaxPages = 2;
constexpr std::size_t kGuard = kWasmPageSize;
// Every tenant's span: its reservation (kMaxPages) plus its guard. Pool
// slots are exactly that far apart; mmap memories declare kMaxPages too.
constexpr std::size_t kSpan = kMaxPages * kWasmPageSize + kGuard;

MemoryPool& pool() {
  static MemoryPool pool = [] {
    auto created =
        MemoryPool::create({.slots = 3, .maximum_pages = kMaxPages, .guard_bytes = kGuard});
    FUZZ_CHECK(created.has_value());
    return std::move(*created);
  }();
  return pool;
}

// Two workers (fuzz/workers.hpp: started once, a finding when a job hangs):
// the driver runs on the first (under ASan a trap on the main thread makes
// the sanitizer read /proc/self/maps, which would be most of the time), and
// the second probes and waits as a thread that did not create the tenants.
fuzz::Worker& driver_thread() { return fuzz::workers<2>()[0]; }
fuzz::Worker& worker() { return fuzz::workers<2>()[1]; }

struct Tenant {
  std::optional<LinearMemory<PooledPageAllocator>> pooled;
  std::optional<LinearMemory<MmapPageAllocator>> mapped;
  std::vector<std::byte> bytes;  // the model: every committed byte

  bool live() const { return pooled || mapped; }
  template <typename F>
  decltype(auto) visit(F&& f) {
    return pooled ? f(*pooled) : f(*mapped);
  }
  std::byte* data() {
    return visit([](auto& m) { return m.data(); });
  }
  std::uintptr_t begin() { return reinterpret_cast<std::uintptr_t>(data()); }
};

// What the registry says about `address`, checked against the model: the
// live tenant whose span holds it, or nobody.
void check_registry(std::array<Tenant, kTenants>& tenants, std::uintptr_t address) {
  const auto found = trap::find_live(address);
  for (Tenant& t : tenants) {
    if (!t.live() || address < t.begin() || address >= t.begin() + kSpan) continue;
    FUZZ_CHECK(found.has_value());
    FUZZ_CHECK(found->begin == t.begin());
    FUZZ_CHECK(found->end == t.begin() + kSpan);
    FUZZ_CHECK(found->committed_end == t.begin() + t.bytes.size());
    return;
  }
  FUZZ_CHECK(!found.has_value());
}

// A load at `offset` of tenant `t`'s span inside catch_traps: the model's
// byte when committed, else a trap at exactly that address.
void probe(Tenant& t, std::size_t offset) {
  const volatile std::byte* const at = t.data() + offset;
  std::byte loaded{};
  const auto trap = catch_traps([&] { loaded = *at; });
  if (offset < t.bytes.size()) {
    FUZZ_CHECK(!trap.has_value());
    FUZZ_CHECK(loaded == t.bytes[offset]);
  } else {
    FUZZ_CHECK(trap.has_value());
    FUZZ_CHECK(trap->kind == TrapKind::MemoryOutOfBounds);
    FUZZ_CHECK(trap->address == const_cast<const std::byte*>(at));
  }
}

class Driver {
 public:
  void run(FuzzedDataProvider& in) {
    while (in.remaining_bytes() > 0) {
      Tenant& t = tenants_[in.ConsumeIntegralInRange<std::size_t>(0, kTenants - 1)];
      switch (in.ConsumeIntegralInRange<int>(0, 6)) {
        case 0:
          create(t, in.ConsumeBool(), in.ConsumeIntegralInRange<std::uint32_t>(0, kMaxPages));
          break;
        case 1:
          grow(t, in.ConsumeIntegralInRange<std::uint32_t>(0, kMaxPages));
          break;
        case 2:
          write(t, in);
          break;
        case 3:
          probe_span(t, in.ConsumeIntegralInRange<std::size_t>(0, kSpan - 1), in.ConsumeBool());
          break;
        case 4:
          probe_former(in);
          break;
        case 5:
          wait_and_notify(t, in);
          break;
        default:
          destroy(t);
          break;
      }
    }
    for (Tenant& t : tenants_) destroy(t);
    FUZZ_CHECK(pool().available_slots() == pool().slots());
    for (const std::uintptr_t former : former_) FUZZ_CHECK(!trap::find_live(former).has_value());
  }

 private:
  void create(Tenant& t, bool pooled, std::uint32_t pages) {
    if (t.live()) return;
    const MemoryType type{.initial_pages = pages, .maximum_pages = kMaxPages, .shared = true};
    if (pooled) {
      auto slot = pool().acquire();
      const auto pooled_live = std::count_if(tenants_.begin(), tenants_.end(),
                                             [](const Tenant& o) { return o.pooled.has_value(); });
      FUZZ_CHECK(slot.has_value() == (pooled_live < pool().slots()));
      if (!slot) {
        FUZZ_CHECK(slot.error().code() == ErrorCode::CapacityExceeded);
        return;
      }
      auto memory = LinearMemory<PooledPageAllocator>::create(std::move(*slot), type);
      FUZZ_CHECK(memory.has_value());
      t.pooled.emplace(std::move(*memory));
    } else {
      auto memory = LinearMemory<MmapPageAllocator>::create(
          MmapPageAllocator({.maximum_pages = kMaxPages, .guard_bytes = kGuard}), type);
      FUZZ_CHECK(memory.has_value());
      t.mapped.emplace(std::move(*memory));
    }
    t.bytes.assign(std::size_t{pages} * kWasmPageSize, std::byte{0});
    // Isolation: whatever the slot's earlier tenant left, this one reads zero.
    // Compared in place with memcmp (no other thread touches the tenant now):
    // read() on a shared memory copies byte by byte with relaxed atomics,
    // and the fuzzer's per-byte comparison hooks would make a loop most of
    // the harness's time.
    FUZZ_CHECK(t.bytes.empty() || std::memcmp(t.data(), t.bytes.data(), t.bytes.size()) == 0);
    check_registry(tenants_, t.begin());
  }

  void grow(Tenant& t, std::uint32_t delta) {
    if (!t.live()) return;
    const std::size_t pages = t.bytes.size() / kWasmPageSize;
    const auto grown = t.visit([&](auto& m) { return m.grow(delta); });
    FUZZ_CHECK(grown.has_value() == (pages + delta <= kMaxPages));
    if (!grown) return;
    FUZZ_CHECK(*grown == pages);
    t.bytes.resize((pages + delta) * kWasmPageSize, std::byte{0});
    check_registry(tenants_, t.begin() + t.bytes.size() - (delta == 0 ? 0 : 1));
  }

  void write(Tenant& t, FuzzedDataProvider& in) {
    if (!t.live() || t.bytes.empty()) return;
    const std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, t.bytes.size() - 1);
    // Up to one OS page: a shared memory's write() goes byte by byte.
    const std::size_t length =
        in.ConsumeIntegralInRange<std::size_t>(1, std::min<std::size_t>(t.bytes.size() - at, 4096));
    const std::vector<std::byte> value(length,
                                       std::byte{in.ConsumeIntegralInRange<std::uint8_t>(1, 255)});
    FUZZ_CHECK(t.visit([&](auto& m) { return m.write(at, value).has_value(); }));
    std::copy(value.begin(), value.end(), t.bytes.begin() + static_cast<std::ptrdiff_t>(at));
  }

  // On this thread or on the worker (registry and handler from a thread
  // that did not create the tenant).
  void probe_span(Tenant& t, std::size_t offset, bool on_worker) {
    if (!t.live()) return;
    if (!on_worker) {
      check_registry(tenants_, t.begin() + offset);
      probe(t, offset);
      return;
    }
    worker().start([&] {
      check_registry(tenants_, t.begin() + offset);
      probe(t, offset);
    });
    worker().finish();
  }

  // An address a destroyed tenant used: only a live tenant now owning it
  // may be found there.
  void probe_former(FuzzedDataProvider& in) {
    if (former_.empty()) return;
    const std::uintptr_t begin =
        former_[in.ConsumeIntegralInRange<std::size_t>(0, former_.size() - 1)];
    check_registry(tenants_, begin + in.ConsumeIntegralInRange<std::size_t>(0, kSpan - 1));
  }

  // The worker waits on a word of `t`; every other live tenant notifies at
  // the same offset (nobody woken), then `t` does (the worker, and only it).
  void wait_and_notify(Tenant& t, FuzzedDataProvider& in) {
    if (!t.live() || t.bytes.size() < 4) return;
    const std::size_t offset =
        4 * in.ConsumeIntegralInRange<std::size_t>(0, t.bytes.size() / 4 - 1);
    std::uint32_t value = 0;
    std::memcpy(&value, t.bytes.data() + offset, 4);
    const void* const word = t.data() + offset;
    std::optional<Result<WaitResult>> waited;
    worker().start(
        [&] { waited = t.visit([&](auto& m) { return m.atomic_wait32(offset, value, -1); }); });
    const auto deadline = std::chrono::steady_clock::now() + fuzz::kPatience;
    while (detail::atomic_waiters_at(word) == 0) {
      FUZZ_CHECK(std::chrono::steady_clock::now() < deadline);
      std::this_thread::yield();
    }
    for (Tenant& other : tenants_) {
      if (&other == &t || !other.live() || other.bytes.size() < offset + 4) continue;
      const auto woken = other.visit([&](auto& m) { return m.atomic_notify(offset, UINT32_MAX); });
      FUZZ_CHECK(woken.has_value() && *woken == 0);
    }
    FUZZ_CHECK(detail::atomic_waiters_at(word) == 1);
    const auto woken = t.visit([&](auto& m) { return m.atomic_notify(offset, UINT32_MAX); });
    FUZZ_CHECK(woken.has_value() && *woken == 1);
    worker().finish();
    FUZZ_CHECK(waited.has_value() && waited->has_value() && **waited == WaitResult::Woken);
  }

  void destroy(Tenant& t) {
    if (!t.live()) return;
    former_.push_back(t.begin());
    t.pooled.reset();
    t.mapped.reset();
    t.bytes.clear();
    check_registry(tenants_, former_.back());
  }

  std::array<Tenant, kTenants> tenants_;
  std::vector<std::uintptr_t> former_;  // begins of destroyed tenants' spans
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool installed = install_trap_handler().has_value();
  FUZZ_CHECK(installed);
  FuzzedDataProvider in(data, size);
  driver_thread().start([&] { Driver().run(in); });
  driver_thread().finish();
  return 0;
}
