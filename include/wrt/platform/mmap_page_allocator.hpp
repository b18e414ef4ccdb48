// MmapPageAllocator: a linear memory in POSIX virtual memory.
//
// allocate() reserves the whole maximum (at least config.reservation_bytes)
// plus the guard as inaccessible address
// space (no resident memory, no commit charge) and commits the initial pages;
// grow() commits more in place, so `base` never moves; deallocate() and the
// destructor return the whole reservation with one munmap. Every failed call
// leaves the allocator unchanged. A live memory is in the trap registry, so
// a fault on its inaccessible bytes inside catch_traps is a trap (trap.hpp).
// See docs/SPEC.md (A1-A14, T5), docs/SAFETY.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform {
namespace trap {
struct Entry;  // src/trap/fault_registry.hpp
}  // namespace trap

class MmapPageAllocator {
 public:
  explicit MmapPageAllocator(PageAllocatorConfig config = {}) noexcept;
  ~MmapPageAllocator();

  MmapPageAllocator(MmapPageAllocator&& other) noexcept;
  MmapPageAllocator& operator=(MmapPageAllocator&& other) noexcept;
  MmapPageAllocator(const MmapPageAllocator&) = delete;
  MmapPageAllocator& operator=(const MmapPageAllocator&) = delete;

  // Reserves `maximum_pages` (default: config.maximum_pages) and commits
  // `initial_pages`, zero-filled. Errors: InvalidArgument, CapacityExceeded,
  // AlreadyAllocated, OutOfMemory, SystemError.
  Result<Allocation> allocate(std::uint32_t initial_pages,
                              std::optional<std::uint32_t> maximum_pages = std::nullopt);

  // Commits `additional_pages` after the `current_pages` already committed.
  // Errors: NotAllocated, StateMismatch, CapacityExceeded, OutOfMemory, SystemError.
  Result<void> grow(std::uint32_t current_pages, std::uint32_t additional_pages);

  // Releases the memory; `ptr`/`size` must be base() and committed_bytes().
  // Errors: NotAllocated, PointerMismatch, SystemError.
  Result<void> deallocate(std::byte* ptr, std::size_t size);

  std::byte* base() const noexcept { return state_.base; }
  std::uint32_t committed_pages() const noexcept { return state_.committed_pages; }
  std::size_t committed_bytes() const noexcept { return state_.committed_bytes(); }
  // The whole reservation (without guard): the maximum, or more with
  // config.reservation_bytes (T5).
  std::size_t reserved_bytes() const noexcept { return reservation_bytes_; }
  bool is_allocated() const noexcept { return state_.allocated(); }
  const PageAllocatorConfig& config() const noexcept { return config_; }

  // True when a runtime may drop every bounds check on this allocator's
  // memories (docs/SPEC.md S3): every memory it allocates reserves at least
  // config().reservation_bytes, and that plus the guard (both rounded up as
  // allocate() rounds them) covers every byte of every 32-bit access
  // (bounds_check.hpp: at least 2^33 + 14 bytes). Depends on the config only,
  // so it may be asked before allocate(); false at 4 GiB + 4 GiB.
  bool elides_bounds_checks() const noexcept;

 private:
  // Makes the live memory known to the trap handler.
  void publish_reservation() const noexcept;

  PageAllocatorConfig config_;
  detail::LinearMemoryState state_;
  // The whole OS mapping: alignment slack, reservation and guard.
  std::byte* mapping_ = nullptr;
  std::size_t mapping_bytes_ = 0;
  // From base: the reservation, and the reservation plus the rounded guard.
  std::size_t reservation_bytes_ = 0;
  std::size_t guarded_bytes_ = 0;
  // This memory's entry in the trap registry (src/trap/fault_registry.hpp).
  trap::Entry* trap_entry_ = nullptr;
};

static_assert(PageAllocator<MmapPageAllocator>);

}  // namespace wrt::platform
