// The page allocator's decisions, free of OS calls: argument checks, the
// order in which errors are reported, and overflow-checked page/byte
// arithmetic. Both backends call these, so they agree by construction, and
// tests and fuzzers check them directly on every host.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform::detail {

constexpr std::optional<std::size_t> checked_add(std::size_t a, std::size_t b) noexcept {
  std::size_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

constexpr std::optional<std::size_t> pages_to_bytes(std::uint64_t pages) noexcept {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(pages, kWasmPageSize, &bytes)) return std::nullopt;
  return bytes;
}

// Rounds `value` up to a multiple of `alignment` (a power of two).
constexpr std::optional<std::size_t> round_up(std::size_t value, std::size_t alignment) noexcept {
  const auto bumped = checked_add(value, alignment - 1);
  if (!bumped) return std::nullopt;
  return *bumped & ~(alignment - 1);
}

// What allocate() will reserve and commit.
struct Reservation {
  std::uint32_t initial_pages;
  std::uint32_t reserved_pages;
  std::size_t reserved_bytes;
};

// Checks allocate(initial_pages, maximum_pages) against an allocator whose
// page limit is `limit_pages` (clauses A3-A6).
constexpr Result<Reservation> plan_allocate(const LinearMemoryState& state,
                                            std::uint32_t initial_pages,
                                            std::optional<std::uint32_t> maximum_pages,
                                            std::uint32_t limit_pages) noexcept {
  if (state.allocated())
    return tl::unexpected(Error(ErrorCode::AlreadyAllocated, "allocate: already allocated"));
  if (maximum_pages && *maximum_pages < initial_pages)
    return tl::unexpected(
        Error(ErrorCode::InvalidArgument, "allocate: maximum_pages is less than initial_pages"));
  const std::uint32_t reserved_pages = maximum_pages.value_or(limit_pages);
  if (reserved_pages > limit_pages || initial_pages > limit_pages)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "allocate: pages exceed the allocator's maximum_pages"));
  const auto reserved_bytes = pages_to_bytes(reserved_pages);
#if SIZE_MAX < UINT64_MAX
  // Only where size_t is narrower than 64 bits can a 32-bit page count overflow it.
  if (!reserved_bytes)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "allocate: reservation size overflows size_t"));
#else
  static_assert(pages_to_bytes(UINT32_MAX).has_value());
#endif
  return Reservation{initial_pages, reserved_pages, *reserved_bytes};
}

// What the mmap backend's mapping length is a multiple of: 2 MiB, the huge
// page of x86-64 and 4 KiB-page arm64. Linux (6.7 on) places an anonymous
// mapping whose length is such a multiple at a 2 MiB-aligned address, so
// base is the mapping's start and the first commit splits the mapping in two
// areas, not three (an area more costs ~20% of an allocate(1)+deallocate:
// docs/BENCHMARKS.md). Where size_t has 32 bits the address space is scarce
// and Linux does not align, so the length is not rounded there.
inline constexpr std::size_t kMappingGranule =
    sizeof(std::size_t) >= 8 ? std::size_t{2} << 20 : std::size_t{1};

// Where a memory's pieces lie, from base: the reservation (the maximum, or
// more with a reservation floor: T5), the guard rounded up to the OS page
// after it, and in the OS mapping at least kWasmPageSize of slack so that a
// kWasmPageSize-aligned base fits inside wherever the OS puts the mapping
// (it only promises its own page), the length rounded up to kMappingGranule.
struct MappingLayout {
  std::size_t reservation_bytes;
  std::size_t guarded_bytes;  // reservation and guard
  std::size_t mapping_bytes;
};

// The layout of a memory of `maximum_bytes` with `config`'s reservation floor
// and guard on an OS whose page is `os_page` (a power of two), or nothing
// when a size wraps size_t (A5).
constexpr std::optional<MappingLayout> plan_mapping(std::size_t maximum_bytes,
                                                    std::size_t reservation_floor,
                                                    std::size_t guard_bytes,
                                                    std::size_t os_page) noexcept {
  const auto floor = round_up(reservation_floor, kWasmPageSize);
  const auto reservation = floor ? std::max(maximum_bytes, *floor) : maximum_bytes;
  const auto guard = round_up(guard_bytes, os_page);
  const auto with_guard = guard ? checked_add(reservation, *guard) : std::nullopt;
  const auto with_slack = with_guard ? checked_add(*with_guard, kWasmPageSize) : std::nullopt;
  const auto total = with_slack ? round_up(*with_slack, kMappingGranule) : std::nullopt;
  if (!floor || !total) return std::nullopt;
  return MappingLayout{reservation, *with_guard, *total};
}

// How far base lies from the start of a mapping at `mapping`: to the first
// kWasmPageSize-aligned address, 0 when the OS aligned the mapping itself.
// Less than kWasmPageSize, so base + guarded_bytes stays inside the mapping.
constexpr std::size_t base_offset(std::uintptr_t mapping) noexcept {
  return (kWasmPageSize - mapping % kWasmPageSize) % kWasmPageSize;
}

// Checks grow(current_pages, additional_pages) and returns the new page count
// (clauses A7-A9).
constexpr Result<std::uint32_t> plan_grow(const LinearMemoryState& state,
                                          std::uint32_t current_pages,
                                          std::uint32_t additional_pages) noexcept {
  if (!state.allocated())
    return tl::unexpected(Error(ErrorCode::NotAllocated, "grow: not allocated"));
  if (current_pages != state.committed_pages)
    return tl::unexpected(
        Error(ErrorCode::StateMismatch, "grow: current_pages differs from the committed pages"));
  std::uint32_t new_pages = 0;
  if (__builtin_add_overflow(current_pages, additional_pages, &new_pages))
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "grow: current_pages + additional_pages overflows"));
  if (new_pages > state.reserved_pages)
    return tl::unexpected(Error(ErrorCode::CapacityExceeded, "grow: past the reservation"));
  return new_pages;
}

// Checks deallocate(ptr, size) (clause A11).
constexpr Result<void> check_deallocate(const LinearMemoryState& state, const std::byte* ptr,
                                        std::size_t size) noexcept {
  if (!state.allocated())
    return tl::unexpected(Error(ErrorCode::NotAllocated, "deallocate: not allocated"));
  if (ptr != state.base || size != state.committed_bytes())
    return tl::unexpected(
        Error(ErrorCode::PointerMismatch, "deallocate: ptr/size differ from base/committed bytes"));
  return {};
}

}  // namespace wrt::platform::detail
