// POSIX fault signals for traps (SIGSEGV, SIGBUS). See docs/SAFETY.md, "Traps".
//
// Control leaves a trapping body by siglongjmp from the handler to the
// sigsetjmp in run_with_trap_target, whose frame is live for the whole body.
// sigsetjmp does not save the mask (no system call on the no-trap path); the
// handler restores the mask of the interrupted code from the ucontext before
// jumping, so the fault signal is unblocked again and the thread can trap again.
//
// Stack overflow (S4): the handler runs with SA_ONSTACK, on the alternate
// signal stack that a thread's first catch_traps installs (unless it has
// one). Stale frames (S6): catch frames are linked both ways; a frame below
// the interrupted stack pointer is dead and is never read.
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "os/os_traps.hpp"
#include "os/posix/os_call.hpp"
#include "os/seam.hpp"
#include "trap/fault_policy.hpp"
#include "trap/fault_registry.hpp"

namespace wrt::platform::prim {
namespace {

// One catch_traps on this thread. Lives in run_with_trap_target's frame, on
// the real stack (a function that calls sigsetjmp gets no sanitizer fake
// stack), so its address orders it against the stack pointer.
struct TrapTarget {
  sigjmp_buf jump;
  // The next live frame further out, and the next one further in (or null).
  TrapTarget* outer;
  TrapTarget* inner;
  // Written by the handler after sigsetjmp, read after the jump: volatile.
  volatile TrapKind kind;
  const void* volatile fault_address;
  volatile std::uintptr_t retried_address;
};

// This thread's catch frames and stack guard. Trivially destructible and
// initial-exec: the handler reads it without the lazy allocation or
// initialisation a dynamic TLS access may do, and every thread (including
// threads started before the handler was installed) has it from its start.
struct ThreadTraps {
  // The innermost and the outermost frame; the innermost may be dead (S6).
  TrapTarget* innermost;
  TrapTarget* outermost;
  // The guard below this thread's stack, [guard_begin, guard_end) (S4).
  std::uintptr_t guard_begin;
  std::uintptr_t guard_end;
  // The guard is known and the alternate stack is in place (or failed).
  bool prepared;
};
[[gnu::tls_model("initial-exec")]] thread_local ThreadTraps traps{};

// A frame is live while the code running on this thread is deeper in the
// stack (which grows down): its address is above the stack pointer `mark`.
// A frame below it was left by a longjmp the library did not see.
bool is_live(const TrapTarget* target, std::uintptr_t mark) noexcept {
  return reinterpret_cast<std::uintptr_t>(target) > mark;
}

// The innermost live frame, or null. The frames are ordered by address, so
// the dead ones are the innermost few; a dead frame's memory may have been
// reused, so the walk starts from the outermost and reads live frames only.
TrapTarget* innermost_live(std::uintptr_t mark) noexcept {
  if (traps.innermost == nullptr || is_live(traps.innermost, mark)) return traps.innermost;
  TrapTarget* live = nullptr;
  for (TrapTarget* t = traps.outermost; t != nullptr && is_live(t, mark); t = t->inner) live = t;
  return live;
}

// Makes `target` (live, or null) the innermost frame: every frame inside it
// is gone.
void make_innermost(TrapTarget* target) noexcept {
  traps.innermost = target;
  if (target != nullptr)
    target->inner = nullptr;
  else
    traps.outermost = nullptr;
}

std::uintptr_t interrupted_stack_pointer(const ucontext_t* context) noexcept {
#if defined(__linux__) && defined(__x86_64__)
  return static_cast<std::uintptr_t>(context->uc_mcontext.gregs[REG_RSP]);
#elif defined(__linux__) && defined(__i386__)
  return static_cast<std::uintptr_t>(context->uc_mcontext.gregs[REG_ESP]);
#elif defined(__linux__) && defined(__aarch64__)
  return static_cast<std::uintptr_t>(context->uc_mcontext.sp);
#elif defined(__APPLE__) && defined(__x86_64__)
  return static_cast<std::uintptr_t>(context->uc_mcontext->__ss.__rsp);
#elif defined(__APPLE__) && defined(__aarch64__)
  return static_cast<std::uintptr_t>(
      __darwin_arm_thread_state64_get_sp(context->uc_mcontext->__ss));
#else
#error "interrupted_stack_pointer: add this platform's stack pointer register"
#endif
}

// The alternate signal stack the library installed for this thread, freed
// at thread exit. Touched only by prepare_thread (never by the handler, so
// its lazy thread_local initialisation is not async-signal-safe and need
// not be).
class AlternateStack {
 public:
  AlternateStack() = default;
  AlternateStack(const AlternateStack&) = delete;
  AlternateStack& operator=(const AlternateStack&) = delete;
  ~AlternateStack() {
    if (mapping_ == nullptr) return;
    // Only ours is switched off: the thread may have replaced it since.
    stack_t current{};
    if (sigaltstack(nullptr, &current) == 0 && current.ss_sp == stack() &&
        !(current.ss_flags & SS_DISABLE)) {
      stack_t off{};
      off.ss_flags = SS_DISABLE;
      sigaltstack(&off, nullptr);
    }
    (void)os_call(OsCall::Munmap, [&] { return munmap(mapping_, mapping_bytes()) == 0; });
  }

