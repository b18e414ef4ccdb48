// Windows access violations for traps: one vectored exception handler. See
// docs/SAFETY.md, "Traps (Windows)", and docs/SPEC.md, X3.
//
// The handler does not jump out of itself: it runs inside the system's
// exception dispatcher, whose frames (and, under Wine, bookkeeping) must be
// left by returning. For a trap it points the faulting thread's context at
// leave_body (first argument: the target) and returns
// EXCEPTION_CONTINUE_EXECUTION; the thread then resumes in leave_body, in
// normal context, which __builtin_longjmp's to the __builtin_setjmp in
// run_with_trap_target, whose frame is live for the whole body. The builtin
// pair only restores the frame, stack pointer and instruction pointer (no
// SEH unwind, unlike mingw's longjmp), which is what abandoning the body's
// frames means (include/wrt/platform/trap.hpp).
#include <windows.h>

#include <atomic>
#include <cstdint>

#include "os/os_traps.hpp"
#include "os/seam.hpp"
#include "trap/fault_policy.hpp"
#include "trap/fault_registry.hpp"

namespace wrt::platform::prim {
namespace {

// One catch_traps on this thread. Lives in run_with_trap_target's frame.
struct TrapTarget {
  void* jump[5];  // __builtin_setjmp's buffer
  TrapTarget* outer;
  const void* volatile fault_address;
  volatile std::uintptr_t retried_address;
};

// The TLS index of this thread's innermost TrapTarget (null outside
// catch_traps). Windows TLS rather than thread_local: mingw's thread_local
// is emulated and may allocate on a thread's first access, which the
// handler must not do (the fault may have happened inside the allocator).
// Written once by install_fault_handlers before the handler is added.
DWORD innermost_index = TLS_OUT_OF_INDEXES;

TrapTarget* innermost() noexcept { return static_cast<TrapTarget*>(TlsGetValue(innermost_index)); }
void set_innermost(TrapTarget* target) noexcept { TlsSetValue(innermost_index, target); }

// Where a trapping thread resumes (see the file comment).
[[noreturn, gnu::noinline]] void leave_body(TrapTarget* target) noexcept {
  __builtin_longjmp(target->jump, 1);
}

bool is_access_fault(const EXCEPTION_RECORD& record) noexcept {
  return (record.ExceptionCode == EXCEPTION_ACCESS_VIOLATION ||
          record.ExceptionCode == EXCEPTION_IN_PAGE_ERROR) &&
         record.NumberParameters >= 2;
}

LONG CALLBACK on_exception(EXCEPTION_POINTERS* exception) {
  const EXCEPTION_RECORD& record = *exception->ExceptionRecord;
  if (!is_access_fault(record)) return EXCEPTION_CONTINUE_SEARCH;
  // TlsGetValue sets the thread's last error; the interrupted code keeps its own.
  const DWORD saved_error = GetLastError();
  TrapTarget* const target = innermost();
  SetLastError(saved_error);
  const auto address = static_cast<std::uintptr_t>(record.ExceptionInformation[1]);
  // A RaiseException with these codes is not told apart from a real fault
  // (Windows records no sender): both are treated as raised by an access.
  const trap::FaultFacts facts{address, true, target != nullptr, trap::find_live(address),
                               target != nullptr && target->retried_address == address};
  switch (trap::classify_fault(facts)) {
    case trap::FaultVerdict::Trap: {
      target->fault_address = reinterpret_cast<const void*>(address);
      set_innermost(target->outer);
      SetLastError(saved_error);
      CONTEXT& context = *exception->ContextRecord;
      // A call's entry state: the stack 16-byte aligned before the (never
      // used) return address, below the faulting frame.
      context.Rsp = ((context.Rsp - 128) & ~DWORD64{15}) - 8;
      context.Rcx = reinterpret_cast<DWORD64>(target);
      context.Rip = reinterpret_cast<DWORD64>(&leave_body);
      return EXCEPTION_CONTINUE_EXECUTION;
    }
    case trap::FaultVerdict::Retry:
      target->retried_address = address;
      return EXCEPTION_CONTINUE_EXECUTION;
    // Not produced here: no stack guard is passed in (S4 on Windows is open).
    case trap::FaultVerdict::StackOverflow:
    case trap::FaultVerdict::Foreign:
      break;
  }
  // Not ours: the next handler (vectored, then frame-based, then the
  // unhandled-exception filter) sees it as if we were not installed (T3).
  return EXCEPTION_CONTINUE_SEARCH;
}

}  // namespace

Result<void> install_fault_handlers() noexcept {
  // Both calls count as OsCall::Sigaction: they are the one "install the
  // fault handler" step that sigaction is on POSIX.
  int error = intercept(OsCall::Sigaction);
  const DWORD index = error != 0 ? TLS_OUT_OF_INDEXES : TlsAlloc();
  if (index == TLS_OUT_OF_INDEXES)
    return tl::unexpected(Error(ErrorCode::SystemError, "TlsAlloc for the trap handler failed",
                                error != 0 ? error : static_cast<int>(GetLastError())));
  innermost_index = index;
  error = intercept(OsCall::Sigaction);
  // first = 1: we see access violations before any handler added earlier,
  // as the POSIX handler replaces the previous action and chains to it.
  if (error != 0 || AddVectoredExceptionHandler(1, on_exception) == nullptr) {
    TlsFree(index);
    innermost_index = TLS_OUT_OF_INDEXES;
    return tl::unexpected(Error(ErrorCode::SystemError,
                                "AddVectoredExceptionHandler for the trap handler failed",
                                error != 0 ? error : static_cast<int>(GetLastError())));
  }
  return {};
}

std::optional<Trap> run_with_trap_target(void (*body)(void*), void* context) noexcept {
  TrapTarget target;
  target.outer = innermost();
  target.fault_address = nullptr;
  target.retried_address = 0;
  if (__builtin_setjmp(target.jump) != 0)
    // The handler made `outer` innermost again.
    return Trap{TrapKind::MemoryOutOfBounds, target.fault_address};
  set_innermost(&target);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  body(context);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  set_innermost(target.outer);
  return std::nullopt;
}

}  // namespace wrt::platform::prim
