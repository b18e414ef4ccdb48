// memory.atomic.wait32/wait64/notify, stores and memory.grow on one
// LinearMemory from a guest schedule (docs/SPEC.md, W2-W9). The input
// decodes into two phases:
// 1. ordered: up to 5 waiters (wait32/wait64 on a few words) started one by
//    one, each known to be queued before the next, then notifies with
//    counts from the input: each notify must return exactly what the
//    spec's FIFO waiter list predicts, and exactly the predicted (oldest)
//    waiters must return Woken (W6, W7, W8);
// 2. concurrent (shared memories; an unshared one runs the scripts one
//    after another, W3): 2-4 threads with scripts of waits (timeouts 0 to 1 ms),
//    notifies (any count), stores and grows at any address (aligned words,
//    misaligned, at and past the end, near UINT64_MAX):
//    - every error is exactly what W4 predicts (Misaligned, then
//      OutOfBounds against the sizes seen before and after the call, then
//      NotShared for waits on an unshared memory; notify on it returns 0);
//    - a zero timeout never gives Woken; a word nobody stores to gives
//      NotEqual exactly when `expected` differs from 0;
//    - the sum of all notify results equals the number of Woken waits (W6);
//    - successful grows chain (previous + delta = the next previous) and
//      end at size(); a failed grow is CapacityExceeded (W2, W3);
//    - afterwards no waiter is left queued.
// Run under ThreadSanitizer too (scripts/fuzz.sh does).
//
// The waiters, and the scripts but the first (which runs on the calling
// thread), run on kWorkers threads kept for the whole run (workers.hpp):
// starting up to nine threads per input cost more than the input itself.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "check.hpp"
#include "linear_memory_model.hpp"
#include "pick.hpp"
#include "workers.hpp"
#include "wrt/platform/linear_memory.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

using namespace wrt::platform;

namespace {

constexpr std::uint32_t kInitialPages = 1;
constexpr std::uint32_t kMaximumPages = 3;
constexpr std::uint64_t kWords[] = {0, 4, 8, 16};  // wait64 uses the 8-aligned ones
constexpr std::size_t kWaiters = 5;                // phase 1
constexpr std::size_t kThreads = 4;                // phase 2
constexpr std::size_t kWorkers = std::max(kWaiters, kThreads - 1);
using Memory = LinearMemory<MmapPageAllocator>;

template <typename Done>
bool eventually(Done done) {
  const auto give_up = std::chrono::steady_clock::now() + fuzz::kPatience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return done();
    std::this_thread::yield();
  }
  return true;
}

using models::fits;

// --- phase 1: FIFO order against the spec's waiter list ---

struct OrderedWaiter {
  std::uint64_t address;
  bool wide;
  fuzz::Worker* worker;  // done when idle
  std::optional<Result<WaitResult>> result;
};

void ordered_phase(FuzzedDataProvider& in, Memory& memory) {
  const std::size_t count = in.ConsumeIntegralInRange<std::size_t>(0, kWaiters);
  std::vector<std::unique_ptr<OrderedWaiter>> waiters;
  std::vector<OrderedWaiter*> queue;  // the model: arrival order
  const auto queued_at = [&](std::uint64_t a) {
    return static_cast<std::uint32_t>(std::count_if(
        queue.begin(), queue.end(), [a](OrderedWaiter* w) { return w->address == a; }));
  };
  for (std::size_t i = 0; i < count; ++i) {
    auto w = std::make_unique<OrderedWaiter>();
    w->wide = in.ConsumeBool();
    w->address =
        w->wide ? 8 * in.ConsumeIntegralInRange<std::uint64_t>(0, 2) : in.PickValueInArray(kWords);
    OrderedWaiter* raw = w.get();
    raw->worker = &fuzz::workers<kWorkers>()[i];
    raw->worker->start([raw, &memory] {
      const std::uint64_t a = raw->address;
      raw->result = raw->wide ? memory.atomic_wait64(a, 0, -1) : memory.atomic_wait32(a, 0, -1);
    });
    const std::uint32_t expected = queued_at(raw->address) + 1;
    FUZZ_CHECK(eventually(
        [&] { return detail::atomic_waiters_at(memory.data() + raw->address) == expected; }));
    queue.push_back(raw);
    waiters.push_back(std::move(w));
  }
  const std::size_t notifies = in.ConsumeIntegralInRange<std::size_t>(0, 4);
  for (std::size_t i = 0; i < notifies; ++i) {
    const std::uint64_t address = in.PickValueInArray(kWords);
    const std::uint32_t n = in.ConsumeBool() ? UINT32_MAX : in.ConsumeIntegralInRange(0u, 3u);
    std::vector<OrderedWaiter*> chosen;
    for (OrderedWaiter* w : queue)
      if (w->address == address && chosen.size() < n) chosen.push_back(w);
    const auto woke = memory.atomic_notify(address, n);
    FUZZ_CHECK(woke.has_value() && *woke == chosen.size());
    for (OrderedWaiter* w : chosen) std::erase(queue, w);
    // As many return as were chosen; they must be the predicted ones.
    FUZZ_CHECK(eventually([&] {
      return static_cast<std::size_t>(std::count_if(waiters.begin(), waiters.end(), [](auto& w) {
               return w->worker->idle();
             })) == waiters.size() - queue.size();
    }));
    for (OrderedWaiter* w : chosen)
      FUZZ_CHECK(w->worker->idle() && w->result->has_value() && **w->result == WaitResult::Woken);
    for (OrderedWaiter* w : queue) FUZZ_CHECK(!w->worker->idle());
  }
  for (auto& w : waiters) {
    FUZZ_CHECK(eventually([&] {
      (void)memory.atomic_notify(w->address, UINT32_MAX);
      return w->worker->idle();
    }));
    w->worker->finish();
  }
}

