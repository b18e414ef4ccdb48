// How an allocator keeps its memory in the trap registry (fault_registry.hpp);
// MmapPageAllocator and PooledPageAllocator do it the same way:
//   allocate:   claim_memory_entry() before any OS call (a full registry is
//               CapacityExceeded and nothing else happened), publish_memory()
//               once the initial pages are accessible;
//   grow:       publish_committed_bytes() after the new pages are accessible;
//   deallocate: trap::retract() before the range is released or reset,
//               trap::release_slot() after.
// So the handler sees a memory exactly while it lives, and a released range
// is never reported as ours.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trap/fault_registry.hpp"
#include "wrt/platform/error.hpp"

namespace wrt::platform::trap {

// A registry entry for a memory about to be allocated. CapacityExceeded when
// every entry is taken (kRegistryCapacity memories live).
inline Result<std::uint32_t> claim_memory_entry() noexcept {
  const auto slot = claim_slot();
  if (!slot)
    return tl::unexpected(Error(ErrorCode::CapacityExceeded,
                                "allocate: too many live memories (trap registry full)"));
  return *slot;
}

// Makes the memory at `base` live: its first `committed_bytes` are
// accessible, and up to `span_bytes` from base (reservation plus guard) a
// fault is a trap.
inline void publish_memory(std::uint32_t slot, const std::byte* base, std::size_t committed_bytes,
                           std::size_t span_bytes) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(base);
  publish(slot, {begin, begin + committed_bytes, begin + span_bytes});
}

// After a grow made the memory's first `committed_bytes` accessible.
inline void publish_committed_bytes(std::uint32_t slot, const std::byte* base,
                                    std::size_t committed_bytes) noexcept {
  publish_committed_end(slot, reinterpret_cast<std::uintptr_t>(base) + committed_bytes);
}

}  // namespace wrt::platform::trap
