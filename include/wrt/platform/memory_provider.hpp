// PalMemoryProvider<A>: bounds-checked access to a linear memory owned by a
// page allocator. Every access is all-or-nothing: out of bounds (computed
// without overflow) means OutOfBounds and not a byte touched.
// See docs/SPEC.md (P1-P4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform {

template <PageAllocator A>
class PalMemoryProvider {
 public:
  // Takes ownership of `allocator` and allocates `initial_pages` with the
  // given maximum; forwards the allocator's error.
  static Result<PalMemoryProvider> create(A allocator, std::uint32_t initial_pages,
                                          std::optional<std::uint32_t> maximum_pages) {
    auto memory = allocator.allocate(initial_pages, maximum_pages);
    if (!memory) return tl::unexpected(memory.error());
    return PalMemoryProvider(std::move(allocator));
  }

  PalMemoryProvider(PalMemoryProvider&&) noexcept = default;
  PalMemoryProvider& operator=(PalMemoryProvider&&) noexcept = default;
  PalMemoryProvider(const PalMemoryProvider&) = delete;
  PalMemoryProvider& operator=(const PalMemoryProvider&) = delete;

  // Committed bytes: the bytes read() and write() may touch.
  std::size_t capacity() const noexcept { return allocator_.committed_bytes(); }
  std::uint32_t pages() const noexcept { return allocator_.committed_pages(); }
  std::byte* data() const noexcept { return allocator_.base(); }
  const A& allocator() const noexcept { return allocator_; }

  Result<void> write(std::size_t offset, std::span<const std::byte> bytes) {
    if (!in_bounds(offset, bytes.size()))
      return tl::unexpected(Error(ErrorCode::OutOfBounds, "PalMemoryProvider::write: out of bounds"));
    if (!bytes.empty()) std::memcpy(data() + offset, bytes.data(), bytes.size());
    return {};
  }

  Result<void> read(std::size_t offset, std::span<std::byte> bytes) const {
    if (!in_bounds(offset, bytes.size()))
      return tl::unexpected(Error(ErrorCode::OutOfBounds, "PalMemoryProvider::read: out of bounds"));
    if (!bytes.empty()) std::memcpy(bytes.data(), data() + offset, bytes.size());
    return {};
  }

  // memory.grow: commits `additional_pages` and returns the page count
  // before the call; on error nothing changes.
  Result<std::uint32_t> grow(std::uint32_t additional_pages) {
    const std::uint32_t previous = pages();
    auto grown = allocator_.grow(previous, additional_pages);
    if (!grown) return tl::unexpected(grown.error());
    return previous;
  }

  // The word at `offset`, for std::atomic_ref and wait_on_address/wake_address.
  Result<std::uint32_t*> atomic_u32(std::size_t offset) const {
    if (offset % alignof(std::uint32_t) != 0)
      return tl::unexpected(
          Error(ErrorCode::Misaligned, "PalMemoryProvider::atomic_u32: offset not 4-byte aligned"));
    if (!in_bounds(offset, sizeof(std::uint32_t)))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "PalMemoryProvider::atomic_u32: out of bounds"));
    return reinterpret_cast<std::uint32_t*>(data() + offset);
  }

 private:
  explicit PalMemoryProvider(A allocator) noexcept : allocator_(std::move(allocator)) {}

  // offset + size <= capacity, written so that it cannot overflow.
  bool in_bounds(std::size_t offset, std::size_t size) const noexcept {
    return offset <= capacity() && size <= capacity() - offset;
  }

  A allocator_;
};

}  // namespace wrt::platform
