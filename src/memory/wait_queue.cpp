// The parking lot behind memory.atomic.wait/notify. See
// include/wrt/platform/detail/wait_queue.hpp, docs/SPEC.md (W) and
// docs/SAFETY.md ("Wait queue").
#include "wrt/platform/detail/wait_queue.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "futex/full_fence.hpp"
#include "futex/futex_core.hpp"
#include "futex/futex_logic.hpp"
#include "futex/waiter_list.hpp"

namespace wrt::platform::detail {
namespace {

using std::chrono::nanoseconds;

// A waiter's own futex word. A notify claims waiters under the bucket's
// mutex (unlinking them), then, after letting go of it, marks each chosen
// and wakes it: only the mark makes a wait return Woken.
constexpr std::uint32_t kQueued = 0;   // in the bucket's list
constexpr std::uint32_t kClaimed = 1;  // taken by a notify that will mark it
constexpr std::uint32_t kChosen = 2;   // marked: the wait returns Woken

// Lives on the waiting thread's stack while it is in a bucket's list.
struct Waiter {
  explicit Waiter(const void* address) noexcept : word(address) {}
  const void* word;
  std::atomic<std::uint32_t> state{kQueued};
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
};

// Waiters queued in any bucket. Only for expect_no_waiters_in(): changed
// with every push and unlink (by read-modify-writes, so its value counts them
// exactly), so a waiter queued before that call is seen there without a lock.
std::atomic<std::uint32_t> queued_anywhere{0};

struct alignas(64) Bucket : WaiterList<Waiter> {
  std::mutex mutex;
  // Waiters that announced themselves (under the mutex, before comparing)
  // and have not left: notify reads it without the mutex to skip the lock.
  std::atomic<std::uint32_t> announced{0};

