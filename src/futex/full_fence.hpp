// A full memory barrier for the store-then-load checks of the wakers (F2):
// a waker stores to the word, then looks whether anyone waits; without a
// store-load barrier between them the look can see a stale "nobody" while a
// waiter has already announced itself and seen the old word: a lost wake.
#pragma once

#include <atomic>

// ThreadSanitizer sees no ordering in inline asm: it keeps the standard fence.
#if defined(__SANITIZE_THREAD__)
#define WRT_PLATFORM_FENCE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WRT_PLATFORM_FENCE_TSAN 1
#endif
#endif

namespace wrt::platform::detail {

// Orders every ordinary load and store before the call before every one
// after it, stores before loads included, as
// std::atomic_thread_fence(std::memory_order_seq_cst) does.
inline void full_fence() noexcept {
#if defined(__x86_64__) && !defined(WRT_PLATFORM_FENCE_TSAN)
  // A locked no-op on the stack top, the Linux kernel's smp_mb() on x86-64.
  // It is a full barrier because locked instructions are serialising for
  // memory ordering: loads and stores are not reordered with them, and they
  // have one total order (Intel SDM vol. 3A, "Memory Ordering in P6 and More
  // Recent Processor Families"; AMD's APM vol. 2 says the same). mfence, what
  // the standard fence compiles to, also orders non-temporal stores and
  // clflush, which no waker makes; it costs ~19 ns on this AMD EPYC against
  // ~4.7 ns for this (docs/BENCHMARKS.md). The word at (%rsp) is this
  // thread's own and keeps its value. The "memory" clobber keeps the compiler
  // from moving accesses across the barrier.
  asm volatile("lock orl $0, (%%rsp)" ::: "memory", "cc");
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace wrt::platform::detail
