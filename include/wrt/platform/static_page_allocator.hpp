// StaticPageAllocator: a linear memory inside a caller-supplied buffer, for
// targets without an MMU. It never calls the OS; it zeroes pages as it commits
// them. Everything in docs/SPEC.md section A holds except A10 (no guard pages
// without an MMU). Under AddressSanitizer the uncommitted and released parts
// of the buffer are poisoned, so a stray access is reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform {

class StaticPageAllocator {
 public:
  // `buffer` must be non-null and non-empty (InvalidArgument), aligned to
  // kWasmPageSize (Misaligned) and hold whole pages (InvalidArgument). The
  // allocator's page limit is min(config.maximum_pages, buffer pages); the
  // buffer must outlive the allocator.
  static Result<StaticPageAllocator> create(std::span<std::byte> buffer,
                                            PageAllocatorConfig config = {});
  ~StaticPageAllocator();

  // A moved-from allocator holds no buffer and no memory; allocate() on it
  // fails with CapacityExceeded.
  StaticPageAllocator(StaticPageAllocator&& other) noexcept;
  StaticPageAllocator& operator=(StaticPageAllocator&& other) noexcept;
  StaticPageAllocator(const StaticPageAllocator&) = delete;
  StaticPageAllocator& operator=(const StaticPageAllocator&) = delete;

  // Same contract as MmapPageAllocator; the memory starts at the buffer start.
  Result<Allocation> allocate(std::uint32_t initial_pages,
                              std::optional<std::uint32_t> maximum_pages = std::nullopt);
  Result<void> grow(std::uint32_t current_pages, std::uint32_t additional_pages);
  Result<void> deallocate(std::byte* ptr, std::size_t size);

  std::byte* base() const noexcept { return state_.base; }
  std::uint32_t committed_pages() const noexcept { return state_.committed_pages; }
  std::size_t committed_bytes() const noexcept { return state_.committed_bytes(); }
  std::size_t reserved_bytes() const noexcept { return state_.reserved_bytes(); }
  bool is_allocated() const noexcept { return state_.allocated(); }
  const PageAllocatorConfig& config() const noexcept { return config_; }

 private:
  StaticPageAllocator(std::span<std::byte> buffer, PageAllocatorConfig config) noexcept;

  std::span<std::byte> buffer_;
  PageAllocatorConfig config_;
  detail::LinearMemoryState state_;
};

static_assert(PageAllocator<StaticPageAllocator>);

}  // namespace wrt::platform
