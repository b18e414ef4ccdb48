// The only place wrt-platform talks to the OS about memory (mmap, mprotect,
// munmap). Each call reads errno immediately after a failure and maps it:
// ENOMEM -> OutOfMemory, anything else -> SystemError. docs/SAFETY.md lists
// the invariants each call site upholds.
#pragma once

#include <cstddef>

#include "wrt/platform/error.hpp"

namespace wrt::platform::prim {

// The OS page size (a power of two), read once.
std::size_t os_page_size() noexcept;

// Reserves `bytes` (> 0, a multiple of os_page_size()) of inaccessible,
// private, anonymous address space: no resident memory, no commit charge.
Result<std::byte*> reserve(std::size_t bytes) noexcept;

// Makes [p, p + bytes) readable and writable. The range must lie inside one
// inaccessible part of a reservation, so the change is all-or-nothing.
Result<void> commit(std::byte* p, std::size_t bytes) noexcept;

// Returns a whole reservation made by reserve() to the OS.
Result<void> release(std::byte* p, std::size_t bytes) noexcept;

}  // namespace wrt::platform::prim
