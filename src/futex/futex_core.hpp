// What every futex backend shares (clauses F2-F8): argument checks, the
// fast paths that make no system call, saturating deadlines and waiter
// accounting. The public API instantiates FutexCore with the default
// backend; tests instantiate it with each backend the host can run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "futex/full_fence.hpp"
#include "futex/futex_backend.hpp"
#include "futex/futex_logic.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/futex.hpp"

namespace wrt::platform::detail {

// Threads between announcing a wait on an address and leaving it.
using WaiterCount = std::atomic<std::uint32_t>;

// The waiter count shared by every address whose slot is that of `addr`
// (futex.cpp). Two addresses sharing a stripe only cost an unneeded system
// call, never a lost wake-up.
WaiterCount& address_waiters(const void* addr) noexcept;

// The same word seen through a std::atomic: the kernel keys waiters by
// address, so both views must denote the same four bytes.
inline const std::uint32_t* word_address(const std::atomic<std::uint32_t>& word) noexcept {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  static_assert(alignof(std::atomic<std::uint32_t>) == alignof(std::uint32_t));
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
  return reinterpret_cast<const std::uint32_t*>(&word);
}

template <FutexBackend Backend>
struct FutexCore {
  // Waits while *addr == expected; `waiters` is the accounting every waker
  // of addr consults.
  static Result<WaitResult> wait(const std::uint32_t* addr, std::uint32_t expected,
                                 std::optional<std::chrono::nanoseconds> timeout,
                                 WaiterCount& waiters) noexcept {
    if (auto bad = check_address(addr)) return tl::unexpected(*bad);
    if (load_word(addr) != expected) return WaitResult::NotEqual;  // F7: no system call
    if (timeout && *timeout <= std::chrono::nanoseconds::zero()) return WaitResult::TimedOut;  // F3
    // An untimed wait reads no clock (a measurable share of a ping-pong).
    const Deadline deadline = timeout ? deadline_after(Backend::now(), timeout) : Deadline::never();
    // Announce before the backend compares again: a waker that stored a new
    // value and then sees no waiter is ordered before this increment, so the
    // backend's compare sees the new value (seq_cst on both sides).
    waiters.fetch_add(1, std::memory_order_seq_cst);
    const Result<WaitResult> result = Backend::wait(addr, expected, deadline);
    waiters.fetch_sub(1, std::memory_order_release);
    return result;
  }

  // Wakes at most `count` threads waiting on addr; returns how many woke.
  static Result<std::uint32_t> wake(const std::uint32_t* addr, std::uint32_t count,
                                    WaiterCount& waiters) noexcept {
    if (auto bad = check_address(addr)) return tl::unexpected(*bad);
    if (count == 0) return 0u;
    // Orders the caller's store to the word before the look at the count.
    full_fence();
    const std::uint32_t registered = waiters.load(std::memory_order_seq_cst);
    if (registered == 0) return 0u;  // F7: nobody can be waiting, no system call
    return Backend::wake(addr, count, registered);
  }

 private:
  static std::optional<Error> check_address(const std::uint32_t* addr) noexcept {
    if (addr == nullptr) return Error(ErrorCode::InvalidArgument, "futex: null address");
    if (reinterpret_cast<std::uintptr_t>(addr) % alignof(std::uint32_t) != 0)
      return Error(ErrorCode::Misaligned, "futex: address is not 4-byte aligned");
    return std::nullopt;
  }
};

using DefaultFutexCore = FutexCore<DefaultFutexBackend>;

}  // namespace wrt::platform::detail
