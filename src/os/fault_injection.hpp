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
// Disarms every planned failure and zeroes the call counters.
void reset() noexcept;
// How many times `call` was attempted (failed or not) since the last reset().
std::uint64_t calls(OsCall call) noexcept;

}  // namespace wrt::platform::fault
