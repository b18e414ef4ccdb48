// Model-based (rc::state) test of LinearMemory's waiter queue (docs/SPEC.md,
// W5-W8). The model is the contract's waiter list: one FIFO list of
// (waiter, address, width) in arrival order and the bytes of the words.
// Commands start waiters (wait32/wait64 on a few addresses, each known to be
// queued before the next command), store values, wait with timeout 0,
// notify with random counts, and grow. The model predicts every result:
// for a notify, its count and exactly which waiters wake, in order. Every
// wait for a waiter thread has a deadline (kPatience) whose miss fails the
// property with a message; a waiter that no notify frees ends the binary.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "deadline_test_support.hpp"
#include "linear_memory_model.hpp"
#include "wrt/platform/linear_memory.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

namespace wrt::platform::proptest {
namespace {

using testing_deadline::eventually;
using testing_deadline::kPatience;

constexpr std::uint32_t kMaximumPages = 3;
// wait64 uses 0, 8, 16; wait32 also 4 (inside the word at 0, yet another
// address: its own queue).
constexpr std::array<std::uint64_t, 4> kAddresses = {0, 4, 8, 16};
constexpr std::size_t kModelBytes = 24;
constexpr std::size_t kMaxWaiters = 8;

struct ModelWaiter {
  int id;
  std::uint64_t address;
  bool wide;
};

struct WaiterModel {
  std::array<std::uint8_t, kModelBytes> bytes{};  // the first bytes of the memory
  std::vector<ModelWaiter> queue;                 // arrival order
  std::uint32_t pages = 1;
  int next_id = 0;

  std::uint64_t value(std::uint64_t address, bool wide) const {
    return wide ? models::load_le<std::uint64_t>(bytes, address)
                : models::load_le<std::uint32_t>(bytes, address);
  }
  std::uint32_t queued_at(std::uint64_t address) const {
    std::uint32_t n = 0;
    for (const ModelWaiter& w : queue) n += w.address == address ? 1 : 0;
    return n;
  }
};

// One real waiter on its own thread.
struct RealWaiter {
  std::atomic<bool> done{false};
  std::optional<Result<WaitResult>> result;
  std::thread thread;
};

struct WaiterSut {
  std::optional<LinearMemory<MmapPageAllocator>> memory;
  std::vector<std::unique_ptr<RealWaiter>> waiters;  // index = model id

  WaiterSut() {
    auto created = LinearMemory<MmapPageAllocator>::create(
        MmapPageAllocator(PageAllocatorConfig{kMaximumPages, 0}),
        MemoryType{1, kMaximumPages, true});
    RC_ASSERT(created.has_value());
    memory.emplace(std::move(*created));
  }
  WaiterSut(const WaiterSut&) = delete;
  WaiterSut& operator=(const WaiterSut&) = delete;
  // Frees every waiter a failed case left queued, then joins.
  ~WaiterSut() {
    for (auto& w : waiters) {
      testing_deadline::free_or_abort([&] { return w->done.load(); },
                                      [&] {
                                        for (const std::uint64_t a : kAddresses)
                                          (void)memory->atomic_notify(a, UINT32_MAX);
                                      },
                                      "a LinearMemory waiter");
      w->thread.join();
    }
  }

