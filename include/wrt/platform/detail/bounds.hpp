// The one bounds check of wrt-platform: "an access of `size` bytes at
// `address` lies within `length` bytes". Shared by PalMemoryProvider (P2,
// P4) and LinearMemory (W4, read/write). Internal, but installed because
// the public templates use it.
#pragma once

#include <cstdint>

namespace wrt::platform::detail {

// address + size <= length, without computing address + size: any 64-bit
// address a guest can form (up to UINT64_MAX) and any size are answered
// correctly, never wrapped to a small in-bounds address.
constexpr bool range_in_bounds(std::uint64_t address, std::uint64_t size,
                               std::uint64_t length) noexcept {
  return address <= length && size <= length - address;
}

}  // namespace wrt::platform::detail
