// Portable futex backend: only the C++ standard library. A parking lot:
// buckets of mutex + intrusive waiter list keyed by address; each waiter
// parks on its own condition variable, so a wake releases exactly the
// threads it unlinks and counts them exactly.
#include <array>
#include <condition_variable>
#include <mutex>

#include "futex/futex_backend.hpp"
#include "futex/waiter_list.hpp"
#include "os/seam.hpp"

namespace wrt::platform::detail {
namespace {

using prim::OsCall;

// Lives on the waiting thread's stack while it is linked into a bucket.
struct Waiter {
  explicit Waiter(const std::uint32_t* address) noexcept : addr(address) {}
  const std::uint32_t* addr;
  std::condition_variable wakeup;
  bool woken = false;  // set by the waker under the bucket's mutex
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
};

// The longest waiter wakes first.
struct alignas(64) Bucket : WaiterList<Waiter> {
  std::mutex mutex;
};

constexpr std::size_t kBuckets = 64;
std::array<Bucket, kBuckets> buckets;

Bucket& bucket_for(const std::uint32_t* addr) noexcept {
  return buckets[address_slot(reinterpret_cast<std::uintptr_t>(addr), kBuckets)];
}

// Compares and parks under the bucket's mutex; a waker takes the same mutex
// to unlink, so no wake can fall between the compare and the sleep.
Result<WaitResult> park(const std::uint32_t* addr, std::uint32_t expected,
                        Deadline deadline) noexcept {
  Bucket& bucket = bucket_for(addr);
  std::unique_lock lock(bucket.mutex);
  if (load_word(addr) != expected) return WaitResult::NotEqual;
  Waiter self(addr);
  bucket.push(&self);
  const auto woken = [&self] { return self.woken; };
  if (deadline.is_never()) {
    self.wakeup.wait(lock, woken);
    return WaitResult::Woken;
  }
  const std::chrono::steady_clock::time_point until(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline.at));
  if (self.wakeup.wait_until(lock, until, woken)) return WaitResult::Woken;
  bucket.unlink(&self);
  return WaitResult::TimedOut;
}

}  // namespace

std::chrono::nanoseconds PortableFutexBackend::now() noexcept {
  return std::chrono::steady_clock::now().time_since_epoch();
}

Result<WaitResult> PortableFutexBackend::wait(const std::uint32_t* addr, std::uint32_t expected,
                                              Deadline deadline) noexcept {
  // The seam counts the slow path like a system call; an errno it injects
  // is handled exactly as futex(2)'s (EINTR asks again, EAGAIN is NotEqual).
  const WaitOutcome injected = futex_wait_loop([] { return prim::intercept(OsCall::FutexWait); });
  if (injected.error != 0) return finish_wait(injected.step, injected.error);
  return park(addr, expected, deadline);
}

Result<std::uint32_t> PortableFutexBackend::wake(const std::uint32_t* addr, std::uint32_t count,
                                                 std::uint32_t /*registered*/) noexcept {
  if (const int injected = prim::intercept(OsCall::FutexWake)) return wake_failed(injected);
  Bucket& bucket = bucket_for(addr);
  const std::lock_guard lock(bucket.mutex);
  std::uint32_t woken = 0;
  for (Waiter* w = bucket.head; w != nullptr && woken < count;) {
    Waiter* const next = w->next;
    if (w->addr == addr) {
      bucket.unlink(w);
      // Notified under the mutex: the waiter, and its condition variable,
      // cannot go away before we let go of the mutex.
      w->woken = true;
      w->wakeup.notify_one();
      ++woken;
    }
    w = next;
  }
  return woken;
}

std::uint32_t PortableFutexBackend::parked(const std::uint32_t* addr) noexcept {
  Bucket& bucket = bucket_for(addr);
  const std::lock_guard lock(bucket.mutex);
  std::uint32_t n = 0;
  for (const Waiter* w = bucket.head; w != nullptr; w = w->next) n += w->addr == addr ? 1 : 0;
  return n;
}

}  // namespace wrt::platform::detail
