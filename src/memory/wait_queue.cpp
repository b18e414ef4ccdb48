// The parking lot behind memory.atomic.wait/notify. See
// include/wrt/platform/detail/wait_queue.hpp, docs/SPEC.md (W) and
// docs/SAFETY.md ("Wait queue").
#include "wrt/platform/detail/wait_queue.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>

#include "futex/futex_core.hpp"
#include "futex/futex_logic.hpp"

namespace wrt::platform::detail {
namespace {

using std::chrono::nanoseconds;

// A waiter's own futex word: it sleeps while the word is kQueued.
constexpr std::uint32_t kQueued = 0;
constexpr std::uint32_t kChosen = 1;  // set by a notify, under the bucket's mutex

// Lives on the waiting thread's stack while it is in a bucket's list.
struct Waiter {
  explicit Waiter(const void* address) noexcept : word(address) {}
  const void* word;
  std::atomic<std::uint32_t> state{kQueued};
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
};

struct alignas(64) Bucket {
  std::mutex mutex;
  // Waiters that announced themselves (under the mutex, before comparing)
  // and have not left: notify reads it without the mutex to skip the lock.
  std::atomic<std::uint32_t> announced{0};
  Waiter* head = nullptr;  // FIFO: the oldest waiter first
  Waiter* tail = nullptr;

  void push(Waiter* w) noexcept {
    w->prev = tail;
    (tail != nullptr ? tail->next : head) = w;
    tail = w;
  }

  void unlink(Waiter* w) noexcept {
    (w->prev != nullptr ? w->prev->next : head) = w->next;
    (w->next != nullptr ? w->next->prev : tail) = w->prev;
    w->prev = w->next = nullptr;
    announced.fetch_sub(1, std::memory_order_relaxed);
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

// Leaves the queue after a timeout or a failed futex wait. A notify that
// chose this waiter in the meantime already unlinked and counted it: then
// the wait is Woken, whatever woke the thread.
Result<WaitResult> leave(Bucket& bucket, Waiter& self, std::optional<Error> failure) noexcept {
  const std::lock_guard lock(bucket.mutex);
  if (self.state.load(std::memory_order_relaxed) == kChosen) return WaitResult::Woken;
  bucket.unlink(&self);
  if (failure) return tl::unexpected(*failure);
  return WaitResult::TimedOut;
}

}  // namespace

Result<WaitResult> atomic_wait_at(void* word, WaitWidth width, std::uint64_t expected,
                                  std::int64_t timeout_ns) noexcept {
  const Deadline deadline =
      timeout_ns < 0 ? Deadline::never() : deadline_after(now(), nanoseconds(timeout_ns));
  Bucket& bucket = bucket_for(word);
  Waiter self(word);
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
  const std::uint32_t* sleep_word = word_address(self.state);
  for (;;) {
    std::optional<nanoseconds> left;
    if (!deadline.is_never()) {
      left = time_left(deadline, now());
      if (*left <= nanoseconds::zero()) return leave(bucket, self, std::nullopt);
    }
    if (self.state.load(std::memory_order_acquire) == kChosen) return WaitResult::Woken;
    // Woken, NotEqual (already chosen) and TimedOut all loop: the state and
    // our own deadline decide. Signals never reach here (F4).
    const Result<WaitResult> slept = wait_on_address(sleep_word, kQueued, left);
    if (!slept) return leave(bucket, self, slept.error());
  }
}

std::uint32_t atomic_notify_at(const void* word, std::uint32_t count) noexcept {
  if (count == 0) return 0;
  Bucket& bucket = bucket_for(word);
  // Orders the guest's store before the look at `announced` (see above).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (bucket.announced.load(std::memory_order_seq_cst) == 0) return 0;  // no lock, no system call
  const std::lock_guard lock(bucket.mutex);
  std::uint32_t chosen = 0;
  for (Waiter* w = bucket.head; w != nullptr && chosen < count;) {
    Waiter* const next = w->next;
    if (w->word == word) {
      bucket.unlink(w);
      // Only the futex key survives the store: once it sees kChosen the
      // waiter may return and its Waiter die, and the wake needs no more
      // than the address.
      const std::uint32_t* sleep_word = word_address(w->state);
      w->state.store(kChosen, std::memory_order_release);
      // The mark is the decision; a failed wake only leaves the waiter
      // asleep until its own deadline, when it finds the mark and returns
      // Woken (futex(2) cannot fail for a mapped, aligned private word).
      (void)wake_address(sleep_word, 1);
      ++chosen;
    }
    w = next;
  }
  return chosen;
}

std::uint32_t atomic_waiters_at(const void* word) noexcept {
  Bucket& bucket = bucket_for(word);
  const std::lock_guard lock(bucket.mutex);
  std::uint32_t n = 0;
  for (const Waiter* w = bucket.head; w != nullptr; w = w->next) n += w->word == word ? 1 : 0;
  return n;
}

}  // namespace wrt::platform::detail
