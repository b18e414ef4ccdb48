// A WebAssembly 3.0 memory type (memory64, custom page sizes) and the one
// bounds-check elision predicate that a code generator and the allocators'
// reservation sizing share (docs/SPEC.md, E1, E2, S3). Small and free of OS
// headers so that both LinearMemory and the allocator side can include it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform {

// The index type of a memory: 32-bit addresses (Wasm 1.0/2.0) or 64-bit
// addresses (memory64, standard in Wasm 3.0).
enum class IndexType { I32, I64 };

// A memory's declared type: limits in its own pages, whether it is shared
// (the threads proposal; a shared memory must declare a maximum), its index
// type and its page size (the custom-page-sizes proposal: 1 or 65536 bytes).
struct MemoryType {
  std::uint64_t initial_pages = 0;
  std::optional<std::uint64_t> maximum_pages;
  bool shared = false;
  IndexType index = IndexType::I32;
  std::uint32_t page_size = kWasmPageSize;
};

// A 128-bit SIMD value (v128.load / v128.store): its 16 bytes in memory
// order, so lane k of an i32x4 is bytes[4k .. 4k + 3], little-endian.
struct V128 {
  std::byte bytes[16];
  friend constexpr bool operator==(const V128&, const V128&) = default;
};

// The most pages a memory of this index type and page size may ever have
// (E1): an I32 memory's byte length never exceeds 2^32 (with 1-byte pages
// 2^32 - 1, since memory.grow returns -1 for failure); an I64 memory's does
// not exceed 2^64 (2^48 pages of 64 KiB, or 2^64 - 1 one-byte pages).
// `page_size` must be 1 or kWasmPageSize.
constexpr std::uint64_t page_limit(IndexType index, std::uint32_t page_size) noexcept {
  const bool small = page_size == 1;
  if (index == IndexType::I32) return small ? UINT32_MAX : 65536;
  return small ? std::numeric_limits<std::uint64_t>::max() : std::uint64_t{1} << 48;
}

// E2, S3: true exactly when a code generator may drop the bounds check of
// an access of `width` bytes at a constant `offset` from any index of a
// memory of type `type`, because every byte it can touch lies in the
// memory's own reservation plus guard (`reservation_plus_guard_bytes` from
// its base): 2^32 - 1 + offset + width <= reservation_plus_guard_bytes,
// computed without overflow. Always false for I64 memories (their index
// alone can leave any reservation) and for 1-byte pages (their byte length
// is not a multiple of the OS page, so the bytes past it are committed).
// The allocators' elides_bounds_checks() is this predicate at the largest
// offset and width an I32 access has (2^32 - 1 and 16).
constexpr bool elides_bounds_check(const MemoryType& type,
                                   std::uint64_t reservation_plus_guard_bytes, std::uint64_t offset,
                                   std::uint32_t width) noexcept {
  if (type.index != IndexType::I32 || type.page_size != kWasmPageSize) return false;
  constexpr std::uint64_t kLargestIndex = UINT32_MAX;
  const std::uint64_t reach = kLargestIndex + width;  // cannot overflow
  return offset <= reservation_plus_guard_bytes && reach <= reservation_plus_guard_bytes - offset;
}

}  // namespace wrt::platform
