// When a runtime may drop its bounds checks: the one rule, shared by the
// allocators' elides_bounds_checks() (docs/SPEC.md S3) and, later, a code
// generator's per-access question (E2). Pure arithmetic, usable at compile time.
#pragma once

#include <cstdint>

namespace wrt::platform {

// The largest value a 32-bit memory's index operand, or its static offset, can hold.
inline constexpr std::uint64_t kMaxIndex32 = 0xFFFF'FFFF;
// The widest access an instruction makes (v128): 16 bytes.
inline constexpr std::uint32_t kMaxAccessWidth = 16;

// True when every byte of every access of `width` bytes at a 32-bit index
// plus `offset` lands within `reservation_plus_guard_bytes` of the memory's
// base: kMaxIndex32 + offset + width <= reservation_plus_guard_bytes,
// computed without overflow for any 64-bit offset. Every such byte is then
// either accessible memory or a byte that faults in this memory's own range,
// so an unchecked access can neither succeed out of bounds nor reach another
// memory, even when a runtime splits it into narrower accesses.
constexpr bool covers_every_access(std::uint64_t reservation_plus_guard_bytes, std::uint64_t offset,
                                   std::uint32_t width) noexcept {
  return offset <= reservation_plus_guard_bytes &&
         kMaxIndex32 + std::uint64_t{width} <= reservation_plus_guard_bytes - offset;
}

// S3: true when a memory with this reservation plus guard may drop every
// bounds check: covers_every_access() at the largest offset and width, that
// is reservation_plus_guard_bytes >= 2^33 + 14. A 4 GiB reservation needs a
// guard of 4 GiB plus one OS page; 4 GiB + 4 GiB is not enough.
constexpr bool elides_bounds_checks(std::uint64_t reservation_plus_guard_bytes) noexcept {
  return covers_every_access(reservation_plus_guard_bytes, kMaxIndex32, kMaxAccessWidth);
}

}  // namespace wrt::platform