  std::uint32_t queued_at(std::uint64_t address) const {
    return detail::atomic_waiters_at(memory->data() + address);
  }
  // Waits (for at most kPatience) until `n` waiters are queued on
  // `address`; false at once if the newest waiter returned instead of
  // queueing.
  bool eventually_queued(std::uint64_t address, std::uint32_t n) const {
    eventually([&] { return queued_at(address) == n || waiters.back()->done.load(); });
    return queued_at(address) == n;
  }
  // Waits (for at most kPatience) until `n` of the waiters in `queue` have
  // returned.
  bool eventually_done(const std::vector<ModelWaiter>& queue, std::size_t n) const {
    return eventually([&] {
      std::size_t returned = 0;
      for (const ModelWaiter& w : queue)
        returned += waiters[static_cast<std::size_t>(w.id)]->done.load();
      return returned >= n;
    });
  }
};

using WaiterCommand = rc::state::Command<WaiterModel, WaiterSut>;

// Fails the case with `why`, written to stderr at once as well: a waiter the
// failure leaves queued for good ends the binary (~WaiterSut) before
// RapidCheck could report the case.
[[noreturn]] void fail_case(const std::string& why) {
  std::fprintf(stderr, "LinearMemoryWaitersModel: %s\n", why.c_str());
  RC_FAIL(why);
}

// After every command: each queue holds what the model says, and no waiter
// the model still lists has returned.
void check_queues(const WaiterModel& m, const WaiterSut& sut) {
  for (const std::uint64_t a : kAddresses) RC_ASSERT(sut.queued_at(a) == m.queued_at(a));
  for (const ModelWaiter& w : m.queue)
    RC_ASSERT(!sut.waiters[static_cast<std::size_t>(w.id)]->done.load());
}

rc::Gen<std::uint64_t> address_for(bool wide) {
  return wide ? rc::gen::element<std::uint64_t>(0, 8, 16) : rc::gen::elementOf(kAddresses);
}

// A waiter that blocks (expected = the current value) on its own thread.
struct StartWaiter : WaiterCommand {
  bool wide = *rc::gen::arbitrary<bool>();
  std::uint64_t address = *address_for(wide);

  void checkPreconditions(const WaiterModel& m) const override {
    RC_PRE(m.queue.size() < kMaxWaiters);
  }
  void apply(WaiterModel& m) const override { m.queue.push_back({m.next_id++, address, wide}); }
  void run(const WaiterModel& m, WaiterSut& sut) const override {
    auto waiter = std::make_unique<RealWaiter>();
    RealWaiter* w = waiter.get();
    const std::uint64_t expected = m.value(address, wide);
    auto& memory = *sut.memory;
    sut.waiters.push_back(std::move(waiter));
    w->thread = std::thread([w, &memory, a = address, wide = wide, expected] {
      w->result = wide ? memory.atomic_wait64(a, expected, -1)
                       : memory.atomic_wait32(a, static_cast<std::uint32_t>(expected), -1);
      w->done.store(true);
    });
    if (!sut.eventually_queued(address, m.queued_at(address) + 1))
      fail_case("the new waiter returned, or was not queued within " +
                std::to_string(kPatience.count()) + " s");
    WaiterModel next = m;
    apply(next);
    check_queues(next, sut);
  }
  void show(std::ostream& os) const override {
    os << (wide ? "wait64(" : "wait32(") << address << ", current value, forever)";
  }
};

// A wait that returns at once: on a differing value (either half for
// wait64) NotEqual, on an equal one with timeout 0 TimedOut.
struct ImmediateWait : WaiterCommand {
  bool wide = *rc::gen::arbitrary<bool>();
  std::uint64_t address = *address_for(wide);
  bool differ = *rc::gen::arbitrary<bool>();
  unsigned bit = *rc::gen::inRange(0u, wide ? 64u : 32u);

  void run(const WaiterModel& m, WaiterSut& sut) const override {
    const std::uint64_t value = m.value(address, wide);
    const std::uint64_t expected = differ ? value ^ (std::uint64_t{1} << bit) : value;
    const auto result =
        wide ? sut.memory->atomic_wait64(address, expected, 0)
             : sut.memory->atomic_wait32(address, static_cast<std::uint32_t>(expected), 0);
    RC_ASSERT(result.has_value());
    RC_ASSERT(*result == (differ ? WaitResult::NotEqual : WaitResult::TimedOut));
    check_queues(m, sut);
  }
  void show(std::ostream& os) const override {
    os << (wide ? "wait64(" : "wait32(") << address << (differ ? ", bit " : ", equal")
       << (differ ? std::to_string(bit) : "") << ", timeout 0)";
  }
};

// A guest's atomic store: wakes nobody.
struct Store : WaiterCommand {
  bool wide = *rc::gen::arbitrary<bool>();
  std::uint64_t address = *address_for(wide);
  std::uint64_t value = *rc::gen::arbitrary<std::uint64_t>();

