// The page allocator's decisions, free of OS calls: argument checks, the
// order in which errors are reported, and overflow-checked page/byte
// arithmetic. Both backends call these, so they agree by construction, and
// tests and fuzzers check them directly on every host.
#pragma once

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
