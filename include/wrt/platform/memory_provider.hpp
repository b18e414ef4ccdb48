// PalMemoryProvider<A>: bounds-checked access to one WebAssembly linear
// memory owned by a page allocator (any PageAllocator backend).
//
// Every access is all-or-nothing: when `offset + size` exceeds capacity()
// (computed without overflow) the call returns OutOfBounds and not a byte is
// touched. The provider is move-only; a moved-from provider has capacity 0,
// so every non-empty access to it is OutOfBounds and grow() is NotAllocated.
// Like the allocator, mutating calls need exclusive access; the memory itself
// may be shared between threads (use atomic_u32() for words several threads
// touch). See docs/SPEC.md (P1-P4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

#include "wrt/platform/detail/bounds.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform {

template <PageAllocator A>
class PalMemoryProvider {
 public:
  // Takes ownership of `allocator` and allocates `initial_pages`, reserving
  // `maximum_pages` (nullopt: the allocator's limit). Returns the allocator's
  // error unchanged (InvalidArgument, CapacityExceeded, AlreadyAllocated,
  // OutOfMemory, SystemError); the allocator is then destroyed.
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
  // Committed WebAssembly pages (capacity() / kWasmPageSize).
  std::uint32_t pages() const noexcept { return allocator_.committed_pages(); }
  // Start of the memory; stable across grow(). Null only when moved from.
  std::byte* data() const noexcept { return allocator_.base(); }
  const A& allocator() const noexcept { return allocator_; }

  // Copies `bytes` to [offset, offset + bytes.size()). `bytes` may lie inside
  // this memory (overlap is allowed). Error: OutOfBounds, nothing written.
  Result<void> write(std::size_t offset, std::span<const std::byte> bytes) noexcept {
    if (!in_bounds(offset, bytes.size()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "PalMemoryProvider::write: offset + size past capacity"));
    if (!bytes.empty()) std::memmove(data() + offset, bytes.data(), bytes.size());
    return {};
  }

  // Copies [offset, offset + bytes.size()) into `bytes`. Error: OutOfBounds,
  // and `bytes` is left untouched.
  Result<void> read(std::size_t offset, std::span<std::byte> bytes) const noexcept {
    if (!in_bounds(offset, bytes.size()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "PalMemoryProvider::read: offset + size past capacity"));
    if (!bytes.empty()) std::memmove(bytes.data(), data() + offset, bytes.size());
    return {};
  }

  // WebAssembly memory.grow: commits `additional_pages` (zero-filled) and
  // returns the page count before the call; earlier bytes and data() stay.
  // grow(0) returns pages() and changes nothing. Errors are the allocator's
  // (CapacityExceeded past the maximum, OutOfMemory, SystemError); on error
  // nothing changes.
  Result<std::uint32_t> grow(std::uint32_t additional_pages) {
    const std::uint32_t previous = pages();
    if (auto grown = allocator_.grow(previous, additional_pages); !grown)
      return tl::unexpected(grown.error());
    return previous;
  }

  // The 32-bit word at `offset`, for std::atomic_ref<std::uint32_t> and
  // wait_on_address/wake_address. Errors: Misaligned unless offset % 4 == 0
  // (checked first), then OutOfBounds unless offset + 4 <= capacity(). The
  // pointer stays valid until the provider is destroyed or moved from.
  Result<std::uint32_t*> atomic_u32(std::size_t offset) const noexcept {
    if (offset % sizeof(std::uint32_t) != 0)
      return tl::unexpected(
          Error(ErrorCode::Misaligned, "PalMemoryProvider::atomic_u32: offset not 4-byte aligned"));
    if (!in_bounds(offset, sizeof(std::uint32_t)))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "PalMemoryProvider::atomic_u32: offset + 4 past capacity"));
    // data() is kWasmPageSize-aligned, so data() + offset is 4-byte aligned.
    return reinterpret_cast<std::uint32_t*>(data() + offset);
  }

 private:
  explicit PalMemoryProvider(A allocator) noexcept : allocator_(std::move(allocator)) {}

  // offset + size <= capacity(), without wrapping (the check LinearMemory uses too).
  bool in_bounds(std::size_t offset, std::size_t size) const noexcept {
    return detail::range_in_bounds(offset, size, capacity());
  }

  A allocator_;
};

}  // namespace wrt::platform
