// What every page allocator backend provides: one WebAssembly linear memory
// per allocator instance, reserved up front and committed page by page.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "wrt/platform/error.hpp"

namespace wrt::platform {

// Bytes in one WebAssembly page.
inline constexpr std::size_t kWasmPageSize = 65536;

// A memory handed out by allocate(): `committed_bytes` bytes from `base` are
// readable, writable and were zero when committed.
struct Allocation {
  std::byte* base;
  std::size_t committed_bytes;
};

struct PageAllocatorConfig {
  // The most pages any one memory of this allocator may reserve; also the
  // reservation of a memory declared without a maximum (clause A4).
  std::uint32_t maximum_pages = 65536;
  // Inaccessible bytes placed directly after the reservation, rounded up to
  // the OS page size. Backends without an MMU ignore it.
  std::size_t guard_bytes = 0;
  // MmapPageAllocator reserves at least this many bytes from `base`, rounded
  // up to kWasmPageSize, whatever the memory's maximum (clause T5); pages past
  // the maximum are never committed. 4 GiB here plus a guard of 4 GiB and one
  // OS page puts every byte of every 32-bit access (index plus offset, up to
  // 16 bytes wide) inside the reservation or guard: elides_bounds_checks().
  // Backends without an MMU ignore it.
  std::size_t reservation_bytes = 0;
};

// The page allocator contract (docs/SPEC.md, section A). Mutating calls need
// exclusive access; observers are const and noexcept; allocators move but do
// not copy.
template <typename A>
concept PageAllocator =
    std::movable<A> && !std::copy_constructible<A> &&
    requires(A & a, const A& c, std::uint32_t pages, std::optional<std::uint32_t> maximum,
             std::byte* ptr, std::size_t size) {
  { a.allocate(pages, maximum) } -> std::same_as<Result<Allocation>>;
  { a.grow(pages, pages) } -> std::same_as<Result<void>>;
  { a.deallocate(ptr, size) } -> std::same_as<Result<void>>;
  { c.base() }
  noexcept->std::same_as<std::byte*>;
  { c.committed_pages() }
  noexcept->std::same_as<std::uint32_t>;
  { c.committed_bytes() }
  noexcept->std::same_as<std::size_t>;
  { c.reserved_bytes() }
  noexcept->std::same_as<std::size_t>;
  { c.is_allocated() }
  noexcept->std::same_as<bool>;
};

namespace detail {

// The bookkeeping both backends share: where the memory is and how much of
// its reservation is committed. A default-constructed state is "not allocated".
struct LinearMemoryState {
  std::byte* base = nullptr;
  std::uint32_t committed_pages = 0;
  std::uint32_t reserved_pages = 0;

  constexpr bool allocated() const noexcept { return base != nullptr; }
  constexpr std::size_t committed_bytes() const noexcept {
    return std::size_t{committed_pages} * kWasmPageSize;
  }
  constexpr std::size_t reserved_bytes() const noexcept {
    return std::size_t{reserved_pages} * kWasmPageSize;
  }
};

}  // namespace detail
}  // namespace wrt::platform
