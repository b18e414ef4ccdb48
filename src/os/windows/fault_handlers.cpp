// Windows access violations and stack overflows for traps: one vectored
// exception handler. See docs/SAFETY.md, "Traps (Windows)", and
// docs/SPEC.md, X3 and S4.
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
//
// Stack overflow (S4): EXCEPTION_STACK_OVERFLOW inside catch_traps leaves the
// body the same way. The system raises it on the exhausted stack itself,
// after the guard page below the stack was used up; the dispatcher and this
// handler run in what the system keeps free below it for exception handling
// (the thread's stack guarantee), and the handler only reads the TLS slot and
// rewrites the context. leave_body then jumps back up to the catch frame,
// where run_with_trap_target restores the guard page (_resetstkoflw): without
// it the thread's next overflow would find no guard and end the process.
#include <malloc.h>  // _resetstkoflw
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
  volatile TrapKind kind;
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

// S4: the fault address the record carries, else (a stack overflow raised
// while the dispatcher itself pushed into the guard page, whose record has no
// parameters under Wine) the stack pointer at the fault, which is in the
// guard area too.
std::uintptr_t fault_address(const EXCEPTION_RECORD& record, const CONTEXT& context) noexcept {
  return record.NumberParameters >= 2 ? static_cast<std::uintptr_t>(record.ExceptionInformation[1])
                                      : static_cast<std::uintptr_t>(context.Rsp);
}

// Makes `target` the thread's resume point and points the context at
// leave_body, with its first argument `target`.
void leave(TrapTarget* target, TrapKind kind, std::uintptr_t address, CONTEXT& context) noexcept {
  target->fault_address = reinterpret_cast<const void*>(address);
  target->kind = kind;
  set_innermost(target->outer);
  // A call's entry state: the stack 16-byte aligned before the (never
  // used) return address, below the faulting frame.
  context.Rsp = ((context.Rsp - 128) & ~DWORD64{15}) - 8;
  context.Rcx = reinterpret_cast<DWORD64>(target);
  context.Rip = reinterpret_cast<DWORD64>(&leave_body);
}

LONG CALLBACK on_exception(EXCEPTION_POINTERS* exception) {
  const EXCEPTION_RECORD& record = *exception->ExceptionRecord;
  const bool overflow = record.ExceptionCode == EXCEPTION_STACK_OVERFLOW;
  if (!overflow && !is_access_fault(record)) return EXCEPTION_CONTINUE_SEARCH;
  // TlsGetValue sets the thread's last error; the interrupted code keeps its own.
  const DWORD saved_error = GetLastError();
  TrapTarget* const target = innermost();
  SetLastError(saved_error);
  CONTEXT& context = *exception->ContextRecord;
  const std::uintptr_t address = fault_address(record, context);
  // A RaiseException with these codes is not told apart from a real fault
  // (Windows records no sender): both are treated as raised by an access.
  // An overflow's address is on the stack, in no reservation: no lookup.
  const trap::FaultFacts facts{address,
                               true,
                               target != nullptr,
                               overflow ? std::nullopt : trap::find_live(address),
                               target != nullptr && target->retried_address == address,
                               overflow};
  const trap::FaultVerdict verdict = trap::classify_fault(facts);
  switch (verdict) {
    case trap::FaultVerdict::Trap:
    case trap::FaultVerdict::StackOverflow:
      leave(target,
            verdict == trap::FaultVerdict::StackOverflow ? TrapKind::StackOverflow
                                                         : TrapKind::MemoryOutOfBounds,
            address, context);
      SetLastError(saved_error);
      return EXCEPTION_CONTINUE_EXECUTION;
    case trap::FaultVerdict::Retry:
      target->retried_address = address;
      return EXCEPTION_CONTINUE_EXECUTION;
    case trap::FaultVerdict::Foreign:
      break;
  }
  // Not ours: the next handler (vectored, then frame-based, then the
  // unhandled-exception filter) sees it as if we were not installed (T3). An
  // overflow outside catch_traps ends the process as without the library.
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
  target.kind = TrapKind::MemoryOutOfBounds;
  target.retried_address = 0;
  if (__builtin_setjmp(target.jump) != 0) {
    // The handler made `outer` innermost again. Back at this frame's depth
    // the stack has room again: put a guard page below it for the next
    // overflow. If that fails (no room left below), the next overflow of
    // this thread ends the process, as without the library.
    if (target.kind == TrapKind::StackOverflow) (void)_resetstkoflw();
    return Trap{target.kind, target.fault_address};
  }
  set_innermost(&target);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  body(context);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  set_innermost(target.outer);
  return std::nullopt;
}

}  // namespace wrt::platform::prim
