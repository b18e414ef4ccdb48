// The waiter queue behind LinearMemory's memory.atomic.wait32/wait64/notify
// (docs/SPEC.md, W5-W8). Compiled into the library (src/memory/); internal,
// but installed because the LinearMemory template calls it.
//
// A parking lot: waiters are queued FIFO per exact host address (the word's
// address in this process, so two memories never share waiters), wait32 and
// wait64 waiters in one queue. Each waiter sleeps on its own futex word.
// Only a notify that chose a waiter makes its wait return Woken.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wrt/platform/error.hpp"
#include "wrt/platform/futex.hpp"

namespace wrt::platform::detail {

// Waiters are kept in this many buckets, chosen by address_slot() of the
// word's address (src/futex/futex_logic.hpp); tests use it to put two words
// in one bucket.
inline constexpr std::size_t kWaitQueueBuckets = 256;

// Bytes compared by a wait: memory.atomic.wait32 or wait64.
enum class WaitWidth : unsigned { Bits32 = 4, Bits64 = 8 };

// memory.atomic.wait on the word at `word`, which the caller checked (W4):
// aligned to the width, inside committed memory, in a shared memory.
// Compares the word (seq_cst, all `width` bytes) with `expected` under the
// queue's lock and enqueues in the same critical section. timeout_ns < 0
// waits forever, 0 never sleeps, > 0 is relative on the monotonic clock
// (saturating). Woken only when atomic_notify_at chose this waiter;
// SystemError only if the futex under it fails (the waiter has then left
// the queue and no notify counted it).
Result<WaitResult> atomic_wait_at(void* word, WaitWidth width, std::uint64_t expected,
                                  std::int64_t timeout_ns) noexcept;

// memory.atomic.notify: chooses up to `count` waiters on `word`, oldest
// first, wakes them and returns how many it chose. With nobody queued in
// the word's bucket it takes no lock and makes no system call.
std::uint32_t atomic_notify_at(const void* word, std::uint32_t count) noexcept;

// S7: stops the program, in every build type, with a message naming `what`
// and the range [begin, begin + bytes) when a thread still waits on a word in
// it: the memory there is going away (destroyed, or its pool slot released),
// and the sleeper would otherwise be woken later by whoever uses the same
// addresses next. One relaxed load when no thread waits anywhere.
void expect_no_waiters_in(const void* begin, std::size_t bytes, const char* what) noexcept;

// How many waiters are queued on `word` right now (for tests that must know
// a waiter has started waiting before they go on).
std::uint32_t atomic_waiters_at(const void* word) noexcept;

}  // namespace wrt::platform::detail
