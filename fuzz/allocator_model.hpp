// The reference model the allocator harnesses check the library against:
// the outcome docs/SPEC.md (A3-A9, A11) prescribes for each call, written
// from the contract with 128-bit arithmetic and independently of
// src/allocator/page_policy.hpp, so that a slip in the shared policy code shows up as
// a disagreement instead of being copied into the expectation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform::fuzz {

// __extension__: -Wpedantic accepts the 128-bit type only when asked nicely.
__extension__ typedef unsigned __int128 u128;

inline constexpr u128 kSizeMax = static_cast<u128>(SIZE_MAX);

// What the allocator should look like from outside (A14 observers).
struct ModelState {
  bool allocated = false;
  std::byte* base = nullptr;
  std::uint32_t committed_pages = 0;
  std::uint32_t reserved_pages = 0;

  std::size_t committed_bytes() const { return std::size_t{committed_pages} * kWasmPageSize; }
  std::size_t reserved_bytes() const { return std::size_t{reserved_pages} * kWasmPageSize; }
};

// allocate(initial_pages, maximum_pages) on an allocator whose page limit is
// `limit_pages`: the error the contract requires, or nullopt when the call
// must reserve `maximum_pages.value_or(limit_pages)` pages.
inline std::optional<ErrorCode> expected_allocate_error(bool allocated, std::uint32_t initial_pages,
                                                        std::optional<std::uint32_t> maximum_pages,
                                                        std::uint32_t limit_pages) {
  if (allocated) return ErrorCode::AlreadyAllocated;                                       // A6
  if (maximum_pages && *maximum_pages < initial_pages) return ErrorCode::InvalidArgument;  // A3
  const std::uint32_t reserved = maximum_pages ? *maximum_pages : limit_pages;             // A4
  if (reserved > limit_pages || initial_pages > limit_pages) return ErrorCode::CapacityExceeded;
  if (u128{reserved} * kWasmPageSize > kSizeMax) return ErrorCode::CapacityExceeded;  // A5
  return std::nullopt;
}

// grow(current_pages, additional_pages): the error, or nullopt when the
// memory must end up with current_pages + additional_pages pages.
inline std::optional<ErrorCode> expected_grow_error(const ModelState& state,
                                                    std::uint32_t current_pages,
                                                    std::uint32_t additional_pages) {
  if (!state.allocated) return ErrorCode::NotAllocated;                          // A8
  if (current_pages != state.committed_pages) return ErrorCode::StateMismatch;   // A7
  const std::uint64_t wanted = std::uint64_t{current_pages} + additional_pages;  // A9
  if (wanted > UINT32_MAX || wanted > state.reserved_pages) return ErrorCode::CapacityExceeded;
  return std::nullopt;
}

// deallocate(ptr, size) (A11).
inline std::optional<ErrorCode> expected_deallocate_error(const ModelState& state,
                                                          const std::byte* ptr, std::size_t size) {
  if (!state.allocated) return ErrorCode::NotAllocated;
  if (ptr != state.base || size != state.committed_bytes()) return ErrorCode::PointerMismatch;
  return std::nullopt;
}

// The bytes of a linear memory, kept sparsely: what the program wrote is
// remembered; everything else committed must read as zero. `ever_written`
// outlives a deallocation, so that a page committed again over a reused
// buffer is checked exactly where stale data would sit.
class ByteModel {
 public:
  void write(std::size_t offset, std::uint8_t value) {
    current_[offset] = value;
    ever_written_.insert(offset);
  }
  std::uint8_t at(std::size_t offset) const {
    const auto it = current_.find(offset);
    return it == current_.end() ? 0 : it->second;
  }
  // Forgets the contents (the memory was released); keeps the history.
  void clear() { current_.clear(); }
  const std::map<std::size_t, std::uint8_t>& current() const { return current_; }
  const std::set<std::size_t>& ever_written() const { return ever_written_; }

 private:
  std::map<std::size_t, std::uint8_t> current_;
  std::set<std::size_t> ever_written_;
};

}  // namespace wrt::platform::fuzz
