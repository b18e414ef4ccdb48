// The platform half of traps: installing the fault handler and leaving a
// faulting body. POSIX: src/os/posix/fault_signals.cpp (sigaction for SIGSEGV
// and SIGBUS, sigsetjmp/siglongjmp). The decision whether a fault is ours is
// platform-free (trap/fault_policy.hpp, trap/fault_registry.hpp).
// docs/SAFETY.md, "Traps", lists every signal call and its invariants.
#pragma once

#include <optional>

#include "wrt/platform/error.hpp"
#include "wrt/platform/trap.hpp"

namespace wrt::platform::prim {

// Installs the fault handler for every fault signal, remembering the
// previous actions. All-or-nothing: on failure every signal keeps its
// previous action. Call at most once successfully (trap.cpp ensures it).
Result<void> install_fault_handlers() noexcept;

// Runs body(context) with a jump target registered for this thread: a fault
// the policy calls a trap returns here as Trap{MemoryOutOfBounds, address}.
std::optional<Trap> run_with_trap_target(void (*body)(void*), void* context) noexcept;

}  // namespace wrt::platform::prim
