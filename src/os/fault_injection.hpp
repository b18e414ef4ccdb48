// Test-only control of the system-call seam (seam.hpp). Compiled in only
// with WRT_PLATFORM_FAULT_INJECTION; not part of the installed API.
#pragma once

#include <cstdint>

#include "os/seam.hpp"

namespace wrt::platform::fault {

using prim::OsCall;

// After letting `skip` further calls of `call` through, fails the next
// `times` calls with `error` (an errno value).
void fail(OsCall call, int error, std::uint32_t skip = 0, std::uint32_t times = 1) noexcept;
// Disarms every planned failure and hook and zeroes the call counters.
void reset() noexcept;
// How many times `call` was attempted (failed or not) since the last reset().
std::uint64_t calls(OsCall call) noexcept;

// A test's hook: holds the thread that runs it to force an interleaving
// that scheduling alone makes only likely (see tests/deadline_test_support.hpp).
using Hook = void (*)() noexcept;
// Runs `hook` on the calling thread each time `call` reaches the seam, before
// the call is counted or made; nullptr removes it.
void before(OsCall call, Hook hook) noexcept;
// Runs `hook` in the trap handler after every fault, before the handler
// looks the address up (prim::trap_lookup_pause); nullptr removes it. The
// hook runs in a signal handler: it must be async-signal-safe.
void before_trap_lookup(Hook hook) noexcept;

}  // namespace wrt::platform::fault