// --- phase 2: a concurrent guest schedule ---

enum class Kind { Wait32, Wait64, Notify, Store32, Store64, Grow };

struct Op {
  Kind kind;
  std::uint64_t address;
  bool end_relative;    // address counts back from byte_length() at run time
  std::uint64_t value;  // wait: expected; store: value; notify: count; grow: delta
  std::int64_t timeout_ns;
};

std::uint64_t pick_address(FuzzedDataProvider& in, bool& end_relative) {
  end_relative = false;
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
    case 1:
      return in.PickValueInArray(kWords);
    case 2:
      return in.ConsumeIntegralInRange<std::uint64_t>(0, 64);  // often misaligned
    case 3:
      end_relative = true;  // byte_length() - k: the last words, the end, past it
      return in.ConsumeIntegralInRange<std::uint64_t>(0, 16);
    case 4:
      return std::numeric_limits<std::uint64_t>::max() - in.ConsumeIntegralInRange(0u, 16u);
    default:
      return in.ConsumeIntegral<std::uint64_t>();
  }
}

Op decode(FuzzedDataProvider& in) {
  Op op{};
  op.kind = static_cast<Kind>(in.ConsumeIntegralInRange(0, 5));
  switch (op.kind) {
    case Kind::Wait32:
    case Kind::Wait64:
      op.address = pick_address(in, op.end_relative);
      op.value = in.ConsumeBool() ? 0 : in.ConsumeIntegral<std::uint64_t>();
      op.timeout_ns = in.ConsumeBool() ? 0 : fuzz::pick_timeout_ns(in, 19);  // up to 1 ms
      break;
    case Kind::Notify:
      op.address = pick_address(in, op.end_relative);
      op.value = in.ConsumeBool() ? UINT32_MAX : in.ConsumeIntegralInRange(0u, 3u);
      break;
    case Kind::Store32:
    case Kind::Store64:
      op.address = 8 * in.ConsumeIntegralInRange<std::uint64_t>(0, 1);  // the words 0..15
      op.value = in.ConsumeIntegral<std::uint64_t>();
      break;
    case Kind::Grow:
      op.value = in.ConsumeIntegralInRange(0u, 2u);
      if (in.ConsumeBool()) op.value = in.ConsumeIntegral<std::uint32_t>();
      break;
  }
  return op;
}

struct Totals {
  std::atomic<std::uint64_t> notified{0};
  std::atomic<std::uint64_t> woken{0};
  std::mutex mutex;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> grown;  // (previous, delta)
};

// W4's prediction for an atomic of `width` bytes that saw byte_length
// `before` just before the call and `after` just after.
void check_atomic_error(const Error& e, std::uint64_t address, std::uint64_t width,
                        std::uint64_t before, std::uint64_t after, bool shared, bool is_wait) {
  if (address % width != 0) {
    FUZZ_CHECK(e.code() == ErrorCode::Misaligned);
  } else if (!fits(address, width, after)) {
    FUZZ_CHECK(e.code() == ErrorCode::OutOfBounds);
  } else if (fits(address, width, before)) {
    FUZZ_CHECK(is_wait && !shared && e.code() == ErrorCode::NotShared);
  } else {  // a grow ran during the call: either answer is right
    FUZZ_CHECK(e.code() == ErrorCode::OutOfBounds ||
               (is_wait && !shared && e.code() == ErrorCode::NotShared));
  }
  FUZZ_CHECK(e.os_errno() == 0);
}

// Words no store of the schedule touches stay 0 all along.
bool stored_to(const std::vector<std::vector<Op>>& scripts, std::uint64_t address,
               std::uint64_t width) {
  for (const auto& script : scripts)
    for (const Op& op : script) {
      const std::uint64_t w = op.kind == Kind::Store64 ? 8 : 4;
      if ((op.kind == Kind::Store32 || op.kind == Kind::Store64) && op.address < address + width &&
          address < op.address + w)
        return true;
    }
  return false;
}

