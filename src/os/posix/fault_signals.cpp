// POSIX fault signals for traps (SIGSEGV, SIGBUS). See docs/SAFETY.md, "Traps".
//
// Control leaves a trapping body by siglongjmp from the handler to the
// sigsetjmp in run_with_trap_target, whose frame is live for the whole body.
// sigsetjmp does not save the mask (no system call on the no-trap path); the
// handler restores the mask of the interrupted code from the ucontext before
// jumping, so the fault signal is unblocked again and the thread can trap again.
#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "os/os_traps.hpp"
#include "os/seam.hpp"
#include "trap/fault_policy.hpp"
#include "trap/fault_registry.hpp"

namespace wrt::platform::prim {
namespace {

// One catch_traps on this thread. Lives in run_with_trap_target's frame.
struct TrapTarget {
  sigjmp_buf jump;
  TrapTarget* outer;
  // Written by the handler after sigsetjmp, read after the jump: volatile.
  const void* volatile fault_address;
  volatile std::uintptr_t retried_address;
};

// The innermost catch_traps of this thread, or null. initial-exec: the
// handler must read it without the lazy allocation a dynamic TLS access may
// do, and every thread (including threads started before the handler was
// installed) has it from its start.
[[gnu::tls_model("initial-exec")]] thread_local TrapTarget* innermost = nullptr;

constexpr int kFaultSignals[] = {SIGSEGV, SIGBUS};
constexpr std::size_t kSignalCount = sizeof kFaultSignals / sizeof kFaultSignals[0];

// The actions installed before ours. Written before our handler is installed
// for that signal, read-only afterwards.
struct sigaction previous_actions[kSignalCount];

std::size_t signal_index(int signal) noexcept { return signal == SIGSEGV ? 0 : 1; }

// Passes a fault that is not ours to the previous action, as if we were not
// installed (T3).
void chain(int signal, siginfo_t* info, void* ucontext) noexcept {
  const struct sigaction& previous = previous_actions[signal_index(signal)];
  if (previous.sa_flags & SA_SIGINFO) return previous.sa_sigaction(signal, info, ucontext);
  const bool raised_by_access = info->si_code > 0;
  // A sent signal that was ignored stays ignored; a fault cannot be ignored
  // (the kernel forces the default action), so it falls through to it.
  if (previous.sa_handler == SIG_IGN && !raised_by_access) return;
  if (previous.sa_handler != SIG_IGN && previous.sa_handler != SIG_DFL)
    return previous.sa_handler(signal);
  // The default action: die by this signal. A faulting access faults again
  // when the handler returns; a sent signal is sent again (it is blocked
  // until we return, then delivered with the default action).
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(signal, &default_action, nullptr);
  if (!raised_by_access) raise(signal);
}

void on_fault(int signal, siginfo_t* info, void* ucontext) {
  const int saved_errno = errno;
  TrapTarget* const target = innermost;
  const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
  trap_lookup_pause();  // test builds only: lets a test grow here (seam.hpp)
  const trap::FaultFacts facts{address, info->si_code > 0, target != nullptr,
                               trap::find_live(address),
                               target != nullptr && target->retried_address == address};
  switch (trap::classify_fault(facts)) {
    case trap::FaultVerdict::Trap:
      target->fault_address = info->si_addr;
      innermost = target->outer;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      // The mask the body ran with (the fault signal is blocked in here).
      sigprocmask(SIG_SETMASK, &static_cast<ucontext_t*>(ucontext)->uc_sigmask, nullptr);
      siglongjmp(target->jump, 1);
    case trap::FaultVerdict::Retry:
      target->retried_address = address;
      break;
    case trap::FaultVerdict::Foreign:
      chain(signal, info, ucontext);
      break;
  }
  errno = saved_errno;
}

int checked_sigaction(int signal, const struct sigaction* action, struct sigaction* old) noexcept {
  if (const int injected = intercept(OsCall::Sigaction)) return injected;
  return sigaction(signal, action, old) == 0 ? 0 : errno;
}

}  // namespace

Result<void> install_fault_handlers() noexcept {
  // Read every previous action first, so that the handler never sees a
  // half-written one.
  for (std::size_t i = 0; i < kSignalCount; ++i) {
    if (const int error = checked_sigaction(kFaultSignals[i], nullptr, &previous_actions[i]))
      return tl::unexpected(
          Error(ErrorCode::SystemError, "sigaction: reading the previous action failed", error));
  }
  struct sigaction ours {};
  ours.sa_sigaction = on_fault;
  // SA_ONSTACK: a thread that has an alternate signal stack (a runtime's,
  // a sanitizer's) handles faults there; we install none ourselves.
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&ours.sa_mask);
  for (std::size_t i = 0; i < kSignalCount; ++i) {
    if (const int error = checked_sigaction(kFaultSignals[i], &ours, nullptr)) {
      // All-or-nothing: put back what we already replaced.
      for (std::size_t j = 0; j < i; ++j)
        sigaction(kFaultSignals[j], &previous_actions[j], nullptr);
      return tl::unexpected(
          Error(ErrorCode::SystemError, "sigaction: installing the trap handler failed", error));
    }
  }
  return {};
}

std::optional<Trap> run_with_trap_target(void (*body)(void*), void* context) noexcept {
  TrapTarget target;
  target.outer = innermost;
  target.fault_address = nullptr;
  target.retried_address = 0;
  if (sigsetjmp(target.jump, 0) != 0)
    // The handler made `outer` innermost again and restored the mask.
    return Trap{TrapKind::MemoryOutOfBounds, target.fault_address};
  innermost = &target;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  body(context);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  innermost = target.outer;
  return std::nullopt;
}

}  // namespace wrt::platform::prim
