#include "wrt/platform/mmap_page_allocator.hpp"

#include <cstdint>
#include <utility>

#include "allocator/page_policy.hpp"
#include "os/os_memory.hpp"
#include "trap/memory_registration.hpp"
#include "wrt/platform/bounds_check.hpp"

namespace wrt::platform {
namespace {

// The memory's layout (detail::plan_mapping) on this OS.
Result<detail::MappingLayout> layout(std::size_t maximum_bytes, const PageAllocatorConfig& config) {
  const auto planned = detail::plan_mapping(maximum_bytes, config.reservation_bytes,
                                            config.guard_bytes, prim::os_page_size());
  if (!planned)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "allocate: reservation plus guard overflows size_t"));
  return *planned;
}

}  // namespace

MmapPageAllocator::MmapPageAllocator(PageAllocatorConfig config) noexcept : config_(config) {}

MmapPageAllocator::~MmapPageAllocator() {
  // Nothing to report to: a failed munmap here can only mean a corrupted
  // mapping, and the address space goes back to the OS at exit anyway.
  if (!is_allocated()) return;
  trap::retract(trap_entry_);
  (void)prim::release(mapping_, mapping_bytes_);
  trap::release_entry(trap_entry_);
}

MmapPageAllocator::MmapPageAllocator(MmapPageAllocator&& other) noexcept
    : config_(other.config_),
      state_(std::exchange(other.state_, {})),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_bytes_(std::exchange(other.mapping_bytes_, 0)),
      reservation_bytes_(std::exchange(other.reservation_bytes_, 0)),
      guarded_bytes_(std::exchange(other.guarded_bytes_, 0)),
      trap_entry_(std::exchange(other.trap_entry_, nullptr)) {}

MmapPageAllocator& MmapPageAllocator::operator=(MmapPageAllocator&& other) noexcept {
  if (this != &other) {
    MmapPageAllocator old(std::move(*this));
    config_ = other.config_;
    state_ = std::exchange(other.state_, {});
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
    reservation_bytes_ = std::exchange(other.reservation_bytes_, 0);
    guarded_bytes_ = std::exchange(other.guarded_bytes_, 0);
    trap_entry_ = std::exchange(other.trap_entry_, nullptr);
  }
  return *this;
}

Result<Allocation> MmapPageAllocator::allocate(std::uint32_t initial_pages,
                                               std::optional<std::uint32_t> maximum_pages) {
  const auto plan =
      detail::plan_allocate(state_, initial_pages, maximum_pages, config_.maximum_pages);
  if (!plan) return tl::unexpected(plan.error());
  const auto pieces = layout(plan->reserved_bytes, config_);
  if (!pieces) return tl::unexpected(pieces.error());
  const auto entry = trap::claim_memory_entry();
  if (!entry) return tl::unexpected(entry.error());

  const auto mapping = prim::reserve(pieces->mapping_bytes);
  if (!mapping) {
    trap::release_entry(*entry);
    return tl::unexpected(mapping.error());
  }
  std::byte* const base =
      *mapping + detail::base_offset(reinterpret_cast<std::uintptr_t>(*mapping));
  const detail::LinearMemoryState grown{base, initial_pages, plan->reserved_pages};
  if (initial_pages > 0) {
    if (auto committed = prim::commit(base, grown.committed_bytes()); !committed) {
      // Undo the reservation so that the failed call leaves nothing behind.
      (void)prim::release(*mapping, pieces->mapping_bytes);
      trap::release_entry(*entry);
      return tl::unexpected(committed.error());
    }
  }
  state_ = grown;
  mapping_ = *mapping;
  mapping_bytes_ = pieces->mapping_bytes;
  reservation_bytes_ = pieces->reservation_bytes;
  guarded_bytes_ = pieces->guarded_bytes;
  trap_entry_ = *entry;
  publish_reservation();
  return Allocation{state_.base, state_.committed_bytes()};
}

bool MmapPageAllocator::elides_bounds_checks() const noexcept {
  // A memory with the smallest maximum (0 pages) still reserves the floor.
  const auto least = layout(0, config_);
  return least && wrt::platform::elides_bounds_checks(least->guarded_bytes);
}

void MmapPageAllocator::publish_reservation() const noexcept {
  trap::publish_memory(trap_entry_, state_.base, committed_bytes(), guarded_bytes_);
}

Result<void> MmapPageAllocator::grow(std::uint32_t current_pages, std::uint32_t additional_pages) {
  const auto new_pages = detail::plan_grow(state_, current_pages, additional_pages);
  if (!new_pages) return tl::unexpected(new_pages.error());
  if (additional_pages == 0) return {};
  // The pages were never committed before (memories only grow), so the OS
  // hands them out zero-filled.
  const std::size_t added_bytes = std::size_t{additional_pages} * kWasmPageSize;
  if (auto committed = prim::commit(state_.base + state_.committed_bytes(), added_bytes);
      !committed)
    return tl::unexpected(committed.error());
  state_.committed_pages = *new_pages;
  // After the pages are accessible: a fault the handler sees below the new
  // end was a race with this grow and is retried, not reported.
  trap::publish_committed_bytes(trap_entry_, state_.base, committed_bytes());
  return {};
}

Result<void> MmapPageAllocator::deallocate(std::byte* ptr, std::size_t size) {
  if (auto valid = detail::check_deallocate(state_, ptr, size); !valid)
    return tl::unexpected(valid.error());
  // Out of the registry before the range goes back to the OS, so a fault
  // there (even after another memory reuses the addresses, until that one
  // publishes) is never reported as a trap.
  trap::retract(trap_entry_);
  if (auto released = prim::release(mapping_, mapping_bytes_); !released) {
    publish_reservation();
    return tl::unexpected(released.error());
  }
  trap::release_entry(trap_entry_);
  state_ = {};
  mapping_ = nullptr;
  mapping_bytes_ = 0;
  reservation_bytes_ = 0;
  guarded_bytes_ = 0;
  return {};
}

}  // namespace wrt::platform
