// How an allocator keeps its memory in the trap registry (fault_registry.hpp);
// MmapPageAllocator and PooledPageAllocator do it the same way:
//   allocate:   claim_memory_entry() before any OS call (no memory for the
//               entry is CapacityExceeded and nothing else happened),
//               publish_memory() once the initial pages are accessible;
//   grow:       publish_committed_bytes() after the new pages are accessible;
//   deallocate: trap::retract() before the range is released or reset,
//               trap::release_entry() after.
// So the handler sees a memory exactly while it lives, and a released range
// is never reported as ours. Only claim_memory_entry can fail.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trap/fault_registry.hpp"
#include "wrt/platform/error.hpp"

namespace wrt::platform::trap {

// A registry entry for a memory about to be allocated. CapacityExceeded when
// the heap has no room for it (the registry itself has no limit).
inline Result<Entry*> claim_memory_entry() noexcept {
  Entry* const entry = claim_entry();
  if (entry == nullptr)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "allocate: no memory for the trap registry entry"));
  return entry;
}

// Makes the memory at `base` live: its first `committed_bytes` are
// accessible, and up to `span_bytes` from base (reservation plus guard) a
// fault is a trap.
inline void publish_memory(Entry* entry, const std::byte* base, std::size_t committed_bytes,
                           std::size_t span_bytes) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(base);
  publish(entry, {begin, begin + committed_bytes, begin + span_bytes});
}

// After a grow made the memory's first `committed_bytes` accessible.
inline void publish_committed_bytes(Entry* entry, const std::byte* base,
                                    std::size_t committed_bytes) noexcept {
  publish_committed_end(entry, reinterpret_cast<std::uintptr_t>(base) + committed_bytes);
}

}  // namespace wrt::platform::trap
