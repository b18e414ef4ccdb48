#include "wrt/platform/mmap_page_allocator.hpp"

#include <utility>

#include "allocator/page_policy.hpp"
#include "os/os_memory.hpp"

namespace wrt::platform {
namespace {

// Bytes to map for a reservation: the reservation, the guard rounded up to
// the OS page, and kWasmPageSize of slack so that a kWasmPageSize-aligned
// base fits inside (the OS only aligns to its own page). The slack before the
// base and after the guard stays inaccessible too.
Result<std::size_t> mapping_bytes(std::size_t reserved_bytes, std::size_t guard_bytes) {
  const auto guard = detail::round_up(guard_bytes, prim::os_page_size());
  const auto with_guard = guard ? detail::checked_add(reserved_bytes, *guard) : std::nullopt;
  const auto total = with_guard ? detail::checked_add(*with_guard, kWasmPageSize) : std::nullopt;
  if (!total)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "allocate: reservation plus guard overflows size_t"));
  return *total;
}

std::byte* align_up_to_wasm_page(std::byte* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  const auto aligned = (address + (kWasmPageSize - 1)) & ~std::uintptr_t{kWasmPageSize - 1};
  return p + (aligned - address);
}

}  // namespace

MmapPageAllocator::MmapPageAllocator(PageAllocatorConfig config) noexcept : config_(config) {}

MmapPageAllocator::~MmapPageAllocator() {
  // Nothing to report to: a failed munmap here can only mean a corrupted
  // mapping, and the address space goes back to the OS at exit anyway.
  if (is_allocated()) (void)prim::release(mapping_, mapping_bytes_);
}

MmapPageAllocator::MmapPageAllocator(MmapPageAllocator&& other) noexcept
    : config_(other.config_),
      state_(std::exchange(other.state_, {})),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_bytes_(std::exchange(other.mapping_bytes_, 0)) {}

MmapPageAllocator& MmapPageAllocator::operator=(MmapPageAllocator&& other) noexcept {
  if (this != &other) {
    MmapPageAllocator old(std::move(*this));
    config_ = other.config_;
    state_ = std::exchange(other.state_, {});
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
  }
  return *this;
}

Result<Allocation> MmapPageAllocator::allocate(std::uint32_t initial_pages,
                                               std::optional<std::uint32_t> maximum_pages) {
  const auto plan =
      detail::plan_allocate(state_, initial_pages, maximum_pages, config_.maximum_pages);
  if (!plan) return tl::unexpected(plan.error());
  const auto bytes = mapping_bytes(plan->reserved_bytes, config_.guard_bytes);
  if (!bytes) return tl::unexpected(bytes.error());

  const auto mapping = prim::reserve(*bytes);
  if (!mapping) return tl::unexpected(mapping.error());
  std::byte* const base = align_up_to_wasm_page(*mapping);
  const detail::LinearMemoryState grown{base, initial_pages, plan->reserved_pages};
  if (initial_pages > 0) {
    if (auto committed = prim::commit(base, grown.committed_bytes()); !committed) {
      // Undo the reservation so that the failed call leaves nothing behind.
      (void)prim::release(*mapping, *bytes);
      return tl::unexpected(committed.error());
    }
  }
  state_ = grown;
  mapping_ = *mapping;
  mapping_bytes_ = *bytes;
  return Allocation{state_.base, state_.committed_bytes()};
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
  return {};
}

Result<void> MmapPageAllocator::deallocate(std::byte* ptr, std::size_t size) {
  if (auto valid = detail::check_deallocate(state_, ptr, size); !valid)
    return tl::unexpected(valid.error());
  if (auto released = prim::release(mapping_, mapping_bytes_); !released)
    return tl::unexpected(released.error());
  state_ = {};
  mapping_ = nullptr;
  mapping_bytes_ = 0;
  return {};
}

}  // namespace wrt::platform