void run_op(const Op& op, Memory& memory, Totals& totals, bool shared,
            const std::vector<std::vector<Op>>& scripts) {
  const std::uint64_t before = memory.byte_length();
  const std::uint64_t address = op.end_relative ? before - op.address : op.address;
  switch (op.kind) {
    case Kind::Wait32:
    case Kind::Wait64: {
      const bool wide = op.kind == Kind::Wait64;
      const std::uint64_t width = wide ? 8 : 4;
      const std::uint64_t expected = wide ? op.value : static_cast<std::uint32_t>(op.value);
      const auto r =
          wide ? memory.atomic_wait64(address, expected, op.timeout_ns)
               : memory.atomic_wait32(address, static_cast<std::uint32_t>(expected), op.timeout_ns);
      if (!r) {
        check_atomic_error(r.error(), address, width, before, memory.byte_length(), shared, true);
        return;
      }
      FUZZ_CHECK(address % width == 0 && fits(address, width, memory.byte_length()) && shared);
      if (op.timeout_ns == 0) FUZZ_CHECK(*r != WaitResult::Woken);
      if (!stored_to(scripts, address, width))
        FUZZ_CHECK((*r == WaitResult::NotEqual) == (expected != 0));
      if (*r == WaitResult::Woken) totals.woken.fetch_add(1);
      return;
    }
    case Kind::Notify: {
      const auto n = memory.atomic_notify(address, static_cast<std::uint32_t>(op.value));
      if (!n) {
        check_atomic_error(n.error(), address, 4, before, memory.byte_length(), shared, false);
        return;
      }
      FUZZ_CHECK(address % 4 == 0 && fits(address, 4, memory.byte_length()));
      FUZZ_CHECK(*n <= op.value);
      if (!shared) FUZZ_CHECK(*n == 0);
      totals.notified.fetch_add(*n);
      return;
    }
    case Kind::Store32:
      std::atomic_ref(*reinterpret_cast<std::uint32_t*>(memory.data() + address))
          .store(static_cast<std::uint32_t>(op.value));
      return;
    case Kind::Store64:
      std::atomic_ref(*reinterpret_cast<std::uint64_t*>(memory.data() + address)).store(op.value);
      return;
    case Kind::Grow: {
      const auto delta = static_cast<std::uint32_t>(op.value);
      const auto previous = memory.grow(delta);
      if (!previous) {
        FUZZ_CHECK(previous.error().code() == ErrorCode::CapacityExceeded);
        FUZZ_CHECK(std::uint64_t{memory.size()} + delta > kMaximumPages);
        return;
      }
      FUZZ_CHECK(std::uint64_t{*previous} + delta <= kMaximumPages);
      const std::lock_guard lock(totals.mutex);
      totals.grown.emplace_back(*previous, delta);
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const bool shared = in.ConsumeIntegralInRange(0, 3) != 0;
  auto created = Memory::create(MmapPageAllocator(PageAllocatorConfig{kMaximumPages, 0}),
                                MemoryType{kInitialPages, kMaximumPages, shared});
  FUZZ_CHECK(created.has_value());
  Memory& memory = *created;
  if (shared) ordered_phase(in, memory);

  const std::size_t thread_count = in.ConsumeIntegralInRange<std::size_t>(2, kThreads);
  std::vector<std::vector<Op>> scripts(thread_count);
  for (auto& script : scripts) {
    const std::size_t length = in.ConsumeIntegralInRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < length && in.remaining_bytes() > 0; ++i)
      script.push_back(decode(in));
  }
  Totals totals;
  if (shared) {
    fuzz::run_together(fuzz::workers<kWorkers>(), thread_count, [&](std::size_t t) {
      for (const Op& op : scripts[t]) run_op(op, memory, totals, shared, scripts);
    });
  } else {
    // An unshared memory's mutating calls need exclusive access (W3): the
    // scripts run one after another.
    for (const auto& script : scripts)
      for (const Op& op : script) run_op(op, memory, totals, shared, scripts);
  }

  FUZZ_CHECK(totals.notified.load() == totals.woken.load());
  for (const std::uint64_t a : kWords)
    FUZZ_CHECK(detail::atomic_waiters_at(memory.data() + a) == 0);
  auto grown = totals.grown;
  std::sort(grown.begin(), grown.end());
  std::uint32_t next = kInitialPages;
  for (const auto& [previous, delta] : grown) {
    FUZZ_CHECK(previous == next);
    next = previous + delta;
  }
  FUZZ_CHECK(memory.size() == next);
  return 0;
}