  void apply(WaiterModel& m) const override {
    if (wide) {
      models::store_le(m.bytes, address, value);
    } else {
      models::store_le(m.bytes, address, static_cast<std::uint32_t>(value));
    }
  }
  void run(const WaiterModel& m, WaiterSut& sut) const override {
    std::byte* at = sut.memory->data() + address;
    if (wide) {
      std::atomic_ref(*reinterpret_cast<std::uint64_t*>(at)).store(value);
    } else {
      std::atomic_ref(*reinterpret_cast<std::uint32_t*>(at))
          .store(static_cast<std::uint32_t>(value));
    }
    WaiterModel next = m;
    apply(next);
    check_queues(next, sut);
  }
  void show(std::ostream& os) const override {
    os << "store" << (wide ? "64(" : "32(") << address << ", " << value << ")";
  }
};

// memory.atomic.notify: the model's prediction is the first min(count, n)
// waiters on the address, in arrival order; exactly those return Woken.
struct Notify : WaiterCommand {
  std::uint64_t address = *rc::gen::elementOf(kAddresses);
  std::uint32_t count = *rc::gen::weightedOneOf<std::uint32_t>(
      {{4, rc::gen::inRange<std::uint32_t>(0, 4)}, {1, rc::gen::just(UINT32_MAX)}});

  std::vector<int> chosen(const WaiterModel& m) const {
    std::vector<int> ids;
    for (const ModelWaiter& w : m.queue)
      if (w.address == address && ids.size() < count) ids.push_back(w.id);
    return ids;
  }
  void apply(WaiterModel& m) const override {
    const std::vector<int> ids = chosen(m);
    std::erase_if(m.queue, [&](const ModelWaiter& w) {
      return std::find(ids.begin(), ids.end(), w.id) != ids.end();
    });
  }
  void run(const WaiterModel& m, WaiterSut& sut) const override {
    const std::vector<int> ids = chosen(m);
    const auto woken = sut.memory->atomic_notify(address, count);
    RC_ASSERT(woken.has_value());
    RC_ASSERT(*woken == ids.size());
    // As many waiters as it chose return (whichever they are), then the
    // chosen ones must be exactly the predicted ones.
    if (!sut.eventually_done(m.queue, ids.size()))
      fail_case("the " + std::to_string(ids.size()) +
                " waiters notify woke had not returned after " + std::to_string(kPatience.count()) +
                " s");
    for (const int id : ids) {
      RC_ASSERT(sut.waiters[static_cast<std::size_t>(id)]->done.load());
      RC_ASSERT(*sut.waiters[static_cast<std::size_t>(id)]->result == WaitResult::Woken);
    }
    WaiterModel next = m;
    apply(next);
    check_queues(next, sut);  // the others are still queued: exactly `ids` woke
  }
  void show(std::ostream& os) const override { os << "notify(" << address << ", " << count << ")"; }
};

// memory.grow: waiters are untouched; the result chains.
struct Grow : WaiterCommand {
  std::uint32_t delta = *rc::gen::inRange<std::uint32_t>(0, 3);

  void apply(WaiterModel& m) const override {
    if (m.pages + delta <= kMaximumPages) m.pages += delta;
  }
  void run(const WaiterModel& m, WaiterSut& sut) const override {
    const auto previous = sut.memory->grow(delta);
    if (m.pages + delta <= kMaximumPages) {
      RC_ASSERT(previous.has_value());
      RC_ASSERT(*previous == m.pages);
    } else {
      RC_ASSERT(!previous.has_value());
      RC_ASSERT(previous.error().code() == ErrorCode::CapacityExceeded);
    }
    WaiterModel next = m;
    apply(next);
    RC_ASSERT(sut.memory->size() == next.pages);
    check_queues(next, sut);
  }
  void show(std::ostream& os) const override { os << "grow(" << delta << ")"; }
};

RC_GTEST_PROP(LinearMemoryWaitersModel, W5_W6_W7_W8_NotifyWakesExactlyTheWaitersTheListPredicts,
              ()) {
  WaiterSut sut;
  rc::state::check(WaiterModel{}, sut,
                   rc::state::gen::execOneOfWithArgs<StartWaiter, StartWaiter, ImmediateWait, Store,
                                                     Notify, Notify, Grow>());
}

}  // namespace
}  // namespace wrt::platform::proptest
