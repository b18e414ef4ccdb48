// Traps: an access to an inaccessible byte of a live MmapPageAllocator
// reservation (not committed, or in its guard), or of the slot of an allocated
// PooledPageAllocator memory (memory_pool.hpp), becomes a recoverable
// WebAssembly trap instead of a crash, so a runtime may drop bounds checks.
//
//   if (auto installed = wrt::platform::install_trap_handler(); !installed) ...
//   auto trap = wrt::platform::catch_traps([&] { run_guest(memory_base); });
//   if (trap) report(trap->kind, trap->address);   // MemoryOutOfBounds
//
// Rules for the body (docs/SPEC.md section T, docs/SAFETY.md "Traps"):
// - On a trap the body's frames are abandoned (no destructor runs in them):
//   no object with a non-trivial destructor, no held lock, no half-updated
//   shared state may be live in the body's frames at an access that can trap.
// - Exceptions must not leave the body (std::terminate).
// - Only faults inside a live reservation's inaccessible bytes, and a stack
//   overflow, become traps; every other fault goes to the handler that was
//   installed before ours.
// - Leaving the body by longjmp (or any unwinding the library does not see)
//   is allowed: the frame it leaves is dead, and no later fault is delivered
//   to it (S6). A frame counts as dead once its address is below the stack
//   pointer of the faulting code (the stack grows down), so the body and
//   everything it calls must run on the stack catch_traps was called on (a
//   body that switches to another stack calls catch_traps again there).
//   Limit: after such a longjmp, code that calls back down past the dead
//   frame's address before any trap or catch_traps at or above it makes the
//   dead frame look live again: a runtime that leaves bodies by longjmp
//   should next enter catch_traps from no deeper than the one it left (the
//   usual setjmp around the call into catch_traps does).
// - Stack overflow (S4): the handler runs on an alternate signal stack. The
//   first catch_traps on a thread installs one (freed at thread exit) unless
//   the thread already has one, which is kept; a thread that removes it
//   afterwards dies of a stack overflow as without the library.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "wrt/platform/error.hpp"

namespace wrt::platform {

enum class TrapKind { MemoryOutOfBounds, HandlerNotInstalled, StackOverflow };

struct Trap {
  TrapKind kind;
  // The faulting address for MemoryOutOfBounds (the first inaccessible byte
  // the access touched, as the OS reports it: some cores report the first
  // byte of an access that straddles the committed end) and StackOverflow
  // (in the guard below the thread's stack); nullptr for HandlerNotInstalled.
  const void* address;
};

// Installs the process-wide fault handler (SIGSEGV and SIGBUS on POSIX),
// remembering the actions installed before it, to which it passes every
// fault that is not a trap. Idempotent and thread-safe: the first successful
// call installs, later calls return success and change nothing. On failure
// (SystemError, with the OS errno) nothing is installed and a later call may
// try again. Install it after any other handler for these signals (a
// sanitizer, a crash reporter); one installed later must chain to ours.
Result<void> install_trap_handler() noexcept;

namespace detail {
// Runs body(context) on this thread with traps enabled; see catch_traps.
std::optional<Trap> run_catching(void (*body)(void*), void* context) noexcept;
}  // namespace detail

// Runs `body` on the calling thread. Returns std::nullopt when it returns
// normally, Trap{MemoryOutOfBounds, address} when an access in it (or in
// anything it calls) faulted on an inaccessible byte of a live reservation,
// Trap{StackOverflow, address} when the body exhausted the thread's stack
// (a fault in the guard below it), and Trap{HandlerNotInstalled, nullptr},
// without running the body, when install_trap_handler() has not succeeded.
// Nested calls report to the innermost live one. The thread can trap again
// any number of times.
template <std::invocable F>
std::optional<Trap> catch_traps(F&& body) {
  using Body = std::remove_reference_t<F>;
  // noexcept: an exception leaving the body terminates instead of unwinding
  // through the library's frames with the trap target still registered.
  auto thunk = [](void* context) noexcept { std::invoke(*static_cast<Body*>(context)); };
  return detail::run_catching(thunk,
                              const_cast<void*>(static_cast<const void*>(std::addressof(body))));
}

}  // namespace wrt::platform