  // Installs one unless the thread already has one (kept). On failure the
  // thread has none: a stack overflow kills it as without the library.
  void install() noexcept {
    stack_t current{};
    if (os_call(OsCall::Sigaction, [&] { return sigaltstack(nullptr, &current) == 0; }) != 0 ||
        !(current.ss_flags & SS_DISABLE))
      return;
    void* p = MAP_FAILED;
    if (os_call(OsCall::Mmap, [&] {
          p = mmap(nullptr, mapping_bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0);
          return p != MAP_FAILED;
        }) != 0)
      return;
    mapping_ = static_cast<std::byte*>(p);
    // A guard page below it: a handler that overflows the alternate stack
    // faults instead of writing over whatever lies below.
    stack_t ours{};
    ours.ss_sp = stack();
    ours.ss_size = stack_bytes();
    if (os_call(OsCall::Mprotect, [&] { return mprotect(mapping_, page(), PROT_NONE) == 0; }) !=
            0 ||
        os_call(OsCall::Sigaction, [&] { return sigaltstack(&ours, nullptr) == 0; }) != 0) {
      munmap(mapping_, mapping_bytes());
      mapping_ = nullptr;
    }
  }

 private:
  static std::size_t page() noexcept { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }
  // Room for our handler and for a previous handler we chain to.
  static std::size_t stack_bytes() noexcept {
    return std::max<std::size_t>(64 * 1024, static_cast<std::size_t>(SIGSTKSZ));
  }
  std::size_t mapping_bytes() const noexcept { return page() + stack_bytes(); }
  void* stack() const noexcept { return mapping_ + page(); }

