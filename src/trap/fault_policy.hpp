// Is this fault ours? The trap handler's whole decision, as a pure function
// of what the handler knows, so it is tested directly on every host and a
// Windows vectored exception handler can share it (docs/SPEC.md, T1-T3).
#pragma once

#include <cstdint>
#include <optional>

#include "trap/fault_registry.hpp"

namespace wrt::platform::trap {

enum class FaultVerdict {
  // Leave the body: catch_traps returns Trap{MemoryOutOfBounds, address}.
  Trap,
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
  // This thread is inside catch_traps.
  bool inside_catch;
  // The live reservation holding `address`, if any (find_live).
  std::optional<ReservationView> reservation;
  // The innermost catch_traps already retried a fault at this address: a
  // second fault there is not a grow race (committed bytes never become
  // inaccessible again while live), so it must not loop.
  bool already_retried_here;
};

constexpr FaultVerdict classify_fault(const FaultFacts& f) noexcept {
  if (!f.raised_by_access || !f.inside_catch || !f.reservation) return FaultVerdict::Foreign;
  if (f.address >= f.reservation->committed_end) return FaultVerdict::Trap;
  return f.already_retried_here ? FaultVerdict::Foreign : FaultVerdict::Retry;
}

}  // namespace wrt::platform::trap
