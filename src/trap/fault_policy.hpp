// Is this fault ours? The trap handler's whole decision, as a pure function
// of what the handler knows, so it is tested directly on every host and a
// Windows vectored exception handler can share it (docs/SPEC.md, T1-T3,
// S4, S10).
#pragma once

#include <cstdint>
#include <optional>

#include "trap/fault_registry.hpp"

namespace wrt::platform::trap {

// The widest access a runtime makes (a v128 load or store): an access that
// starts below a memory's committed end and faults starts at most
// kWidestAccess - 1 bytes below it.
inline constexpr std::uintptr_t kWidestAccess = 16;

enum class FaultVerdict {
  // Leave the body: catch_traps returns Trap{MemoryOutOfBounds, address}.
  Trap,
  // The body exhausted this thread's stack: catch_traps returns
  // Trap{StackOverflow, address} (S4).
  StackOverflow,
  // The byte was committed by a concurrent grow after the access faulted:
  // return from the handler and run the access again (it now succeeds).
  Retry,
  // Not ours: the previously installed action handles it, as without us.
  Foreign,
};

struct FaultFacts {
  std::uintptr_t address;
  // The OS raised it for an access (si_code > 0), not kill()/raise()/sigqueue().
  bool raised_by_access;
  // This thread is inside catch_traps (a live catch frame, S6).
  bool inside_catch;
  // The live reservation holding `address`, if any (find_live).
  std::optional<ReservationView> reservation;
  // The innermost catch_traps already retried a fault at this address: a
  // second fault there is not a grow race (committed bytes never become
  // inaccessible again while live), so it must not loop.
  bool already_retried_here;
  // `address` is in the guard below this thread's stack (S4).
  bool in_stack_guard = false;
};

// S10: a fault reported below the committed end but within the widest
// access of it. An access that starts there and faults straddles the
// committed end, and some cores (ARM) report its first byte rather than
// the first inaccessible one.
constexpr bool may_straddle_committed_end(std::uintptr_t address,
                                          std::uintptr_t committed_end) noexcept {
  return address < committed_end && committed_end - address < kWidestAccess;
}

constexpr FaultVerdict classify_fault(const FaultFacts& f) noexcept {
  if (!f.raised_by_access || !f.inside_catch) return FaultVerdict::Foreign;
  if (f.in_stack_guard) return FaultVerdict::StackOverflow;
  if (!f.reservation) return FaultVerdict::Foreign;
  if (f.address >= f.reservation->committed_end) return FaultVerdict::Trap;
  // Below the committed end: first a grow race (retry once). A second fault
  // at the same address is no race; it is ours only if the access can
  // straddle the committed end (S10), else something foreign made
  // committed bytes inaccessible.
  if (!f.already_retried_here) return FaultVerdict::Retry;
  return may_straddle_committed_end(f.address, f.reservation->committed_end)
             ? FaultVerdict::Trap
             : FaultVerdict::Foreign;
}

}  // namespace wrt::platform::trap