  std::byte* mapping_ = nullptr;
};

// S4: finds the guard below this thread's stack from its own attributes
// and makes sure it has an alternate signal stack. Once per thread, at its
// first catch_traps (not in the handler: pthread_getattr_np may allocate).
void prepare_thread() noexcept {
  traps.prepared = true;
#if defined(__linux__)
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
    void* lowest = nullptr;
    std::size_t size = 0;
    std::size_t guard = 0;
    if (pthread_attr_getstack(&attributes, &lowest, &size) == 0 &&
        pthread_attr_getguardsize(&attributes, &guard) == 0) {
      // The main thread reports no guard (the kernel keeps a gap below a
      // stack that may not grow further): its first page counts.
      const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
      traps.guard_end = reinterpret_cast<std::uintptr_t>(lowest);
      traps.guard_begin = traps.guard_end - std::max(guard, page);
    }
    pthread_attr_destroy(&attributes);
  }
#endif
  static thread_local AlternateStack alternate_stack;
  alternate_stack.install();
}

constexpr int kFaultSignals[] = {SIGSEGV, SIGBUS};
constexpr std::size_t kSignalCount = sizeof kFaultSignals / sizeof kFaultSignals[0];

// The actions installed before ours. Written before our handler is installed
// for that signal, read-only afterwards.
struct sigaction previous_actions[kSignalCount];
// A previous action with SA_RESETHAND has been run once and is the default
// action from then on, as the kernel would have reset it (S5).
std::atomic<bool> previous_was_reset[kSignalCount];

std::size_t signal_index(int signal) noexcept { return signal == SIGSEGV ? 0 : 1; }

// Runs the previous handler as the kernel would have (S5): SA_SIGINFO or
// plain, with the interrupted code's mask plus its own sa_mask plus the
// signal (unless SA_NODEFER) blocked.
void run_previous(const struct sigaction& previous, int signal, siginfo_t* info,
                  void* context) noexcept {
  sigset_t mask = static_cast<ucontext_t*>(context)->uc_sigmask;
  for (int s = 1; s < NSIG; ++s)
    if (sigismember(&previous.sa_mask, s) == 1) sigaddset(&mask, s);
  if (!(previous.sa_flags & SA_NODEFER)) sigaddset(&mask, signal);
  sigset_t ours;
  sigprocmask(SIG_SETMASK, &mask, &ours);
  if (previous.sa_flags & SA_SIGINFO)
    previous.sa_sigaction(signal, info, context);
  else
    previous.sa_handler(signal);
  sigprocmask(SIG_SETMASK, &ours, nullptr);
}

// Passes a fault that is not ours to the previous action, as if we were not
// installed (T3, S5).
void chain(int signal, siginfo_t* info, void* context) noexcept {
  const std::size_t index = signal_index(signal);
  const struct sigaction& previous = previous_actions[index];
  const bool raised_by_access = info->si_code > 0;
  bool is_handler = (previous.sa_flags & SA_SIGINFO) ||
                    (previous.sa_handler != SIG_IGN && previous.sa_handler != SIG_DFL);
  // SA_RESETHAND: the kernel resets the action as it delivers the signal, so
  // exactly one delivery runs the handler; every later one gets the default.
  if (is_handler && (static_cast<unsigned>(previous.sa_flags) & SA_RESETHAND) != 0)
    is_handler = !previous_was_reset[index].exchange(true);
  if (is_handler) return run_previous(previous, signal, info, context);
  // A sent signal that was ignored stays ignored; a fault cannot be ignored
  // (the kernel forces the default action), so it falls through to it.
  if (previous.sa_handler == SIG_IGN && !raised_by_access) return;
  // The default action: die by this signal. A faulting access faults again
  // when the handler returns; a sent signal is sent again (it is blocked
  // until we return, then delivered with the default action).
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(signal, &default_action, nullptr);
  if (!raised_by_access) raise(signal);
}

// Leaves the body of `target` (live) for its sigsetjmp with this trap.
[[noreturn]] void leave(TrapTarget* target, TrapKind kind, const void* address,
                        const ucontext_t* context) noexcept {
  target->kind = kind;
  target->fault_address = address;
  make_innermost(target->outer);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  // The mask the body ran with (the fault signal is blocked in here).
  sigprocmask(SIG_SETMASK, &context->uc_sigmask, nullptr);
  siglongjmp(target->jump, 1);
}

void on_fault(int signal, siginfo_t* info, void* ucontext) {
  const int saved_errno = errno;
  const auto* const context = static_cast<const ucontext_t*>(ucontext);
  TrapTarget* const target = innermost_live(interrupted_stack_pointer(context));
  const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
  trap_lookup_pause();  // test builds only: lets a test grow here (seam.hpp)
  const trap::FaultFacts facts{address,
                               info->si_code > 0,
                               target != nullptr,
                               trap::find_live(address),
                               target != nullptr && target->retried_address == address,
                               traps.guard_begin <= address && address < traps.guard_end};
  switch (trap::classify_fault(facts)) {
    case trap::FaultVerdict::Trap:
      leave(target, TrapKind::MemoryOutOfBounds, info->si_addr, context);
    case trap::FaultVerdict::StackOverflow:
      leave(target, TrapKind::StackOverflow, info->si_addr, context);
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
  // SA_ONSTACK: the handler runs on the thread's alternate signal stack, so
  // it can run when the body has exhausted the thread's stack (S4).
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
  if (!traps.prepared) prepare_thread();
  TrapTarget target;
  // Frames at or below this one are dead (S6): this frame may even reuse one.
  TrapTarget* const outer = innermost_live(reinterpret_cast<std::uintptr_t>(&target));
  target.outer = outer;
  target.inner = nullptr;
  target.kind = TrapKind::MemoryOutOfBounds;
  target.fault_address = nullptr;
  target.retried_address = 0;
  if (sigsetjmp(target.jump, 0) != 0)
    // The handler made `outer` innermost again and restored the mask.
    return Trap{target.kind, target.fault_address};
  if (outer != nullptr)
    outer->inner = &target;
  else
    traps.outermost = &target;
  traps.innermost = &target;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  body(context);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  make_innermost(outer);
  return std::nullopt;
}

}  // namespace wrt::platform::prim