  void push(Waiter* w) noexcept {
    WaiterList::push(w);
    queued_anywhere.fetch_add(1, std::memory_order_relaxed);
  }
  void unlink(Waiter* w) noexcept {
    WaiterList::unlink(w);
    announced.fetch_sub(1, std::memory_order_relaxed);
    queued_anywhere.fetch_sub(1, std::memory_order_relaxed);
  }
};

std::array<Bucket, kWaitQueueBuckets> buckets;

Bucket& bucket_for(const void* word) noexcept {
  return buckets[address_slot(reinterpret_cast<std::uintptr_t>(word), kWaitQueueBuckets)];
}

// The guest's word, loaded seq_cst with its full width (W5, W7).
std::uint64_t load_word(void* word, WaitWidth width) noexcept {
  if (width == WaitWidth::Bits64) return std::atomic_ref(*static_cast<std::uint64_t*>(word)).load();
  return std::atomic_ref(*static_cast<std::uint32_t*>(word)).load();
}

nanoseconds now() noexcept { return std::chrono::steady_clock::now().time_since_epoch(); }

// Leaves the queue after a timeout or a failed futex wait, unless a
// notify claimed this waiter first: then it is counted, and the wait goes
// on (without a deadline) until the mark arrives and returns Woken.
bool try_leave(Bucket& bucket, Waiter& self) noexcept {
  const std::lock_guard lock(bucket.mutex);
  const bool queued = self.state.load(std::memory_order_relaxed) == kQueued;
  if (queued) bucket.unlink(&self);
  return queued;
}

}  // namespace

Result<WaitResult> atomic_wait_at(void* word, WaitWidth width, std::uint64_t expected,
                                  std::int64_t timeout_ns) noexcept {
  // Fast path: a word that already differs is NotEqual without the lock or
  // the clock; the wait is linearizable at this seq_cst load (it behaves as
  // if it compared there, and never queued).
  if (load_word(word, width) != expected) return WaitResult::NotEqual;
  const Deadline deadline =
      timeout_ns < 0 ? Deadline::never() : deadline_after(now(), nanoseconds(timeout_ns));
  Bucket& bucket = bucket_for(word);
  Waiter self(word);
  const std::uint32_t* const sleep_word = word_address(self.state);  // the futex key
  {
    const std::lock_guard lock(bucket.mutex);
    // Announce before the compare: a notify that stored the new value and
    // then reads `announced` as 0 is ordered before this increment, so the
    // load below sees its value (seq_cst on both sides: no lost wake-up).
    bucket.announced.fetch_add(1, std::memory_order_seq_cst);
    const bool equal = load_word(word, width) == expected;
    if (!equal || timeout_ns == 0) {
      bucket.announced.fetch_sub(1, std::memory_order_relaxed);
      return equal ? WaitResult::TimedOut : WaitResult::NotEqual;
    }
    bucket.push(&self);
  }
  for (;;) {
    const std::uint32_t state = self.state.load(std::memory_order_acquire);
    if (state == kChosen) return WaitResult::Woken;
    // Only a queued waiter has a deadline: a claimed one is already counted
    // by its notify, which marks it right after letting go of the lock.
    std::optional<nanoseconds> left;
    if (state == kQueued && !deadline.is_never()) {
      left = time_left(deadline, now());
      // Not left: claimed meanwhile. The wait below then sees the state
      // changed (NotEqual) and the next round waits for the mark.
      if (*left <= nanoseconds::zero() && try_leave(bucket, self)) return WaitResult::TimedOut;
    }
    // Woken, NotEqual and TimedOut all loop: the state word and our own
    // deadline decide. Signals never reach here (F4).
    const Result<WaitResult> slept = wait_on_address(sleep_word, state, left);
    if (!slept && try_leave(bucket, self)) return tl::unexpected(slept.error());
  }
}

std::uint32_t atomic_notify_at(const void* word, std::uint32_t count) noexcept {
  if (count == 0) return 0;
  Bucket& bucket = bucket_for(word);
  // Orders the guest's store before the look at `announced` (see above).
  full_fence();
  if (bucket.announced.load(std::memory_order_seq_cst) == 0) return 0;  // no lock, no system call
  // Claim under the lock, oldest first, into a private FIFO chain (through
  // the claimed waiters' own `next`, which nobody else touches now).
  Waiter* claimed = nullptr;
  Waiter** tail = &claimed;
  std::uint32_t n = 0;
  {
    const std::lock_guard lock(bucket.mutex);
    for (Waiter* w = bucket.head; w != nullptr && n < count;) {
      Waiter* const next = w->next;
      if (w->word == word) {
        bucket.unlink(w);
        w->state.store(kClaimed, std::memory_order_relaxed);
        *tail = w;
        tail = &w->next;
        ++n;
      }
      w = next;
    }
  }
  // Mark and wake outside the lock, so a woken waiter never finds it held.
  // After the mark the waiter may return and its Waiter die: read `next`
  // and the futex key first (a wake needs only the address). A failed wake
  // only leaves the waiter asleep until its deadline, when it finds the
  // mark and returns Woken (futex(2) cannot fail for a mapped, aligned
  // private word).
  for (Waiter* w = claimed; w != nullptr;) {
    Waiter* const next = w->next;
    const std::uint32_t* sleep_word = word_address(w->state);
    w->state.store(kChosen, std::memory_order_release);
    (void)wake_address(sleep_word, 1);
    w = next;
  }
  return n;
}

void expect_no_waiters_in(const void* begin, std::size_t bytes, const char* what) noexcept {
  if (queued_anywhere.load(std::memory_order_relaxed) == 0) return;
  const auto first = reinterpret_cast<std::uintptr_t>(begin);
  for (Bucket& bucket : buckets) {
    // A waiter queued before this call was announced before it, too.
    if (bucket.announced.load(std::memory_order_relaxed) == 0) continue;
    const std::lock_guard lock(bucket.mutex);
    for (const Waiter* w = bucket.head; w != nullptr; w = w->next) {
      const auto at = reinterpret_cast<std::uintptr_t>(w->word);
      if (at < first || at - first >= bytes) continue;
      // Not an assert: in every build, a sleeper left here would be woken
      // by whoever uses these addresses next (another tenant's notify).
      std::fprintf(stderr,
                   "wrt-platform: %s: memory [%p, %p) while a thread waits on its word at %p\n",
                   what, begin,
                   static_cast<const void*>(static_cast<const std::byte*>(begin) + bytes), w->word);
      std::abort();
    }
  }
}

std::uint32_t atomic_waiters_at(const void* word) noexcept {
  Bucket& bucket = bucket_for(word);
  const std::lock_guard lock(bucket.mutex);
  std::uint32_t n = 0;
  for (const Waiter* w = bucket.head; w != nullptr; w = w->next) n += w->word == word ? 1 : 0;
  return n;
}

}  // namespace wrt::platform::detail
